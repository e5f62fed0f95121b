//! `synthflow-check`, the suite as a CI command, against loopback stand-ins; and fixtures recorded
//! through the recording proxy's library, served by the mock, passing the same suite.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use contract_tests::{run_suite, Target};
use synthflow_mock::tools::record::{ApiKey, RecordOptions, Recorder, Upstream};
use synthflow_mock::tools::redact::{Redactor, DEFAULT_KEY};
use synthflow_mock::{AppState, AuthPolicy, Config, LoadOptions, MockServer, Store};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_synthflow-check");
const TOKEN: &str = "sk-check-5d1b";
const BROKEN: &str = "4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75";

fn repo_file(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)).unwrap()
}

async fn check(args: Vec<String>, token: Option<&'static str>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(BIN);
        cmd.args(&args).env_remove("SYNTHFLOW_API_KEY");
        if let Some(t) = token {
            cmd.env("SYNTHFLOW_API_KEY", t);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

/// A stand-in that answers like the live API except for one planted break: the call's `duration`
/// is a string.
async fn stand_in_with_one_break() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    let mut body: serde_json::Value = serde_json::from_str(&repo_file(&format!(
        "fixtures/handmade/calls/{BROKEN}.json"
    )))
    .unwrap();
    body["response"]["calls"][0]["duration"] = "12".into();
    let bearer = format!("Bearer {TOKEN}");
    Mock::given(method("GET"))
        .and(path(format!("/v2/calls/{BROKEN}")))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/v2/calls/[^/]+$"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_raw(repo_file("fixtures/errors/400.json"), "application/json"),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            repo_file("fixtures/errors/401-missing.json"),
            "application/json",
        ))
        .with_priority(3)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn check_fails_on_a_stand_in_with_one_planted_break_and_names_it_in_the_junit_file() {
    let server = stand_in_with_one_break().await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("out/junit.xml");
    let out = check(
        vec![
            "--base-url".into(),
            format!("{}/v2", server.uri()),
            "--call-id".into(),
            BROKEN.into(),
            "--junit".into(),
            junit.display().to_string(),
            "--name".into(),
            "staging".into(),
        ],
        Some(TOKEN),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL get_call[4b7219fd"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("3 passed, 1 failed"),
        "{stdout}"
    );
    assert!(!stdout.contains(TOKEN));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains(TOKEN));
    // Well-formed XML, and exactly one failure: the planted one, named.
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut failures = Vec::new();
    let mut case = String::new();
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                let attr = |name: &[u8]| {
                    e.try_get_attribute(name)
                        .unwrap()
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                match e.name().as_ref() {
                    b"testcase" => case = attr(b"name").unwrap(),
                    b"failure" => failures.push((case.clone(), attr(b"message").unwrap())),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!(failures.len(), 1, "{xml}");
    assert_eq!(failures[0].0, format!("get_call[{BROKEN}]"));
    assert!(
        failures[0]
            .1
            // A string of digits is the live shape `duration-as-string`: out of spec, refused
            // without --allow-out-of-spec (docs/fidelity.md).
            .starts_with("body /response/calls/0/duration: [out-of-spec]"),
        "{}",
        failures[0].1
    );
    assert!(
        xml.contains(r#"<testsuite name="staging" tests="4" skipped="0" errors="0" failures="1""#),
        "{xml}"
    );
}

#[tokio::test]
async fn check_passes_against_the_mock_and_writes_a_junit_file_without_failures() {
    let mock = MockServer::start_with(
        AppState::new(
            Store::embedded().unwrap(),
            Config {
                auth: AuthPolicy::tokens([TOKEN]),
                ..Config::default()
            },
        ),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let ids = mock.state().store().ids()[..3].join(",");
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let out = check(
        vec![
            "--base-url".into(),
            mock.base_url(),
            "--call-id".into(),
            ids,
            "--checks-tokens".into(),
            "--junit".into(),
            junit.display().to_string(),
        ],
        Some(TOKEN),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"tests="7" skipped="0" failures="0""#),
        "{xml}"
    );
    assert!(!xml.contains("<failure"));
}

#[tokio::test]
async fn check_reads_the_token_from_the_environment_only() {
    let out = check(
        vec![
            "--base-url".into(),
            "http://127.0.0.1:9/v2".into(),
            "--call-id".into(),
            "a".into(),
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SYNTHFLOW_API_KEY is not set"));
    let out = check(
        vec![
            "--base-url".into(),
            "http://127.0.0.1:9/v2".into(),
            "--call-id".into(),
            "a".into(),
            "--token".into(),
            "x".into(),
        ],
        Some(TOKEN),
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "there is no --token flag");
}

/// Acceptance 1: fixtures recorded (redacted) from a loopback upstream load in the mock and pass
/// the contract suite there.
#[tokio::test]
async fn fixtures_recorded_through_the_recorder_pass_the_suite_when_the_mock_serves_them() {
    let upstream = MockServer::start_with(
        AppState::new(
            Store::embedded().unwrap(),
            Config {
                auth: AuthPolicy::tokens([TOKEN]),
                ..Config::default()
            },
        ),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let ids = upstream.state().store().ids().to_vec();
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new(
        Upstream::new(
            &upstream.base_url(),
            ApiKey::new(TOKEN).unwrap(),
            Duration::from_secs(10),
        )
        .unwrap(),
        RecordOptions {
            out_dir: dir.path().to_path_buf(),
            redactor: Some(Redactor::new(DEFAULT_KEY, true)),
            overwrite: false,
            record_errors: false,
        },
    );
    let summary = rec.record_all(&ids, &mut std::io::sink()).await;
    assert_eq!(summary.written, ids.len(), "{summary}");
    let store = Store::from_dir(dir.path(), LoadOptions::default()).expect("recorded set loads");
    let recorded_ids = store.ids().to_vec();
    let mock = MockServer::start_with(
        AppState::new(store, Config::default()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let report = run_suite(
        &Target::new("recorded", mock.base_url(), "t"),
        &recorded_ids,
    )
    .await;
    assert!(report.passed(), "{report}");
    assert_eq!(report.cases.len(), ids.len() + 3);
}
