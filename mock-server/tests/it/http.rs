//! The router driven in-process (`tower::ServiceExt::oneshot`): what each request gets back.

use axum::body::{to_bytes, Body};
use http::{header, Request, StatusCode};
use serde_json::Value;
use synthflow_mock::{app, AppState, AuthPolicy, Config, Store, UnknownIdStatus};
use tower::ServiceExt;

fn router(config: Config) -> synthflow_mock::Entry {
    app(AppState::new(Store::embedded().unwrap(), config))
}

async fn send(
    router: synthflow_mock::Entry,
    req: Request<Body>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let resp = router.oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status,
        parts.headers,
        to_bytes(body, usize::MAX).await.unwrap().to_vec(),
    )
}

fn get(uri: &str, auth: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(a) = auth {
        b = b.header(header::AUTHORIZATION, a);
    }
    b.body(Body::empty()).unwrap()
}

fn detail_description(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["detail"]["description"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_fixture_is_served_byte_for_byte_as_json() {
    let store = Store::embedded().unwrap();
    let r = router(Config::default());
    for f in store.fixtures() {
        let (status, headers, body) = send(
            r.clone(),
            get(&format!("/v2/calls/{}", f.id), Some("Bearer x")),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(body, f.body.as_ref(), "{}", f.id);
        let rel = f.source.strip_prefix("embedded:").unwrap();
        let on_disk =
            std::fs::read(format!("{}/../fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(body, on_disk);
    }
}

#[tokio::test]
async fn unknown_call_id_returns_400_with_fresh_detail_body() {
    let r = router(Config::default());
    let (s1, h, b1) = send(r.clone(), get("/v2/calls/no-such-call", Some("Bearer x"))).await;
    let (_, _, b2) = send(r, get("/v2/calls/no-such-call", Some("Bearer x"))).await;
    assert_eq!(s1, StatusCode::BAD_REQUEST);
    assert_eq!(h[header::CONTENT_TYPE], "application/json");
    assert!(synthflow::contract::check_error_body(&b1, None).is_empty());
    let (v1, v2): (Value, Value) = (
        serde_json::from_slice(&b1).unwrap(),
        serde_json::from_slice(&b2).unwrap(),
    );
    assert_ne!(
        v1["detail"]["request_id"], v2["detail"]["request_id"],
        "request_id is fresh per answer"
    );
    // Member order as the live service sends it.
    let keys: Vec<&String> = v1["detail"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "status",
            "description",
            "timestamp",
            "request_id",
            "category"
        ]
    );
}

#[tokio::test]
async fn unknown_id_gets_404_when_asked_but_malformed_id_stays_400() {
    let r = router(Config {
        unknown_id: UnknownIdStatus::NotFound,
        ..Config::default()
    });
    let (status, _, body) = send(r.clone(), get("/v2/calls/no-such-call", Some("Bearer x"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(detail_description(&body), "Call not found.");
    let (status, _, _) = send(r, get("/v2/calls/bad%20id%3B", Some("Bearer x"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn missing_or_non_bearer_authorization_is_401_missing() {
    let r = router(Config::default());
    for auth in [
        None,
        Some(""),
        Some("Bearer"),
        Some("Bearer  "),
        Some("Basic dTpw"),
        Some("Token abc"),
    ] {
        let (status, _, body) = send(r.clone(), get("/v2/calls/whatever", auth)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            detail_description(&body),
            "Missing or invalid Authorization header"
        );
    }
}

#[tokio::test]
async fn token_outside_the_allowed_list_is_401_invalid() {
    let r = router(Config {
        auth: AuthPolicy::tokens(["good"]),
        ..Config::default()
    });
    let id = Store::embedded().unwrap().ids()[0].clone();
    let (status, _, body) = send(
        r.clone(),
        get(&format!("/v2/calls/{id}"), Some("Bearer bad")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        detail_description(&body),
        "Unauthorized: Invalid or expired token."
    );
    let (status, _, _) = send(r, get(&format!("/v2/calls/{id}"), Some("Bearer good"))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_method_is_405_with_allow_and_json_body() {
    let r = router(Config::default());
    for m in ["POST", "PUT", "DELETE", "PATCH"] {
        let req = Request::builder()
            .method(m)
            .uri("/v2/calls/x")
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = send(r.clone(), req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{m}");
        assert!(headers[header::ALLOW].to_str().unwrap().contains("GET"));
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(body, br#"{"detail":"Method Not Allowed"}"#);
    }
}

#[tokio::test]
async fn other_paths_are_404_json() {
    let r = router(Config::default());
    // `/v2/calls` is the list endpoint (tests/list.rs).
    for uri in ["/", "/v1/calls/x", "/v2/calls/x/y", "/calls/x"] {
        let (status, headers, body) = send(r.clone(), get(uri, Some("Bearer x"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(body, br#"{"detail":"Not Found"}"#);
    }
}

#[tokio::test]
async fn healthz_answers_without_auth() {
    let (status, _, body) = send(router(Config::default()), get("/healthz", None)).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "ok");
}
