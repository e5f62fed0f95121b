//! The drift report of a suite run (`synthflow::contract::drift`): the same ids, fetched once
//! more, walked along the vendor's document. The live run writes it next to its verdict, so a
//! passing run still says what the live service sends that the document does not know.
//!
//! Where it goes: `SYNTHFLOW_DRIFT_REPORT` if set, else `target/synthflow-drift.json` of this
//! workspace (`CARGO_TARGET_DIR` respected).

use std::path::PathBuf;

use synthflow::contract::drift::{DriftAnalyzer, DriftReport};

use crate::Target;

/// Fetches each id from the target and analyses the 200 bodies; other answers are
/// `upstream-error` findings.
pub async fn drift_report(target: &Target, call_ids: &[String]) -> DriftReport {
    let mut drift = DriftAnalyzer::new();
    let client = synthflow::Client::builder()
        .base_url(&target.base_url)
        .token(&target.token)
        .timeout(target.timeout)
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            for id in call_ids {
                drift.upstream_error(id, e.to_string());
            }
            return drift.finish();
        }
    };
    for id in call_ids {
        match client.get_call_raw(id).await {
            Ok(raw) if raw.status == 200 => match serde_json::from_slice(&raw.body) {
                Ok(v) => drift.observe(id, &v),
                Err(e) => drift.upstream_error(id, format!("HTTP 200, not JSON: {e}")),
            },
            Ok(raw) => drift.upstream_error(id, format!("HTTP {}", raw.status)),
            Err(e) => drift.upstream_error(id, e.to_string()),
        }
    }
    drift.finish()
}

/// Where the report is written, from a variable lookup.
pub fn report_path(lookup: impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(p) = lookup("SYNTHFLOW_DRIFT_REPORT").filter(|p| !p.trim().is_empty()) {
        return PathBuf::from(p);
    }
    let target = lookup("CARGO_TARGET_DIR")
        .filter(|p| !p.trim().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("synthflow-drift.json")
}

/// Writes the report as JSON, atomically.
pub fn write_report(path: &std::path::Path, report: &DriftReport) -> std::io::Result<()> {
    crate::junit::write_atomic(path, report.to_json().as_bytes())
}
