//! `synthflow-mock drift` against a loopback stand-in for the live service that has drifted in four
//! planted ways since the fixtures were recorded: a new enum value, an extra field, a missing field
//! and a 500.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use synthflow_mock::tools::record::{ApiKey, RecordOptions, Recorder, Upstream};
use synthflow_mock::tools::redact::{Redactor, DEFAULT_KEY};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::BIN;
const TOKEN: &str = "sk-drift-0c4e2a";
const NEW_ENUM: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";
const EXTRA_FIELD: &str = "3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0";
const MISSING_FIELD: &str = "4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75";
const FAILING: &str = "5d3fa8c6-247b-4e10-8c9f-0a6b5e2d71f3";
const IDS: [&str; 4] = [NEW_ENUM, EXTRA_FIELD, MISSING_FIELD, FAILING];

fn fixture(id: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../fixtures/handmade/calls/{id}.json")),
    )
    .unwrap()
}

/// A stand-in serving the four calls, unchanged or with the planted drifts.
async fn stand_in(drifted: bool) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    for id in IDS {
        let mut body = fixture(id);
        let mut status = 200;
        if drifted {
            match id {
                NEW_ENUM => {
                    body = body.replace("\"status\":\"completed\"", "\"status\":\"paused\"")
                }
                EXTRA_FIELD => {
                    body = body.replace(
                        "\"status\":\"completed\"",
                        "\"status\":\"completed\",\"sip_trunk_id\":\"trunk-7\"",
                    )
                }
                MISSING_FIELD => {
                    let mut v: Value = serde_json::from_str(&body).unwrap();
                    v["response"]["calls"][0]
                        .as_object_mut()
                        .unwrap()
                        .remove("transcript");
                    body = v.to_string();
                }
                _ => {
                    status = 500;
                    body = r#"{"detail":{"status":"error","description":"Internal server error","timestamp":"t","request_id":"r","category":"critical"}}"#.into();
                }
            }
        }
        Mock::given(method("GET"))
            .and(path(format!("/v2/calls/{id}")))
            .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
    }
    server
}

/// Records the four calls (redacted) from an undrifted stand-in.
async fn recorded_set() -> tempfile::TempDir {
    let before = stand_in(false).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new(
        Upstream::new(
            &format!("{}/v2", before.uri()),
            ApiKey::new(TOKEN).unwrap(),
            Duration::from_secs(10),
        )
        .unwrap(),
        RecordOptions {
            out_dir: dir.path().to_path_buf(),
            redactor: Some(Redactor::new(DEFAULT_KEY, false)),
            overwrite: false,
            record_errors: false,
        },
    );
    let ids: Vec<String> = IDS.iter().map(|s| s.to_string()).collect();
    let summary = rec.record_all(&ids, &mut std::io::sink()).await;
    assert_eq!(summary.written, 4, "{summary}");
    dir
}

async fn drift(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .arg("drift")
            .args(&args)
            .env("SYNTHFLOW_API_KEY", TOKEN)
            .env_remove("SYNTHFLOW_REDACT_KEY")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn against(dir: &Path, upstream: &str, format: &str) -> Vec<String> {
    vec![
        "--against".into(),
        dir.display().to_string(),
        "--upstream".into(),
        format!("{upstream}/v2"),
        "--format".into(),
        format.into(),
    ]
}

fn has(report: &Value, kind: &str, path: &str, detail: &str, source: &str) -> bool {
    report["findings"].as_array().unwrap().iter().any(|f| {
        f["kind"] == kind
            && f["path"] == path
            && f["detail"].as_str().unwrap().contains(detail)
            && f["sources"].as_array().unwrap().iter().any(|s| s == source)
    })
}

#[tokio::test]
async fn drift_report_finds_each_of_the_four_planted_drifts_and_exits_non_zero() {
    let recorded = recorded_set().await;
    let now = stand_in(true).await;
    let out = drift(against(recorded.path(), &now.uri(), "json")).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        has(
            &report,
            "new-enum-value",
            "/response/calls/*/status",
            "\"paused\"",
            NEW_ENUM
        ),
        "{stdout}"
    );
    assert!(
        has(
            &report,
            "unknown-field",
            "/response/calls/*/sip_trunk_id",
            "string member",
            EXTRA_FIELD
        ),
        "{stdout}"
    );
    assert!(
        has(
            &report,
            "fixture-mismatch",
            "/response/calls/0/transcript",
            "member dropped",
            MISSING_FIELD
        ),
        "{stdout}"
    );
    assert!(
        has(
            &report,
            "upstream-error",
            "",
            "HTTP 500: Internal server error",
            FAILING
        ),
        "{stdout}"
    );
    assert_eq!(report["compared"], 3);
    assert!(!stdout.contains(TOKEN));
}

#[tokio::test]
async fn drift_table_names_the_kinds_and_an_unchanged_upstream_is_no_drift() {
    let recorded = recorded_set().await;
    let now = stand_in(true).await;
    let out = drift(against(recorded.path(), &now.uri(), "table")).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(table.starts_with("KIND"), "{table}");
    for kind in [
        "new-enum-value",
        "unknown-field",
        "fixture-mismatch",
        "upstream-error",
    ] {
        assert!(table.contains(kind), "{kind} missing:\n{table}");
    }
    let same = stand_in(false).await;
    let out = drift(against(recorded.path(), &same.uri(), "table")).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert!(
        table.contains("drift: 0 finding(s) over 4 body(ies), 4 fixture(s) compared"),
        "{table}"
    );
}

#[tokio::test]
async fn drift_writes_the_json_report_to_a_file_when_asked() {
    let recorded = recorded_set().await;
    let now = stand_in(true).await;
    let file: PathBuf = recorded.path().join("report/drift.json");
    let mut args = against(recorded.path(), &now.uri(), "table");
    args.extend(["--output".into(), file.display().to_string()]);
    let out = drift(args).await;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(report["drift"], true);
}

#[test]
fn offline_drift_over_the_extended_fixtures_names_their_out_of_spec_values() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/extended");
    let out = Command::new(BIN)
        .args(["drift", "--format", "json"])
        .arg(&dir)
        .env_remove("SYNTHFLOW_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let values: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "new-enum-value")
        .map(|f| f["detail"].as_str().unwrap())
        .collect();
    assert!(
        values
            .iter()
            .any(|d| d.starts_with("\"hangup_on_voicemail\"")),
        "{values:?}"
    );
    assert!(
        values.iter().any(|d| d.starts_with("\"human_goodbye\"")),
        "{values:?}"
    );
}

#[test]
fn drift_without_input_or_with_ids_but_no_token_is_a_usage_error() {
    let out = Command::new(BIN).arg("drift").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args([
            "drift",
            "--id",
            "abc",
            "--upstream",
            "http://127.0.0.1:9/v2",
        ])
        .env_remove("SYNTHFLOW_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SYNTHFLOW_API_KEY"));
}
