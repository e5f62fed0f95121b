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
    for _ in 0..3 {
        get(&mock.call_url(ID)).await;
    }
    get(&format!("{}/calls?model_id=x&limit=500", mock.base_url())).await;
    let bad_list = Expectation::method_path("GET", "/v2/calls").with(|r| r.status == 400);
    mock.expect(Expectation::get_call(ID).at_least(3))
        .expect(Expectation::get_call(ID).at_most(3))
        .expect(bad_list.times(1));
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
        .into_iter()
        .map(|r| r.fault)
        .collect();
    assert_eq!(faults[0].as_deref(), Some("code=429"));
}
