//! The suite's live run: configured from the environment, so credentials never sit in code or
//! on a command line.
//!
//! - `SYNTHFLOW_API_KEY` (required): the Bearer token;
//! - `SYNTHFLOW_CALL_ID` (required): one or more call ids of the account, comma-separated;
//! - `SYNTHFLOW_BASE_URL` (optional): defaults to the global host `https://api.synthflow.ai/v2`;
//! - `SYNTHFLOW_ALLOW_OUT_OF_SPEC` (optional, `1`): accept enum values the document does not list;
//! - `SYNTHFLOW_UNKNOWN_ID_STATUS` (optional, `400` or `404`): what an unknown id gets;
//! - `SYNTHFLOW_LIVE_WRITES` (optional, `1`): also run the agent and action cases that create,
//!   change and delete on the account (they delete what they created); without it those cases
//!   are read-only ([`crate::agents`]).
//!
//! The environment is read through a lookup function, so a test can run this exact path against
//! a server on loopback without touching the process environment.

use crate::agents::{run_agent_cases, Writes};
use crate::{run_suite, SuiteReport, Target};

/// Read-only unless `SYNTHFLOW_LIVE_WRITES` is `1` or `true`.
pub fn writes_from(lookup: impl Fn(&str) -> Option<String>) -> Writes {
    match lookup("SYNTHFLOW_LIVE_WRITES").as_deref().map(str::trim) {
        Some("1" | "true") => Writes::Allowed,
        _ => Writes::ReadOnly,
    }
}

/// The call suite, then the agent and action cases.
async fn run_all(target: &Target, ids: &[String], writes: Writes) -> SuiteReport {
    let mut report = run_suite(target, ids).await;
    report.cases.extend(run_agent_cases(target, writes).await);
    report
}

/// Why the live run did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveConfigError {
    /// A required variable is not set: the run is skipped, not failed.
    Missing(&'static str),
    /// A variable holds something unusable.
    Invalid(&'static str, String),
}

impl std::fmt::Display for LiveConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiveConfigError::Missing(v) => write!(f, "{v} is not set"),
            LiveConfigError::Invalid(v, why) => write!(f, "{v}: {why}"),
        }
    }
}

/// The target and call ids of a live run, from a variable lookup.
pub fn config_from(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(Target, Vec<String>), LiveConfigError> {
    let get = |k: &'static str| lookup(k).filter(|v| !v.trim().is_empty());
    let token = get("SYNTHFLOW_API_KEY").ok_or(LiveConfigError::Missing("SYNTHFLOW_API_KEY"))?;
    let ids: Vec<String> = get("SYNTHFLOW_CALL_ID")
        .ok_or(LiveConfigError::Missing("SYNTHFLOW_CALL_ID"))?
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let base_url = get("SYNTHFLOW_BASE_URL")
        .unwrap_or_else(|| synthflow::Region::Global.base_url().to_owned());
    let mut target = Target::new("live", base_url, token);
    target.checks_tokens = true;
    target.allow_out_of_spec =
        get("SYNTHFLOW_ALLOW_OUT_OF_SPEC").is_some_and(|v| v == "1" || v == "true");
    if let Some(s) = get("SYNTHFLOW_UNKNOWN_ID_STATUS") {
        target.unknown_id_status = match s.as_str() {
            "400" => 400,
            "404" => 404,
            other => {
                return Err(LiveConfigError::Invalid(
                    "SYNTHFLOW_UNKNOWN_ID_STATUS",
                    format!("{other:?} is not 400 or 404"),
                ))
            }
        };
    }
    Ok((target, ids))
}

/// Runs the suite with the configuration of [`config_from`].
pub async fn run(lookup: impl Fn(&str) -> Option<String>) -> Result<SuiteReport, LiveConfigError> {
    let (target, ids) = config_from(&lookup)?;
    Ok(run_all(&target, &ids, writes_from(&lookup)).await)
}

/// [`run`], then the drift report of the same ids, written where [`crate::drift::report_path`]
/// says. Returns the suite's report and the report's path (or why it could not be written).
pub async fn run_with_drift(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(SuiteReport, Result<std::path::PathBuf, String>), LiveConfigError> {
    let (target, ids) = config_from(&lookup)?;
    let report = run_all(&target, &ids, writes_from(&lookup)).await;
    let drift = crate::drift::drift_report(&target, &ids).await;
    let path = crate::drift::report_path(&lookup);
    let written = crate::drift::write_report(&path, &drift)
        .map(|()| path.clone())
        .map_err(|e| format!("cannot write {}: {e}", path.display()));
    Ok((report, written))
}
