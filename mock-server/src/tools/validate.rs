//! Checking fixture files against the vendor's schema and the invariants, with the same contract
//! checks the mock runs at start-up ([`synthflow::contract::check_call_body`]); the engine of
//! `synthflow-mock validate PATH...`.
//!
//! A problem displays as one line, `FILE:POINTER: [kind] what was expected`, and the whole
//! [`Report`] serializes as one JSON object. Files are checked on every core (`rayon`), and the
//! report is in file order whatever the threads did.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use synthflow::contract::{check_call_body, json_violation, CheckOptions};

/// One problem of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file, as given or found.
    pub file: String,
    /// JSON pointer into the body (`""`: the whole body), or `line L column C` for a syntax error.
    pub pointer: String,
    /// Which check: `json`, `schema`, `out-of-spec` (`out_of_spec` in JSON), `lossless`,
    /// `invariant`, or `io`.
    pub kind: String,
    /// What was expected.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(
            f,
            "{}:{}: [{}] {}",
            self.file,
            pointer,
            self.kind.replace('_', "-"),
            self.message
        )
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Files checked.
    pub files: usize,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
    /// No problem at all.
    pub ok: bool,
}

/// Every `*.json` file under `path`, recursively, in sorted order (or `path` itself when it is not
/// a folder).
pub fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
        .min_depth(1)
    {
        let entry = entry?;
        if !entry.file_type().is_dir() && entry.path().extension().is_some_and(|x| x == "json") {
            out.push(entry.into_path());
        }
    }
    Ok(())
}

/// Checks one file.
pub fn check_file(file: &Path, opts: CheckOptions) -> Vec<Problem> {
    let name = file.display().to_string();
    let problem = |pointer: String, kind: String, message: String| Problem {
        file: name.clone(),
        pointer,
        kind,
        message,
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return vec![problem(String::new(), "io".into(), e.to_string())],
    };
    // Error bodies are not call bodies; a folder named `errors` holds them.
    if file
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "errors")
    {
        return match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(_) => Vec::new(),
            Err(e) => {
                let v = json_violation(&e);
                vec![problem(v.pointer, kind_name(&v.kind), v.message)]
            }
        };
    }
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned());
    check_call_body(&bytes, stem.as_deref(), opts)
        .violations
        .into_iter()
        .map(|v| problem(v.pointer, kind_name(&v.kind), v.message))
        .collect()
}

fn kind_name(kind: &synthflow::contract::ViolationKind) -> String {
    // The JSON name (`out_of_spec`), as `--format json` has always printed it.
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| kind.to_string())
}

/// Checks `files` on every core; problems come back in file order.
pub fn check_files(files: &[PathBuf], opts: CheckOptions) -> Vec<Problem> {
    let per_file: Vec<Vec<Problem>> = files.par_iter().map(|f| check_file(f, opts)).collect();
    per_file.into_iter().flatten().collect()
}

/// A path given to [`validate_paths`] could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct ValidateError {
    /// The path as given.
    pub path: String,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Checks every fixture file of `paths` (folders: every `*.json` below, recursively).
pub fn validate_paths(paths: &[PathBuf], opts: CheckOptions) -> Result<Report, ValidateError> {
    let mut files = Vec::new();
    for p in paths {
        collect_files(p, &mut files).map_err(|source| ValidateError {
            path: p.display().to_string(),
            source,
        })?;
    }
    let problems = check_files(&files, opts);
    Ok(Report {
        files: files.len(),
        ok: problems.is_empty(),
        problems,
    })
}
