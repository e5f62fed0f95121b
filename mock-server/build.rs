//! Embeds `fixtures/calls/*.json` (generated), `fixtures/handmade/calls/*.json` (hand-made edge
//! cases) and `fixtures/errors/*.json` into the binary, so the mock starts with zero configuration
//! from any directory. Generates `embedded.rs`: three sorted slices of (file name, bytes), each an
//! `include_bytes!` of the file, and reruns when the folders change.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let fixtures = manifest.join("..").join("fixtures");
    let mut out = String::new();
    for (name, sub) in [
        ("CALLS", "calls"),
        ("HANDMADE_CALLS", "handmade/calls"),
        ("ERRORS", "errors"),
    ] {
        let dir = fixtures.join(sub);
        println!("cargo:rerun-if-changed={}", dir.display());
        out.push_str(&format!("pub static {name}: &[(&str, &[u8])] = &[\n"));
        for file in json_files(&dir) {
            let file_name = file.file_name().unwrap().to_string_lossy().into_owned();
            println!("cargo:rerun-if-changed={}", file.display());
            out.push_str(&format!(
                "    ({file_name:?}, include_bytes!({:?})),\n",
                file.canonicalize().unwrap().display().to_string()
            ));
        }
        out.push_str("];\n");
    }
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    fs::write(dest, out).unwrap();
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
