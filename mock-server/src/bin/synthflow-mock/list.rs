//! `synthflow-mock list`: the fixture ids with their status and end reason.

use std::process::ExitCode;

use crate::serve::{load, SourceArgs};

pub fn run(args: &SourceArgs) -> ExitCode {
    let store = match load(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!("{:<38} {:<20} END_CALL_REASON", "CALL_ID", "STATUS");
    for f in store.fixtures() {
        let status = f.status.as_ref().map_or("-", |s| s.as_str());
        let reason = f.end_call_reason.as_ref().map_or("-", |s| s.as_str());
        println!("{:<38} {:<20} {}", f.id, status, reason);
    }
    ExitCode::SUCCESS
}
