//! Every fault kind through a real HTTP client on loopback, with the body the live service sends.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use synthflow::contract::check_error_body;
use synthflow_mock::{Fault, GlobalFaults, MockServer, RandomFaults};

const ID: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";

async fn get(mock: &MockServer, prefer: Option<&str>) -> reqwest::Result<reqwest::Response> {
    let mut req = reqwest::Client::new()
        .get(format!("{}/calls/{ID}", mock.base_url()))
        .bearer_auth("t");
    if let Some(p) = prefer {
        req = req.header("prefer", p);
    }
    req.send().await
}

#[tokio::test]
async fn prefer_code_forces_each_status_with_the_live_error_body() {
    let mock = MockServer::start().await.unwrap();
    for code in [400u16, 401, 403, 404, 429, 500, 503] {
        let resp = get(&mock, Some(&format!("code={code}"))).await.unwrap();
        assert_eq!(resp.status().as_u16(), code);
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(
            resp.headers()["preference-applied"],
            format!("code={code}").as_str()
        );
        let body = resp.bytes().await.unwrap();
        assert_eq!(check_error_body(&body, None), vec![], "{code}");
    }
}

#[tokio::test]
async fn forced_429_carries_retry_after_by_default() {
    let mock = MockServer::start().await.unwrap();
    let resp = get(&mock, Some("code=429")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "1");
}

#[tokio::test]
async fn retry_after_can_be_switched_off_globally_and_per_request() {
    let mock = MockServer::builder()
        .retry_after(None)
        .start()
        .await
        .unwrap();
    let resp = get(&mock, Some("code=429")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get("retry-after").is_none());
    let resp = get(&mock, Some("code=429, retry-after=7")).await.unwrap();
    assert_eq!(resp.headers()["retry-after"], "7");
    let on = MockServer::start().await.unwrap();
    let resp = get(&on, Some("code=429, retry-after=none")).await.unwrap();
    assert!(resp.headers().get("retry-after").is_none());
}

#[tokio::test]
async fn latency_holds_the_answer_back_at_least_that_long() {
    let mock = MockServer::start().await.unwrap();
    let start = Instant::now();
    let resp = get(&mock, Some("latency=150")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A lower bound on an injected sleep, not a performance assertion.
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn dropped_connection_gives_the_client_a_transport_error() {
    let mock = MockServer::start().await.unwrap();
    let result = match get(&mock, Some("fault=drop")).await {
        Err(e) => Err(e),
        Ok(resp) => resp.bytes().await.map(|_| ()),
    };
    assert!(
        result.is_err(),
        "a dropped connection must not read as a complete answer"
    );
}

#[tokio::test]
async fn truncated_body_is_cut_short_of_its_content_length() {
    let mock = MockServer::start().await.unwrap();
    let resp = get(&mock, Some("fault=truncate")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let full = mock.state().store().get(ID).unwrap().body.len();
    assert_eq!(resp.content_length(), Some(full as u64));
    assert!(resp.bytes().await.is_err(), "the body must end early");
}

#[tokio::test]
async fn not_json_fault_answers_a_gateway_html_page() {
    let mock = MockServer::start().await.unwrap();
    let resp = get(&mock, Some("fault=not-json")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(resp.headers()["content-type"], "text/html");
    let body = resp.bytes().await.unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
    let resp = get(&mock, Some("code=503, fault=not-json")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["content-type"], "text/html");
}

#[tokio::test]
async fn unsupported_prefer_value_is_a_400_naming_it() {
    let mock = MockServer::start().await.unwrap();
    let resp = get(&mock, Some("code=418")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = resp.json().await.unwrap();
    let d = v["detail"]["description"].as_str().unwrap();
    assert!(d.contains("code=418"), "{d}");
}

#[tokio::test]
async fn unknown_prefer_keys_are_ignored() {
    let mock = MockServer::start().await.unwrap();
    let resp = get(&mock, Some("respond-async, wait=10")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn global_fault_applies_to_every_call_and_the_list() {
    let mock = MockServer::builder()
        .faults(GlobalFaults {
            always: Some(Fault::code(503)),
            random: None,
        })
        .start()
        .await
        .unwrap();
    assert_eq!(
        get(&mock, None).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let list = crate::support::get(&mock, "/calls?model_id=x").await;
    assert_eq!(list.status(), StatusCode::SERVICE_UNAVAILABLE);
    // A Prefer header still wins.
    assert_eq!(
        get(&mock, Some("latency=0")).await.unwrap().status(),
        StatusCode::OK
    );
}

async fn statuses_with_seed(seed: u64) -> Vec<u16> {
    let mock = MockServer::builder()
        .faults(GlobalFaults {
            always: None,
            random: Some(RandomFaults::new(0.5, seed, vec![]).unwrap()),
        })
        .start()
        .await
        .unwrap();
    let mut out = Vec::new();
    for _ in 0..40 {
        out.push(get(&mock, None).await.unwrap().status().as_u16());
    }
    out
}

#[tokio::test]
async fn random_faults_at_a_rate_repeat_with_the_same_seed() {
    let a = statuses_with_seed(42).await;
    assert_eq!(a, statuses_with_seed(42).await);
    assert!(a.contains(&200));
    assert!(a.iter().any(|s| [429, 500, 503].contains(s)), "{a:?}");
    assert!(a.iter().all(|s| [200, 429, 500, 503].contains(s)), "{a:?}");
}
