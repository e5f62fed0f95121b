//! `synthflow-mock validate PATH...`: checks fixture files against the vendor's schema and the
//! invariants, with the same contract checks the mock runs at start-up
//! ([`synthflow::contract::check_call_body`]).
//!
//! Each problem is one line, `FILE:POINTER: [kind] what was expected` (or one JSON object with
//! `--format json`); the exit status is 0 only when every file passes. Files are checked on every
//! core, and the report is in file order whatever the threads did.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;
use synthflow::contract::{check_call_body, json_violation, CheckOptions};

/// Flags of `validate`.
#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Fixture files or folders (folders: every `*.json` below, recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Accept enum values the vendor's document does not list.
    #[arg(long)]
    pub allow_out_of_spec: bool,
    /// Output format: one line per problem, or one JSON document.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Output format of `validate`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `FILE:POINTER: [kind] message`, one line per problem; a summary on stderr.
    Text,
    /// `{"files": N, "ok": bool, "problems": [{"file","pointer","kind","message"}]}` on stdout.
    Json,
}

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

/// Every `*.json` file under `path` (or `path` itself when it is a file), sorted.
pub fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "json") {
                collect_files(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
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

/// Checks `files` on up to `threads` threads; problems come back in file order.
pub fn check_files(files: &[PathBuf], opts: CheckOptions, threads: usize) -> Vec<Problem> {
    let threads = threads.clamp(1, files.len().max(1));
    if threads == 1 {
        return files.iter().flat_map(|f| check_file(f, opts)).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .flat_map(|f| check_file(f, opts))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("validator thread"))
            .collect()
    })
}

/// The number of threads to use: what the machine offers.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `validate`, printing its report; the exit code is 0 only when every file passes.
pub fn run(args: &ValidateArgs) -> ExitCode {
    let mut files = Vec::new();
    for p in &args.paths {
        if let Err(e) = collect_files(p, &mut files) {
            eprintln!("synthflow-mock: cannot read {}: {e}", p.display());
            return ExitCode::from(2);
        }
    }
    let opts = CheckOptions {
        allow_out_of_spec: args.allow_out_of_spec,
    };
    let problems = check_files(&files, opts, default_threads());
    let report = Report {
        files: files.len(),
        ok: problems.is_empty(),
        problems,
    };
    match args.format {
        Format::Json => match serde_json::to_string(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("synthflow-mock: cannot encode the report: {e}");
                return ExitCode::from(2);
            }
        },
        Format::Text => {
            for p in &report.problems {
                println!("{p}");
            }
            eprintln!(
                "{} file(s) checked, {} problem(s)",
                report.files,
                report.problems.len()
            );
        }
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
