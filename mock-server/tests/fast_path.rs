//! The fast path gives exactly the router's answer, and only takes requests it may answer.

use axum::body::{to_bytes, Body};
use http::{header, Request};
use synthflow_mock::fast_path::answer;
use synthflow_mock::{app, AppState, AuthPolicy, Config, Store};
use tower::ServiceExt;

const ID: &str = "3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0";

fn state(config: Config) -> AppState {
    AppState::new(Store::embedded().unwrap(), config)
}

fn req(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).unwrap()
}

async fn parts(resp: axum::response::Response) -> (u16, Option<String>, Vec<u8>) {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        ct,
        to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
}

async fn compare(state: &AppState, make: impl Fn() -> Request<Body>) -> bool {
    let fast = answer(state, &make());
    let routed = parts(app(state.clone()).oneshot(make()).await.unwrap()).await;
    match fast {
        Some(resp) => {
            assert_eq!(parts(resp).await, routed, "fast path and router disagree");
            true
        }
        None => false,
    }
}

#[tokio::test]
async fn plain_get_of_every_fixture_is_answered_as_the_router_answers() {
    let s = state(Config::default());
    for id in Store::embedded().unwrap().ids() {
        let uri = format!("/v2/calls/{id}");
        assert!(
            compare(&s, || req("GET", &uri, &[("authorization", "Bearer t")])).await,
            "{id}"
        );
    }
}

#[tokio::test]
async fn everything_else_is_left_to_the_router() {
    let s = state(Config::default());
    let call = format!("/v2/calls/{ID}");
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        ("GET", call.clone(), vec![]),
        ("GET", call.clone(), vec![("authorization", "Basic x")]),
        (
            "GET",
            call.clone(),
            vec![("authorization", "Bearer t"), ("authorization", "Bearer u")],
        ),
        (
            "GET",
            call.clone(),
            vec![("authorization", "Bearer t"), ("prefer", "code=429")],
        ),
        ("HEAD", call.clone(), vec![("authorization", "Bearer t")]),
        ("POST", call.clone(), vec![("authorization", "Bearer t")]),
        (
            "GET",
            "/v2/calls/no-such-call".into(),
            vec![("authorization", "Bearer t")],
        ),
        (
            "GET",
            "/v2/calls/3e0d8a52%2Dc716-4f9b-8a24-6b5e13f7c9d0".into(),
            vec![("authorization", "Bearer t")],
        ),
        (
            "GET",
            format!("{call}/x"),
            vec![("authorization", "Bearer t")],
        ),
        (
            "GET",
            "/v2/calls/".into(),
            vec![("authorization", "Bearer t")],
        ),
    ];
    for (m, uri, h) in cases {
        assert!(
            !compare(&s, || req(m, &uri, &h)).await,
            "{m} {uri} {h:?} must go to the router"
        );
    }
}

#[tokio::test]
async fn a_token_outside_the_allowed_list_goes_to_the_router() {
    let s = state(Config {
        auth: AuthPolicy::tokens(["good"]),
        ..Config::default()
    });
    let uri = format!("/v2/calls/{ID}");
    assert!(!compare(&s, || req("GET", &uri, &[("authorization", "Bearer bad")])).await);
    assert!(compare(&s, || req("GET", &uri, &[("authorization", "Bearer good")])).await);
}

#[tokio::test]
async fn journal_or_scenarios_turn_the_fast_path_off() {
    let uri = format!("/v2/calls/{ID}");
    let with_journal = state(Config {
        journal_size: 10,
        ..Config::default()
    });
    assert!(
        !compare(&with_journal, || req(
            "GET",
            &uri,
            &[("authorization", "Bearer t")]
        ))
        .await
    );
    let s = state(Config::default());
    s.set_faults(synthflow_mock::faults::GlobalFaults {
        always: Some("code=503".parse().unwrap()),
        random: None,
    });
    assert!(!compare(&s, || req("GET", &uri, &[("authorization", "Bearer t")])).await);
}
