//! The cargo-fuzz targets run over their seed corpus (`fuzz/corpus/<target>/`) as a plain test, so
//! the stable toolchain and `cargo test --workspace` exercise the same code the fuzzer does, and
//! every crash input saved into the corpus stays a regression test.

#[path = "../../../fuzz/src/lib.rs"]
mod targets;

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn fixture_target_survives_its_corpus() {
    for (path, bytes) in corpus("fixture") {
        eprintln!("{}", path.display());
        targets::fixture(&bytes);
    }
}

#[test]
fn request_target_survives_its_corpus() {
    for (path, bytes) in corpus("request") {
        eprintln!("{}", path.display());
        targets::request(&bytes);
    }
}
