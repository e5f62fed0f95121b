//! Embeds `fixtures/calls/*.json` (generated), `fixtures/handmade/calls/*.json` (hand-made edge
//! cases) and `fixtures/errors/*.json` into the binary, so the mock starts with zero configuration
//! from any directory. Generates `embedded.rs`: three sorted slices of (file name, bytes), each an
//! `include_bytes!` of the file, and reruns when the folders change.
//!
//! With the `validate` feature (on by default), every embedded call is checked here, at build time, with the same contract checks the server
//! runs on a `--fixtures` folder (schema, lossless decoding, invariants): a bad file fails the build
//! with its path and the place that is wrong, so no binary can hold one. The server then loads the
//! embedded set without compiling the JSON Schema at start-up (faster first answer, less memory).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

#[cfg(feature = "validate")]
use synthflow::contract::{check_call_body, CheckOptions};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    // `mock-server/fixtures` is a symlink to the top-level `fixtures/` (the folder users edit), so
    // the published package holds the fixtures it embeds (cargo package follows the link).
    let fixtures = manifest.join("fixtures");
    let mut out = String::from(
        "/// An embedded call: file name, bytes, status, end reason.\n\
         pub type CallRow = (&'static str, &'static [u8], Option<&'static str>, Option<&'static str>);\n",
    );
    let mut problems = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for (name, sub) in [
        ("CALLS", "calls"),
        ("HANDMADE_CALLS", "handmade/calls"),
        ("ERRORS", "errors"),
    ] {
        let dir = fixtures.join(sub);
        println!("cargo:rerun-if-changed={}", dir.display());
        // Calls: (file name, bytes, status, end reason): the two fields listings show, read here
        // so that a start on the embedded set decodes no JSON (fewer pages of code touched).
        let row = if sub == "errors" {
            "(&str, &[u8])"
        } else {
            "CallRow"
        };
        out.push_str(&format!("pub static {name}: &[{row}] = &[\n"));
        for file in json_files(&dir) {
            let file_name = file.file_name().unwrap().to_string_lossy().into_owned();
            println!("cargo:rerun-if-changed={}", file.display());
            let bytes = fs::read(&file).unwrap();
            if sub == "errors" {
                if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                    problems.push(format!("{}: not valid JSON: {e}", file.display()));
                }
            } else {
                let id = file_name.trim_end_matches(".json").to_owned();
                problems.extend(
                    check(&bytes, &id)
                        .into_iter()
                        .map(|p| format!("{}: {p}", file.display())),
                );
                if let Some(first) = seen.insert(id.clone(), file.clone()) {
                    problems.push(format!(
                        "{}: call id {id} is already embedded from {}",
                        file.display(),
                        first.display()
                    ));
                }
            }
            let path = file.canonicalize().unwrap().display().to_string();
            if sub == "errors" {
                out.push_str(&format!("    ({file_name:?}, include_bytes!({path:?})),\n"));
            } else {
                let (status, end) = listed_fields(&bytes);
                out.push_str(&format!(
                    "    ({file_name:?}, include_bytes!({path:?}), {status:?}, {end:?}),\n"
                ));
            }
        }
        out.push_str("];\n");
    }
    if !problems.is_empty() {
        panic!(
            "{} problem(s) in the embedded fixtures:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    fs::write(dest, out).unwrap();
}

/// The call's `status` and `end_call_reason` (`response.calls[0]`), as the typed model reads them:
/// a string, or nothing.
fn listed_fields(bytes: &[u8]) -> (Option<String>, Option<String>) {
    let body: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let call = &body["response"]["calls"][0];
    let field = |k: &str| call.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    (field("status"), field("end_call_reason"))
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// With `validate` (on by default): the server's contract checks. Without: JSON only (a build
/// without `validate` embeds the same files, which the default build has checked).
#[cfg(feature = "validate")]
fn check(bytes: &[u8], id: &str) -> Vec<String> {
    check_call_body(bytes, Some(id), CheckOptions::default())
        .violations
        .iter()
        .map(|v| v.to_string())
        .collect()
}

#[cfg(not(feature = "validate"))]
fn check(bytes: &[u8], _id: &str) -> Vec<String> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(_) => Vec::new(),
        Err(e) => vec![format!("not valid JSON: {e}")],
    }
}
