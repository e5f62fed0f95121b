//! The crate's layout rules, checked on its sources: the modules form layers (no import circle:
//! a module may use one below it, never one above), at the top level and between the files inside
//! a module (`http::entry` -> `http::routes` -> `http::entry` is a circle too), no source file is
//! over 600 lines, and only binary code (`src/bin/`) names clap.

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

/// A library file's module path: `http/entry.rs` -> `http::entry`, `http/mod.rs` -> `http`,
/// `lib.rs` -> the crate root (empty).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The module-like paths after `at` in `code`: `a::b::Item` -> [a, b]; `{a::X, b::{c, D}}` ->
/// [a], [b, c], [b] (lower-case segments only: a type or a function ends a path).
fn paths_at(code: &str) -> Vec<Vec<String>> {
    let ident = |s: &str| -> usize {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let mut segs = Vec::new();
    let mut rest = code;
    loop {
        let n = ident(rest);
        let name = &rest[..n];
        if n == 0 || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            break;
        }
        segs.push(name.to_owned());
        rest = &rest[n..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => return vec![segs],
        }
    }
    let Some(group) = rest.strip_prefix('{') else {
        return vec![segs];
    };
    // The brace group, split at its top-level commas.
    let (mut depth, mut start, mut out) = (0usize, 0usize, vec![segs.clone()]);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                for p in paths_at(group[start..i].trim()) {
                    out.push(segs.iter().cloned().chain(p).collect());
                }
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                for p in paths_at(group[start..i].trim()) {
                    out.push(segs.iter().cloned().chain(p).collect());
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

/// The module paths a file at `here` refers to through `crate::` and `super::` (comments left
/// out), made absolute.
fn references(text: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (at, _) in code
            .match_indices("crate::")
            .chain(code.match_indices("super::"))
        {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue; // `super::super::x` is read from its first `super`; `$crate` is fine.
            }
            let mut rest = &code[at..];
            // For a file `a/b.rs`, `super` is `a`; for `a/b/mod.rs` (module `a::b`), also `a`.
            let mut base: Vec<String> = here.to_vec();
            if let Some(r) = rest.strip_prefix("crate::") {
                base.clear();
                rest = r;
            }
            while let Some(r) = rest.strip_prefix("super::") {
                base.pop();
                rest = r;
            }
            for p in paths_at(rest) {
                out.push(base.iter().cloned().chain(p).collect());
            }
        }
    }
    out
}

/// The file-level module graph of `files` (path under `src/`, text): each module -> the modules it
/// uses, where neither is inside the other (a parent re-exporting its children, or a child using
/// its parent's items, is not a layer crossing). A path names the deepest module it reaches.
fn file_graph(files: &[(PathBuf, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<Vec<String>> = files.iter().map(|(p, _)| module_path(p)).collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in files {
        let here = module_path(rel);
        if here.is_empty() {
            continue;
        }
        let edges = g.entry(here.join("::")).or_default();
        for full in references(text, &here) {
            let Some(target) = (1..=full.len())
                .rev()
                .map(|n| full[..n].to_vec())
                .find(|p| known.contains(p))
            else {
                continue;
            };
            let nested = target.starts_with(&here) || here.starts_with(&target);
            if !nested {
                edges.insert(target.join("::"));
            }
        }
    }
    g
}

/// The crate's library files, as `file_graph` takes them.
fn library_files() -> Vec<(PathBuf, String)> {
    rust_files(&src())
        .into_iter()
        .filter(|f| !is_binary(f))
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f.strip_prefix(src()).unwrap().to_path_buf(), text)
        })
        .collect()
}

#[test]
fn the_files_inside_each_module_have_no_import_circle() {
    let g = file_graph(&library_files());
    assert!(
        g.get("http::entry").is_some_and(|e| e.contains("state")),
        "the scan sees file-level edges: {g:#?}"
    );
    if let Some(c) = find_cycle(&g) {
        panic!("import circle: {}\n(file graph: {g:#?})", c.join(" -> "));
    }
}

#[test]
fn the_file_level_check_finds_an_inner_circle() {
    let planted = |entry: &str, routes: &str| {
        let files: Vec<(PathBuf, String)> = [
            ("lib.rs", "pub mod http;\nmod state;"),
            ("state.rs", ""),
            (
                "http/mod.rs",
                "mod entry;\nmod routes;\npub use entry::Entry;",
            ),
            ("http/entry.rs", entry),
            ("http/routes.rs", routes),
        ]
        .into_iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_owned()))
        .collect();
        find_cycle(&file_graph(&files))
    };
    // The circle this crate had: entry -> routes (`router`) -> entry (`fixture_hit`).
    let c = planted(
        "use crate::state::AppState;\nfn f() { super::routes::router(); }",
        "use super::{entry::fixture_hit, MockBody};",
    );
    assert_eq!(
        c.map(|c| c.join(" -> ")).as_deref(),
        Some("http::entry -> http::routes -> http::entry")
    );
    let c = planted("", "use crate::http::entry::fixture_hit; // super::routes");
    assert_eq!(c, None, "one way only: no circle");
    let c = planted(
        "use crate::{state, http::routes::router};",
        "use crate::http::entry::X;",
    );
    assert!(c.is_some(), "through `crate::{{..}}`");
    // Planted into the real graph: the shared decisions using the entry above them.
    let mut g = file_graph(&library_files());
    g.entry("http::decide".into())
        .or_default()
        .insert("http::entry".into());
    assert!(find_cycle(&g).is_some());
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
    g.entry("error".into())
        .or_default()
        .insert("mock_server".into());
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

/// The crate's top-level `pub mod`s in lib.rs (unindented lines; the modules inside `internals`
/// are not top-level), each with the `#[cfg(..)]` lines right above it (`pub(crate) mod` and plain
/// `mod` are private and left out).
fn public_modules(lib_rs: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cfgs: Vec<&str> = Vec::new();
    for line in lib_rs.lines() {
        if line.starts_with(char::is_whitespace) {
            continue;
        }
        let code = line.split("//").next().unwrap_or("").trim();
        if code.starts_with("#[cfg(") {
            cfgs.push(code);
        } else if let Some(rest) = code.strip_prefix("pub mod ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.insert(cfgs.iter().map(|c| format!("{c} ")).collect::<String>() + &name);
            cfgs.clear();
        } else if !code.is_empty() && !code.starts_with("#[") {
            cfgs.clear();
        }
    }
    out
}

#[test]
fn the_public_modules_are_mocks_tools_and_internals() {
    // The narrow API (issue 29): the test user's items at the crate root, two feature modules, and
    // one hidden module for this repository's own binary, tests, benches and fuzz targets. A new
    // `pub mod` must be a deliberate change here.
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let found = public_modules(&lib);
    let expected: BTreeSet<String> = [
        "#[cfg(feature = \"wiremock\")] mocks",
        "#[cfg(feature = \"tools\")] tools",
        "internals",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(found, expected, "lib.rs's public modules");
    // `internals` is hidden from the docs.
    assert!(
        lib.contains("#[doc(hidden)]\npub mod internals {"),
        "internals is #[doc(hidden)]"
    );
}

#[test]
fn the_public_module_scan_sees_a_new_pub_mod() {
    let found = public_modules(
        "mod a;\n#[cfg(feature = \"x\")]\npub mod b;\npub(crate) mod c;\n// pub mod d;\npub mod e {\n    pub mod f {}\n}\n",
    );
    let expected: BTreeSet<String> = ["#[cfg(feature = \"x\")] b", "e"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
}
