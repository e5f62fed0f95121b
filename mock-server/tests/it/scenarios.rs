//! Scenarios through a real HTTP client on loopback: the lifecycle a polling client sees, fault
//! sequences, progress kept per client, reset through the admin API.

use reqwest::StatusCode;
use synthflow::contract::{check_call_body, CheckOptions};
use synthflow_mock::{AdminAccess, Advance, Fault, MockServer, Scenario};

const ANSWERED: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";
const NO_ANSWER: &str = "b3f9c0a7-5e42-4d81-8e6b-2a0d7f9c3e15";

async fn poll(
    http: &reqwest::Client,
    mock: &MockServer,
    id: &str,
    client: Option<&str>,
) -> (StatusCode, Vec<u8>) {
    let mut req = http
        .get(format!("{}/calls/{id}", mock.base_url()))
        .bearer_auth("t");
    if let Some(c) = client {
        req = req.header("x-mock-client", c);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.bytes().await.unwrap().to_vec())
}

fn status_of(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    v["response"]["calls"][0]["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn polling_a_lifecycle_call_sees_each_status_in_order_and_every_body_passes_the_contract() {
    let mock = MockServer::start().await.unwrap();
    mock.set_scenario(ANSWERED, Scenario::lifecycle_per_poll())
        .unwrap();
    let http = reqwest::Client::new();
    let mut seen = Vec::new();
    for _ in 0..6 {
        let (status, body) = poll(&http, &mock, ANSWERED, None).await;
        assert_eq!(status, StatusCode::OK);
        let report = check_call_body(&body, Some(ANSWERED), CheckOptions::default());
        assert!(report.is_ok(), "{:?}", report.violations);
        seen.push(status_of(&body));
    }
    assert_eq!(
        seen,
        [
            "pending",
            "ringing",
            "in-progress",
            "completed",
            "completed",
            "completed"
        ]
    );
    let last = poll(&http, &mock, ANSWERED, None).await.1;
    assert_eq!(
        last,
        mock.state().store().get(ANSWERED).unwrap().body.as_ref()
    );
}

#[tokio::test]
async fn unanswered_call_goes_from_ringing_straight_to_its_final_status() {
    let mock = MockServer::start().await.unwrap();
    mock.set_scenario(NO_ANSWER, Scenario::lifecycle_per_poll())
        .unwrap();
    let http = reqwest::Client::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(status_of(&poll(&http, &mock, NO_ANSWER, None).await.1));
    }
    assert_eq!(seen, ["pending", "ringing", "no-answer"]);
}

#[tokio::test]
async fn two_polls_per_step_hold_each_status_twice() {
    let mock = MockServer::start().await.unwrap();
    let s = Scenario {
        faults: vec![],
        lifecycle: Some(Advance::PerPoll { polls_per_step: 2 }),
    };
    mock.set_scenario(NO_ANSWER, s).unwrap();
    let http = reqwest::Client::new();
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(status_of(&poll(&http, &mock, NO_ANSWER, None).await.1));
    }
    assert_eq!(
        seen,
        ["pending", "pending", "ringing", "ringing", "no-answer"]
    );
}

#[tokio::test]
async fn first_two_requests_get_429_with_retry_after_then_the_call() {
    let mock = MockServer::start().await.unwrap();
    mock.set_scenario(ANSWERED, Scenario::first_n(2, Fault::code(429)))
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let resp = crate::support::get(&mock, &format!("/calls/{ANSWERED}")).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()["retry-after"], "1");
    }
    let (status, body) = poll(&http, &mock, ANSWERED, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&body), "completed");
}

#[tokio::test]
async fn progress_is_kept_per_client_header() {
    let mock = MockServer::start().await.unwrap();
    mock.set_scenario(ANSWERED, Scenario::lifecycle_per_poll())
        .unwrap();
    let http = reqwest::Client::new();
    let a1 = status_of(&poll(&http, &mock, ANSWERED, Some("a")).await.1);
    let a2 = status_of(&poll(&http, &mock, ANSWERED, Some("a")).await.1);
    let b1 = status_of(&poll(&http, &mock, ANSWERED, Some("b")).await.1);
    assert_eq!(
        (a1.as_str(), a2.as_str(), b1.as_str()),
        ("pending", "ringing", "pending")
    );
}

#[tokio::test]
async fn admin_sets_a_scenario_and_reset_starts_it_again() {
    let mock = MockServer::builder()
        .admin(AdminAccess::Loopback)
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let r = http
        .put(format!("{}/__admin/scenarios/{ANSWERED}", mock.uri()))
        .body(r#"{"lifecycle":{"advance":"per-poll"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(
        status_of(&poll(&http, &mock, ANSWERED, None).await.1),
        "pending"
    );
    assert_eq!(
        status_of(&poll(&http, &mock, ANSWERED, None).await.1),
        "ringing"
    );
    let r = http
        .post(format!("{}/__admin/reset", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        status_of(&poll(&http, &mock, ANSWERED, None).await.1),
        "pending"
    );
}

#[tokio::test]
async fn lifecycle_on_a_call_that_is_still_live_is_refused() {
    let mock = MockServer::start().await.unwrap();
    let pending = "e1b8d6a3-7f50-4c92-a7e4-0d3c9b6f1e28";
    let err = mock
        .set_scenario(pending, Scenario::lifecycle_per_poll())
        .unwrap_err();
    assert!(err.to_string().contains("final call"), "{err}");
}

#[tokio::test]
async fn changing_another_call_keeps_a_scenario_in_progress() {
    let mock = MockServer::start().await.unwrap();
    mock.set_scenario(ANSWERED, Scenario::lifecycle_per_poll())
        .unwrap();
    let http = reqwest::Client::new();
    assert_eq!(
        status_of(&poll(&http, &mock, ANSWERED, None).await.1),
        "pending"
    );
    let other = mock.state().store().get(NO_ANSWER).unwrap().body.clone();
    let copy = String::from_utf8(other.to_vec())
        .unwrap()
        .replace(NO_ANSWER, "00000000-aaaa-4bbb-8ccc-0000000000b2");
    mock.add_call(copy).unwrap();
    assert_eq!(
        status_of(&poll(&http, &mock, ANSWERED, None).await.1),
        "ringing"
    );
}
