//! `synthflow-mock validate PATH...`: checks fixture files against the vendor's schema and the
//! invariants ([`synthflow_mock::tools::validate`]).
//!
//! Each problem is one line, `FILE:POINTER: [kind] what was expected` (or one JSON object with
//! `--format json`); the exit status is 0 only when every file passes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use synthflow::contract::CheckOptions;
use synthflow_mock::tools::validate::validate_paths;

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

/// Runs `validate`, printing its report; the exit code is 0 only when every file passes.
pub fn run(args: &ValidateArgs) -> ExitCode {
    let opts = CheckOptions {
        allow_out_of_spec: args.allow_out_of_spec,
    };
    let report = match validate_paths(&args.paths, opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("synthflow-mock: {e}");
            return ExitCode::from(2);
        }
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
