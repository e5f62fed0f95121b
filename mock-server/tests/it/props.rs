//! Property: whatever string is sent as the call id, the mock either serves that id's fixture
//! byte for byte or answers the documented 400 with its JSON body; never a 5xx, never a panic.
//! Driven in-process through `synthflow_mock::app`; the id is percent-encoded byte by byte, so
//! every string (control characters, `/`, `..`, non-ASCII) arrives intact in one path segment.

use axum::body::{to_bytes, Body};
use http::{header, Request, StatusCode};
use proptest::prelude::*;
use serde_json::Value;
use synthflow_mock::{app, AppState, Config, Store};
use tower::ServiceExt;

/// Loaded once: validating the fixture set is the slow part, not the requests.
static STORE: std::sync::LazyLock<Store> = std::sync::LazyLock::new(|| Store::embedded().unwrap());

fn encode(id: &str) -> String {
    id.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// The id strings worth trying: anything, plus known ids, near misses of them, and traversal.
fn ids(known: Vec<String>) -> impl Strategy<Value = String> {
    let k1 = known.clone();
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9._:~-]{0,200}",
        "[./%\\\\]{1,12}",
        proptest::sample::select(known),
        (
            proptest::sample::select(k1),
            any::<char>(),
            any::<prop::sample::Index>()
        )
            .prop_map(|(id, c, at)| {
                let mut chars: Vec<char> = id.chars().collect();
                let i = at.index(chars.len() + 1);
                chars.insert(i, c);
                chars.into_iter().collect()
            }),
    ]
}

fn run(
    router: &synthflow_mock::Entry,
    rt: &tokio::runtime::Runtime,
    uri: &str,
) -> (StatusCode, Vec<u8>) {
    rt.block_on(async {
        let req = Request::get(uri)
            .header(header::AUTHORIZATION, "Bearer prop")
            .body(Body::empty())
            .expect("valid request");
        let resp = router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        (
            status,
            to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_id_is_served_or_gets_the_400_body_never_5xx(id in ids(STORE.ids().to_vec())) {
        let store = &*STORE;
        let router = app(AppState::new(store.clone(), Config::default()));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let want_400 = store.errors().bad_request.description().unwrap();

        let (status, body) = run(&router, &rt, &format!("/v2/calls/{}", encode(&id)));
        prop_assert!(!status.is_server_error());
        match store.get(&id) {
            Some(fixture) => {
                prop_assert_eq!(status, StatusCode::OK);
                prop_assert_eq!(&body[..], fixture.body.as_ref());
            }
            None if id.is_empty() => {
                // `/v2/calls/` has no id segment at all: the route's 404 body.
                prop_assert_eq!(status, StatusCode::NOT_FOUND);
                let v: Value = serde_json::from_slice(&body).unwrap();
                prop_assert_eq!(v, serde_json::json!({"detail": "Not Found"}));
            }
            None => {
                prop_assert_eq!(status, StatusCode::BAD_REQUEST);
                let v: Value = serde_json::from_slice(&body).unwrap();
                prop_assert_eq!(v["detail"]["description"].as_str(), Some(want_400.as_str()));
                prop_assert!(synthflow::contract::check_error_body(&body, None).is_empty());
            }
        }
    }
}
