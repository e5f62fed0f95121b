//! The entry's plain-hit shortcut gives exactly the router's answer (status, every header, body,
//! journal entry), and takes only the requests [`fixture_hit`] says it may.

use axum::body::{to_bytes, Body};
use http::{HeaderMap, Request};
use serde_json::Value;
use synthflow_mock::{app, AppState, AuthPolicy, Config, GlobalFaults, Store};
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

/// Status, every header, and the body with the per-answer `request_id`/`timestamp` of an error
/// body blanked (they are fresh on every answer, whichever way it went).
async fn whole(resp: axum::response::Response) -> (u16, HeaderMap, Vec<u8>) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(mut v) if v.pointer("/detail/request_id").is_some() => {
            v["detail"]["request_id"] = Value::Null;
            v["detail"]["timestamp"] = Value::Null;
            serde_json::to_vec(&v).unwrap()
        }
        _ => body.to_vec(),
    };
    (status, headers, body)
}

/// Sends the request both ways (shortcut on, shortcut off) and compares whole answers; returns
/// whether the shortcut took it.
async fn compare(state: &AppState, make: impl Fn() -> Request<Body>) -> bool {
    let entry = app(state.clone());
    let answer = entry.handle(make());
    let shortcut = answer.is_shortcut();
    let fast = whole(entry.clone().oneshot(make()).await.unwrap()).await;
    let routed = whole(
        entry
            .clone()
            .without_shortcut()
            .oneshot(make())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(fast, routed, "shortcut and router disagree");
    shortcut
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
async fn everything_else_is_left_to_the_router_with_the_same_answer() {
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
async fn a_global_fault_turns_the_shortcut_off() {
    let uri = format!("/v2/calls/{ID}");
    let s = state(Config::default());
    s.set_faults(GlobalFaults {
        always: Some("code=503".parse().unwrap()),
        random: None,
    });
    assert!(!compare(&s, || req("GET", &uri, &[("authorization", "Bearer t")])).await);
}

#[tokio::test]
async fn the_journal_records_a_shortcut_hit_as_it_records_a_routed_one() {
    let uri = format!("/v2/calls/{ID}?x=1&token=s3cret");
    // A journal does not turn the shortcut off: it records both ways alike.
    let journaled = state(Config {
        journal_size: 10,
        ..Config::default()
    });
    let answer = app(journaled).handle(req("GET", &uri, &[("authorization", "Bearer t")]));
    assert!(answer.is_shortcut());

    let mut recorded = Vec::new();
    for shortcut in [true, false] {
        let s = state(Config {
            journal_size: 10,
            ..Config::default()
        });
        let mut e = app(s.clone());
        if !shortcut {
            e = e.without_shortcut();
        }
        e.oneshot(req("GET", &uri, &[("authorization", "Bearer t")]))
            .await
            .unwrap();
        let mut got = s.journal().entries();
        assert_eq!(got.len(), 1);
        got[0].at.clear();
        recorded.push(got);
    }
    assert_eq!(recorded[0], recorded[1]);
    assert_eq!(recorded[0][0].status, 200);
    assert!(!format!("{:?}", recorded[0]).contains("s3cret"));
}
