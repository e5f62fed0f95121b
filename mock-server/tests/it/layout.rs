//! The crate's layout rules, checked on its sources: the modules form layers (no import circle:
//! a module may use one below it, never one above), no source file is over 600 lines, and only
//! binary code (`src/bin/`) names clap.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn is_binary(path: &Path) -> bool {
    let rel = path.strip_prefix(src()).unwrap();
    rel.starts_with("bin") || rel == Path::new("main.rs")
}

/// The top-level module a library file belongs to (`http/entry.rs` → `http`), `None` for lib.rs.
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_owned();
    (name != "lib").then_some(name)
}

/// The top-level modules a source text refers to as `crate::<module>` (comments left out).
fn uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name.chars().next().unwrap().is_ascii_lowercase() {
                out.insert(name);
            }
        }
        // `use crate::{a::X, b::Y}`
        if let Some(at) = code.find("crate::{") {
            for part in code[at + 8..].split([',', '}']) {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name.chars().next().unwrap().is_ascii_lowercase() {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// The module graph: module → the other top-level modules it uses.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in rust_files(&src()) {
        if is_binary(&f) {
            continue;
        }
        let Some(m) = module_of(&f) else { continue };
        let text = std::fs::read_to_string(&f).unwrap();
        let entry = g.entry(m.clone()).or_default();
        for u in uses(&text) {
            if u != m {
                entry.insert(u);
            }
        }
    }
    g
}

/// A circle in `g`, if there is one, as the modules along it.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(1) => {
                let at = path.iter().position(|p| p == n).unwrap();
                let mut c = path[at..].to_vec();
                c.push(n.to_owned());
                return Some(c);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(n.to_owned(), 1);
        path.push(n.to_owned());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_modules_form_layers_with_no_import_circle() {
    let g = graph();
    assert!(g.len() > 5, "the scan found the modules: {g:?}");
    if let Some(c) = find_cycle(&g) {
        panic!("import circle: {}\n(module graph: {g:#?})", c.join(" -> "));
    }
}

#[test]
fn the_circle_check_finds_a_circle() {
    let mut g = graph();
    // Make the lowest layer use the highest: that must be a circle.
    g.entry("error".into()).or_default().insert("mock".into());
    assert!(find_cycle(&g).is_some());
}

#[test]
fn no_source_file_is_over_600_lines() {
    let long: Vec<String> = rust_files(&src())
        .into_iter()
        .map(|f| (std::fs::read_to_string(&f).unwrap().lines().count(), f))
        .filter(|(n, _)| *n > MAX_LINES)
        .map(|(n, f)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:#?}");
}

#[test]
fn clap_appears_only_in_binary_code() {
    let offenders: Vec<String> = rust_files(&src())
        .into_iter()
        .filter(|f| !is_binary(f))
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .any(|l| l.split("//").next().unwrap_or("").contains("clap"))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "clap in library code: {offenders:?}");
}
