//! The suite's live run. Against the real API only when a person sets `SYNTHFLOW_API_KEY` and
//! `SYNTHFLOW_CALL_ID`; otherwise it says it was skipped and why. The same code path is proven on
//! loopback against a separately started server.

use std::collections::HashMap;
use std::sync::mpsc;

use contract_tests::live::{self, LiveConfigError};
use synthflow_mock::{AppState, AuthPolicy, Config, MockServer, Store};

#[tokio::test]
async fn live_api_passes_the_contract_suite_when_credentials_are_set() {
    match live::run_with_drift(|k| std::env::var(k).ok()).await {
        Err(LiveConfigError::Missing(var)) => {
            println!(
                "skipped: live contract run needs SYNTHFLOW_API_KEY and SYNTHFLOW_CALL_ID ({var} is not set); \
                 SYNTHFLOW_BASE_URL is optional"
            );
        }
        Err(e) => panic!("live configuration: {e}"),
        Ok((report, drift)) => {
            println!("{report}");
            match drift {
                Ok(path) => println!("drift report: {}", path.display()),
                Err(e) => println!("drift report not written: {e}"),
            }
            assert!(report.passed(), "live API broke the contract:\n{report}");
        }
    }
}

/// Starts a mock on its own thread and runtime, reachable only over TCP, as a live host would be.
fn separately_started_server(tokens: &[&str]) -> (String, Vec<String>, mpsc::Sender<()>) {
    let tokens: Vec<String> = tokens.iter().map(|s| s.to_string()).collect();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let config = Config {
                auth: AuthPolicy::tokens(tokens),
                ..Config::default()
            };
            let state = AppState::new(Store::embedded().unwrap(), config);
            let mock = MockServer::start_with(state, "127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            ready_tx
                .send((mock.base_url(), mock.state().store().ids().to_vec()))
                .unwrap();
            tokio::task::spawn_blocking(move || stop_rx.recv())
                .await
                .ok();
            mock.stop().await.unwrap();
        });
    });
    let (url, ids) = ready_rx.recv().unwrap();
    (url, ids, stop_tx)
}

#[tokio::test]
async fn live_path_passes_against_a_separately_started_server_on_loopback() {
    let (base_url, ids, stop) = separately_started_server(&["live-key"]);
    let env: HashMap<&str, String> = HashMap::from([
        ("SYNTHFLOW_API_KEY", "live-key".to_owned()),
        ("SYNTHFLOW_CALL_ID", format!("{}, {}", ids[0], ids[1])),
        ("SYNTHFLOW_BASE_URL", base_url),
    ]);
    let report = live::run(|k| env.get(k).cloned())
        .await
        .expect("configured");
    println!("{report}");
    assert!(report.passed(), "{report}");
    // Both ids, the three error paths, the invalid token (the live API checks tokens), and the
    // five read-only agent and action cases.
    assert_eq!(report.cases.len(), 11);
    assert!(!report.cases.iter().any(|c| c.name == "agent_lifecycle"));
    stop.send(()).unwrap();
}

#[tokio::test]
async fn live_writes_add_the_agent_lifecycle_only_when_asked() {
    let (base_url, ids, stop) = separately_started_server(&["live-key"]);
    let env: HashMap<&str, String> = HashMap::from([
        ("SYNTHFLOW_API_KEY", "live-key".to_owned()),
        ("SYNTHFLOW_CALL_ID", ids[0].clone()),
        ("SYNTHFLOW_BASE_URL", base_url),
        ("SYNTHFLOW_LIVE_WRITES", "1".to_owned()),
    ]);
    let report = live::run(|k| env.get(k).cloned())
        .await
        .expect("configured");
    assert!(report.passed(), "{report}");
    assert!(report.cases.iter().any(|c| c.name == "agent_lifecycle"));
    stop.send(()).unwrap();
}

#[tokio::test]
async fn live_path_fails_with_a_key_the_server_refuses() {
    let (base_url, ids, stop) = separately_started_server(&["the-real-key"]);
    let env: HashMap<&str, String> = HashMap::from([
        ("SYNTHFLOW_API_KEY", "a-wrong-key".to_owned()),
        ("SYNTHFLOW_CALL_ID", ids[0].clone()),
        ("SYNTHFLOW_BASE_URL", base_url),
    ]);
    let report = live::run(|k| env.get(k).cloned())
        .await
        .expect("configured");
    assert!(!report.passed());
    let text = report.to_string();
    assert!(text.contains("expected 200, got 401"), "{text}");
    assert!(
        !text.contains("a-wrong-key"),
        "the report must not print the token: {text}"
    );
    stop.send(()).unwrap();
}

#[test]
fn live_config_without_credentials_is_a_skip_not_a_failure() {
    let empty = |_: &str| None;
    assert_eq!(
        live::config_from(empty).unwrap_err(),
        LiveConfigError::Missing("SYNTHFLOW_API_KEY")
    );
    let only_key = |k: &str| (k == "SYNTHFLOW_API_KEY").then(|| "k".to_owned());
    assert_eq!(
        live::config_from(only_key).unwrap_err(),
        LiveConfigError::Missing("SYNTHFLOW_CALL_ID")
    );
}

#[test]
fn live_config_defaults_to_the_global_host() {
    let env = |k: &str| match k {
        "SYNTHFLOW_API_KEY" => Some("k".to_owned()),
        "SYNTHFLOW_CALL_ID" => Some("a,b".to_owned()),
        _ => None,
    };
    let (target, ids) = live::config_from(env).unwrap();
    assert_eq!(target.base_url, "https://api.synthflow.ai/v2");
    assert_eq!(ids, ["a", "b"]);
    assert!(!format!("{target:?}").contains("\"k\""));
}

#[tokio::test]
async fn live_run_writes_the_drift_report_of_its_ids() {
    let (base_url, ids, stop) = separately_started_server(&["live-key"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("drift.json");
    let env: HashMap<&str, String> = HashMap::from([
        ("SYNTHFLOW_API_KEY", "live-key".to_owned()),
        // 8c6e0f3b carries the one field the document does not declare.
        (
            "SYNTHFLOW_CALL_ID",
            "8c6e0f3b-a574-4d2c-8b19-f5a3d7e6c240".to_owned(),
        ),
        ("SYNTHFLOW_BASE_URL", base_url),
        ("SYNTHFLOW_DRIFT_REPORT", file.display().to_string()),
    ]);
    assert!(ids.contains(&"8c6e0f3b-a574-4d2c-8b19-f5a3d7e6c240".to_owned()));
    let (report, written) = live::run_with_drift(|k| env.get(k).cloned())
        .await
        .expect("configured");
    assert!(report.passed(), "{report}");
    assert_eq!(written.unwrap(), file);
    let drift: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(drift["bodies"], 1);
    assert!(
        drift["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "/response/calls/*/telephony_sip_headers"),
        "{drift}"
    );
    stop.send(()).unwrap();
}
