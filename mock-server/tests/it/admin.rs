//! The admin API and the journal: off by default, loopback only unless opened, fixtures changed
//! at run time, and a journal that explains misses and never holds a token.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::Request;
use reqwest::StatusCode;
use serde_json::Value;
use synthflow_mock::{app, AdminAccess, AppState, Config, MockServer, Store};
use tower::ServiceExt;

const ID: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";

async fn admin_mock() -> MockServer {
    MockServer::builder()
        .admin(AdminAccess::Loopback)
        .journal(50)
        .start()
        .await
        .unwrap()
}

async fn oneshot_from(access: AdminAccess, peer: &str) -> StatusCode {
    let router = app(AppState::new(
        Store::embedded().unwrap(),
        Config {
            admin: access,
            ..Config::default()
        },
    ));
    let mut req = Request::get("/__admin/requests")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    router.oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn admin_api_is_off_by_default() {
    let mock = MockServer::start().await.unwrap();
    let r = reqwest::get(format!("{}/__admin/requests", mock.uri()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_api_answers_a_loopback_client() {
    let mock = admin_mock().await;
    let r = reqwest::get(format!("{}/__admin/requests", mock.uri()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn admin_api_refuses_a_non_loopback_peer_unless_opened_to_any() {
    // The peer address is set in-process: tests never leave loopback.
    assert_eq!(
        oneshot_from(AdminAccess::Loopback, "10.1.2.3:4000").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        oneshot_from(AdminAccess::Loopback, "[2001:db8::1]:4000").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        oneshot_from(AdminAccess::Loopback, "127.0.0.1:4000").await,
        StatusCode::OK
    );
    assert_eq!(
        oneshot_from(AdminAccess::Any, "10.1.2.3:4000").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn journal_records_requests_without_the_token() {
    let mock = admin_mock().await;
    let http = reqwest::Client::new();
    let secret = "sk-live-0123456789abcdef";
    http.get(format!("{}/calls/{ID}?api_key={secret}", mock.base_url()))
        .bearer_auth(secret)
        .header("x-api-key", secret)
        .send()
        .await
        .unwrap();
    let text = http
        .get(format!("{}/__admin/requests", mock.uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains(secret),
        "the journal holds the token: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    let e = &v["requests"][0];
    assert_eq!(e["path"], format!("/v2/calls/{ID}"));
    assert_eq!(e["status"], 200);
    let headers = e["headers"].as_array().unwrap();
    assert!(headers.contains(&serde_json::json!(["authorization", "Bearer [redacted]"])));
    // Same through the in-process API, and in Debug output.
    let entries = mock.received_requests().unwrap();
    assert!(!format!("{entries:?}").contains(secret));
}

#[tokio::test]
async fn a_miss_is_journaled_with_the_nearest_known_ids() {
    let mock = admin_mock().await;
    let typo = ID.replace("2c94", "2c95");
    let r = crate::support::get(&mock, &format!("/calls/{typo}")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e = mock.received_requests().unwrap().pop().unwrap();
    assert_eq!(e.nearest_ids.first().map(String::as_str), Some(ID));
}

#[tokio::test]
async fn journal_stays_bounded() {
    let mock = admin_mock().await;
    for _ in 0..60 {
        crate::support::get(&mock, &format!("/calls/{ID}")).await;
    }
    let e = mock.received_requests().unwrap();
    assert_eq!(e.len(), 50);
    assert_eq!(e.last().unwrap().seq, 60);
}

#[tokio::test]
async fn admin_adds_replaces_and_deletes_a_call() {
    let mock = admin_mock().await;
    let http = reqwest::Client::new();
    let body = mock.state().store().get(ID).unwrap().body.clone();
    let new_id = "00000000-aaaa-4bbb-8ccc-000000000001";
    let new_body = String::from_utf8(body.to_vec())
        .unwrap()
        .replace(ID, new_id);
    let r = http
        .put(format!("{}/__admin/calls/{new_id}", mock.uri()))
        .body(new_body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got = crate::support::get(&mock, &format!("/calls/{new_id}")).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.text().await.unwrap(), new_body);
    // A body that breaks the contract is refused with the reason.
    let r = http
        .put(format!("{}/__admin/calls/{new_id}", mock.uri()))
        .body(new_body.replace("\"duration\":72", "\"duration\":-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let d: Value = r.json().await.unwrap();
    assert!(d["detail"]["description"]
        .as_str()
        .unwrap()
        .contains("duration"));
    let r = http
        .delete(format!("{}/__admin/calls/{new_id}", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let gone = crate::support::get(&mock, &format!("/calls/{new_id}")).await;
    assert_eq!(gone.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn admin_sets_and_clears_global_faults() {
    let mock = admin_mock().await;
    let http = reqwest::Client::new();
    let r = http
        .put(format!("{}/__admin/faults", mock.uri()))
        .body(r#"{"always":"code=500"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let get = || {
        http.get(format!("{}/calls/{ID}", mock.base_url()))
            .bearer_auth("t")
            .send()
    };
    assert_eq!(
        get().await.unwrap().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        mock.received_requests()
            .unwrap()
            .last()
            .unwrap()
            .fault
            .as_deref(),
        Some("code=500")
    );
    http.delete(format!("{}/__admin/faults", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(get().await.unwrap().status(), StatusCode::OK);
    let bad = http
        .put(format!("{}/__admin/faults", mock.uri()))
        .body(r#"{"always":"code=999"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
