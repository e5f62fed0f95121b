//! The suite against the mock, started in-process on a random port, on every embedded fixture.

use contract_tests::{run_suite, Target};
use synthflow_mock::{AppState, AuthPolicy, Config, MockServer, Store, UnknownIdStatus};
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, ResponseTemplate};

async fn mock_with(config: Config) -> MockServer {
    let state = AppState::new(Store::embedded().expect("embedded fixtures load"), config);
    MockServer::start_with(state, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("mock starts")
}

#[tokio::test]
async fn every_embedded_fixture_passes_the_suite_on_the_mock() {
    let mock = MockServer::start().await.unwrap();
    let ids = mock.state().store().ids().to_vec();
    assert!(ids.len() >= 10, "the embedded set is the full fixture set");
    let report = run_suite(&Target::new("mock", mock.base_url(), "any-token"), &ids).await;
    println!("{report}");
    assert!(report.passed(), "{report}");
    assert_eq!(report.cases.len(), ids.len() + 3);
}

#[tokio::test]
async fn token_restricted_mock_passes_the_invalid_token_case() {
    let mock = mock_with(Config {
        auth: AuthPolicy::tokens(["secret-1"]),
        ..Config::default()
    })
    .await;
    let mut target = Target::new("mock-restricted", mock.base_url(), "secret-1");
    target.checks_tokens = true;
    let ids = mock.state().store().ids()[..2].to_vec();
    let report = run_suite(&target, &ids).await;
    assert!(report.passed(), "{report}");
    assert!(report.cases.iter().any(|c| c.name == "invalid_token"));
}

#[tokio::test]
async fn unknown_id_as_404_mode_is_checked_against_404() {
    let mock = mock_with(Config {
        unknown_id: UnknownIdStatus::NotFound,
        ..Config::default()
    })
    .await;
    let mut target = Target::new("mock-404", mock.base_url(), "t");
    target.unknown_id_status = 404;
    let report = run_suite(&target, &[]).await;
    assert!(report.passed(), "{report}");
    // And the suite notices when the mode and the expectation disagree.
    target.unknown_id_status = 400;
    let report = run_suite(&target, &[]).await;
    assert_eq!(report.failed().len(), 1, "{report}");
    assert_eq!(report.failed()[0].name, "unknown_call_id");
}

/// A stand-in that breaks the contract in three ways: the wrong call comes back, as text/plain,
/// and a request without credentials is served. The suite must name each.
#[tokio::test]
async fn suite_names_each_planted_break_of_a_faulty_server() {
    let server = wiremock::MockServer::start().await;
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/handmade/calls/4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75.json"
    ))
    .unwrap();
    Mock::given(method("GET"))
        .and(path("/v2/calls/asked-for-this-one"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.clone(), "text/plain"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let target = Target::new("faulty", format!("{}/v2", server.uri()), "t");
    let report = run_suite(&target, &["asked-for-this-one".to_owned()]).await;
    let failed: Vec<&str> = report.failed().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        failed,
        [
            "get_call[asked-for-this-one]",
            "unknown_call_id",
            "missing_authorization",
            "non_bearer_authorization"
        ]
    );
    let get = &report.failed()[0].failures;
    assert!(get.iter().any(|f| f.starts_with("content-type")), "{get:?}");
    assert!(get.iter().any(|f| f.contains("call-id-matches")), "{get:?}");
}

#[tokio::test]
async fn the_agent_and_action_cases_pass_on_the_mock_with_writes() {
    use contract_tests::agents::{run_agent_cases, Writes};
    let mock = MockServer::start().await.unwrap();
    let target = Target::new("mock", mock.base_url(), "t");
    let cases = run_agent_cases(&target, Writes::Allowed).await;
    let failed: Vec<_> = cases.iter().filter(|c| !c.passed()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(cases.len(), 6);
    // The lifecycle cleaned up after itself: only the seed is left.
    let seeded = synthflow_mock::Seed::embedded();
    assert_eq!(
        mock.state().agents().counts(),
        (seeded.agents.len(), seeded.actions.len())
    );
    // Read-only: no lifecycle.
    assert_eq!(run_agent_cases(&target, Writes::ReadOnly).await.len(), 5);
}

#[tokio::test]
async fn the_agent_cases_notice_a_target_without_agents() {
    use contract_tests::agents::{run_agent_cases, Writes};
    let server = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string("{\"detail\":\"Not Found\"}"))
        .mount(&server)
        .await;
    let target = Target::new("no-agents", format!("{}/v2", server.uri()), "t");
    let cases = run_agent_cases(&target, Writes::ReadOnly).await;
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| !c.passed())
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        failed.contains(&"list_assistants") && failed.contains(&"unknown_action"),
        "{failed:?}"
    );
}
