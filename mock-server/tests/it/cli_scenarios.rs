//! The serve flags of this issue, on the real binary: global faults, Retry-After off, the admin
//! API, scenarios read from the fixture folder.

use crate::support::{fixture_copy, Running, BIN};
use std::process::Command;

const ID: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";

fn start(args: &[&str]) -> Running {
    let mut all = vec!["--port", "0"];
    all.extend_from_slice(args);
    crate::support::start_in(&all, std::path::Path::new("."))
}

#[tokio::test]
async fn global_fault_flag_with_retry_after_off_and_admin_on() {
    let m = start(&[
        "--fault",
        "code=429",
        "--no-retry-after",
        "--admin",
        "loopback",
    ]);
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/calls/{ID}", m.1))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    let base = m.1.trim_end_matches("/v2");
    let j: serde_json::Value = http
        .get(format!("{base}/__admin/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j["requests"][0]["status"], 429);
}

#[tokio::test]
async fn scenarios_json_in_the_fixture_folder_sets_a_lifecycle() {
    let dir = fixture_copy();
    std::fs::write(
        dir.path().join("scenarios.json"),
        format!(r#"{{"{ID}":{{"faults":["code=503"],"lifecycle":{{"advance":"per-poll"}}}}}}"#),
    )
    .unwrap();
    let m = start(&["--fixtures", dir.path().to_str().unwrap()]);
    let http = reqwest::Client::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = http
            .get(format!("{}/calls/{ID}", m.1))
            .bearer_auth("t")
            .send()
            .await
            .unwrap();
        let code = r.status().as_u16();
        let v: serde_json::Value = r.json().await.unwrap();
        seen.push(format!(
            "{code} {}",
            v["response"]["calls"][0]["status"].as_str().unwrap_or("-")
        ));
    }
    assert_eq!(seen, ["503 -", "200 pending", "200 ringing"]);
}

#[test]
fn a_bad_scenarios_file_stops_start_up_naming_file_and_line() {
    let dir = fixture_copy();
    std::fs::write(
        dir.path().join("scenarios.json"),
        "{\n \"x\": {\"faults\": [\"code=999\"]}}",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--port", "0", "--fixtures", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("scenarios.json:2:"), "{err}");
    assert!(err.contains("code=999"), "{err}");
}
