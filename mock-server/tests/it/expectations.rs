//! The in-process API: expectations checked on `verify()` and on drop, and the call builder.

use synthflow_mock::{CallBuilder, Expectation, MockServer};

const ID: &str = "3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0";

async fn get(url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_unmet_expectation_names_the_expected_and_the_received_requests() {
    let mock = MockServer::start().await.unwrap();
    mock.expect(Expectation::get_call(ID).times(1));
    get(&mock.call_url("3e0d8a52-c716-4f9b-8a24-6b5e13f7c9dX")).await;
    let msg = mock.check_expectations().unwrap_err().to_string();
    assert!(
        msg.contains(&format!(
            "GET /v2/calls/{ID}: expected exactly 1 matching request(s), received 0"
        )),
        "{msg}"
    );
    assert!(
        msg.contains("#1 GET /v2/calls/3e0d8a52-c716-4f9b-8a24-6b5e13f7c9dX -> 400"),
        "{msg}"
    );
    assert!(msg.contains(&format!("nearest ids: {ID}")), "{msg}");
    // Met now: the drop check passes.
    mock.reset();
    mock.expect(Expectation::get_call(ID).times(1));
    get(&mock.call_url(ID)).await;
    mock.verify();
}

#[tokio::test]
#[should_panic(expected = "GET /v2/calls/3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0: expected exactly 0")]
async fn an_unmet_expectation_fails_the_test_when_the_mock_is_dropped() {
    let mock = MockServer::start().await.unwrap();
    mock.expect(Expectation::get_call(ID).never());
    get(&mock.call_url(ID)).await;
    drop(mock);
}

#[tokio::test]
async fn a_predicate_and_counts_select_the_requests_they_name() {
    let mock = MockServer::start().await.unwrap();
    // Added before the requests, as with wiremock-rs: each counts from then on.
    let bad_list = Expectation::method_path("GET", "/v2/calls").with(|r| r.status == 400);
    mock.expect(Expectation::get_call(ID).at_least(3))
        .expect(Expectation::get_call(ID).at_most(3))
        .expect(Expectation::get_call(ID).times(2..=3))
        .expect(bad_list.times(1));
    for _ in 0..3 {
        get(&mock.call_url(ID)).await;
    }
    get(&format!("{}/calls?model_id=x&limit=500", mock.base_url())).await;
    mock.verify();
    mock.expect(Expectation::any().named("a fourth request").at_least(5));
    let msg = mock.check_expectations().unwrap_err().to_string();
    assert!(
        msg.starts_with("synthflow-mock: 1 expectation(s) not met"),
        "{msg}"
    );
    assert!(
        msg.contains("a fourth request: expected at least 5"),
        "{msg}"
    );
    mock.reset();
    mock.expect(Expectation::any().never());
}

#[tokio::test]
async fn a_built_call_is_served_and_listed_as_any_fixture() {
    let mock = MockServer::start().await.unwrap();
    let id = mock
        .add_call(
            CallBuilder::new("built-call-1")
                .model_id("agent-7")
                .transcript([("bot", "Hello!"), ("human", "Hi, cancel please.")])
                .collected_variable("intent", "cancel"),
        )
        .unwrap();
    assert_eq!(id, "built-call-1");
    let body: serde_json::Value = get(&mock.call_url(&id)).await.json().await.unwrap();
    let call = &body["response"]["calls"][0];
    assert_eq!(call["call_id"], "built-call-1");
    assert_eq!(call["transcript"], "bot: Hello!\nhuman: Hi, cancel please.");
    assert_eq!(
        call["collected_variables"]["agent-7"]["intent"]["value"],
        "cancel"
    );
    let list: serde_json::Value = get(&format!("{}/calls?model_id=agent-7", mock.base_url()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["response"]["calls"][0]["call_id"], "built-call-1");
}

#[tokio::test]
async fn a_built_call_that_breaks_an_invariant_is_refused_naming_the_field() {
    let mock = MockServer::start().await.unwrap();
    let err = mock
        .add_call(CallBuilder::new("bad-call").set("/duration", serde_json::json!("long")))
        .unwrap_err();
    assert!(err.to_string().contains("/duration"), "{err}");
}

/// The README's Rust example, with a client that retries a 429.
#[tokio::test]
async fn the_readme_example_holds() {
    use synthflow_mock::{Fault, Scenario};
    let mock = MockServer::start().await.unwrap();
    let id = mock
        .add_call(
            CallBuilder::new("call-1")
                .transcript([("bot", "Hi!"), ("human", "Cancel my order.")])
                .collected_variable("intent", "cancel"),
        )
        .unwrap();
    mock.set_scenario(&id, Scenario::first_n(2, Fault::code(429)))
        .unwrap();
    mock.expect(Expectation::get_call(&id).times(3));
    let mut statuses = Vec::new();
    loop {
        let status = get(&format!("{}/calls/{id}", mock.base_url()))
            .await
            .status();
        statuses.push(status.as_u16());
        if status != 429 {
            break;
        }
    }
    assert_eq!(statuses, [429, 429, 200]);
    mock.verify();
    let faults: Vec<_> = mock
        .received_requests()
        .unwrap()
        .into_iter()
        .map(|r| r.fault)
        .collect();
    assert_eq!(faults[0].as_deref(), Some("code=429"));
}

async fn get_n(mock: &MockServer, n: usize) {
    let client = reqwest::Client::new();
    for _ in 0..n {
        client
            .get(mock.call_url(ID))
            .bearer_auth("t")
            .send()
            .await
            .unwrap();
    }
}

/// Fails on the journal-counted expectations: with the journal off they counted nothing
/// (`never()` passed after a request; `times(2)` said "received 0").
#[tokio::test]
async fn with_the_journal_off_expectations_still_count_every_request() {
    let mock = MockServer::builder().journal(0).start().await.unwrap();
    mock.expect(Expectation::get_call(ID).times(2));
    get_n(&mock, 1).await;
    let msg = mock.check_expectations().unwrap_err().to_string();
    assert!(
        msg.contains("expected exactly 2 matching request(s), received 1"),
        "{msg}"
    );
    assert!(msg.contains("not recorded (the journal is off"), "{msg}");
    mock.reset();

    mock.expect(Expectation::get_call(ID).never());
    get_n(&mock, 1).await;
    assert!(
        mock.check_expectations().is_err(),
        "never() passed after a request"
    );
    assert_eq!(
        mock.received_requests(),
        None,
        "recording off is not 'none received'"
    );
    mock.reset();
}

/// Fails on the journal-counted expectations: the journal keeps 1,000 entries.
#[tokio::test]
async fn more_requests_than_the_journal_keeps_are_all_counted() {
    let mock = MockServer::start().await.unwrap();
    mock.expect(Expectation::get_call(ID).times(1500));
    get_n(&mock, 1500).await;
    mock.verify();
    assert_eq!(mock.received_requests().unwrap().len(), 1000);
}

#[tokio::test]
async fn none_received_is_an_empty_list_not_none() {
    let mock = MockServer::start().await.unwrap();
    assert_eq!(mock.received_requests(), Some(Vec::new()));
}

#[tokio::test]
async fn a_scoped_change_is_undone_when_its_guard_drops() {
    use synthflow_mock::{Fault, GlobalFaults, Scenario};
    let mock = MockServer::start().await.unwrap();
    let status = |mock: &MockServer, id: &str| {
        let url = mock.call_url(id);
        async move { get(&url).await.status().as_u16() }
    };
    {
        let call = mock
            .add_call_scoped(CallBuilder::new("scoped-call"))
            .unwrap();
        assert_eq!(call.call_id(), Some("scoped-call"));
        assert_eq!(status(&mock, "scoped-call").await, 200);
        let _faults = mock.set_faults_scoped(GlobalFaults {
            always: Some(Fault::code(503)),
            ..GlobalFaults::default()
        });
        assert_eq!(status(&mock, ID).await, 503);
    }
    assert_eq!(status(&mock, ID).await, 200);
    assert_ne!(
        status(&mock, "scoped-call").await,
        200,
        "the added call is gone"
    );
    {
        let _sc = mock
            .set_scenario_scoped(ID, Scenario::first_n(1, Fault::code(429)))
            .unwrap();
        assert_eq!(status(&mock, ID).await, 429);
    }
    assert!(mock.state().scenarios().is_empty());
    assert_eq!(status(&mock, ID).await, 200);
}

/// Fails on the old `reset`, which kept added calls, scenarios and faults.
#[tokio::test]
async fn reset_puts_back_the_calls_scenarios_and_faults_it_started_with() {
    use synthflow_mock::{Fault, GlobalFaults, Scenario};
    let mock = MockServer::start().await.unwrap();
    let before = mock.call_ids();
    mock.add_call(CallBuilder::new("added-call")).unwrap();
    mock.set_scenario(ID, Scenario::first_n(1, Fault::code(429)))
        .unwrap();
    mock.set_faults(GlobalFaults {
        always: Some(Fault::code(503)),
        ..GlobalFaults::default()
    });
    mock.expect(Expectation::any().never());
    mock.reset();
    assert_eq!(mock.call_ids(), before);
    assert!(mock.state().scenarios().is_empty());
    assert!(mock.state().faults().is_empty());
    assert_eq!(get(&mock.call_url(ID)).await.status(), 200);
}
