//! The web console at `/__admin/ui`: absent with the admin API off (the 404 of any unknown path),
//! behind the admin guard with it on (a page on another origin cannot drive it), and the two admin
//! reads it uses. The page itself is tested in a browser by `.ci/browser.sh`.

use reqwest::StatusCode;
use serde_json::Value;
use synthflow_mock::{AdminAccess, MockServer};

use crate::support::admin_json;

const ID: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";

async fn admin_mock() -> MockServer {
    MockServer::builder()
        .admin(AdminAccess::Loopback)
        .start()
        .await
        .unwrap()
}

async fn status_and_body(req: reqwest::RequestBuilder) -> (StatusCode, String) {
    let r = req.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn with_the_admin_api_off_the_console_is_the_404_of_an_unknown_route() {
    let mock = MockServer::start().await.unwrap();
    let c = reqwest::Client::new();
    let unknown = status_and_body(c.get(format!("{}/no/such/route", mock.uri()))).await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    for path in [
        "/__admin/ui",
        "/__admin/ui/app.js",
        "/__admin/call-summaries",
        "/__admin/calls/x",
    ] {
        let got = status_and_body(c.get(format!("{}{path}", mock.uri()))).await;
        assert_eq!(got, unknown, "{path}");
    }
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_and_loads_nothing_from_elsewhere() {
    let mock = admin_mock().await;
    let r = reqwest::get(format!("{}/__admin/ui", mock.uri()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
    let html = r.text().await.unwrap();
    assert!(html.contains("/__admin/ui/app.js"));
    assert!(!html.contains("https://"), "no asset from the internet");
    for (file, ty) in [("app.js", "text/javascript"), ("style.css", "text/css")] {
        let r = reqwest::get(format!("{}/__admin/ui/{file}", mock.uri()))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{file}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(ty));
    }
    let r = reqwest::get(format!("{}/__admin/ui/nope.js", mock.uri()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_page_on_another_origin_cannot_drive_the_console() {
    let mock = admin_mock().await;
    let c = reqwest::Client::new();
    let evil = "http://evil.example";
    for path in ["/__admin/ui", "/__admin/call-summaries", "/__admin/faults"] {
        let r = c
            .get(format!("{}{path}", mock.uri()))
            .header("origin", evil)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // What the Faults page sends, from another origin: refused, and nothing changes.
    let r = c
        .put(format!("{}/__admin/faults", mock.uri()))
        .header("origin", evil)
        .header("content-type", "text/plain")
        .body(r#"{"always":"code=503"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let faults: Value = admin_json(&mock, "/__admin/faults").await;
    assert!(faults["faults"]["always"].is_null(), "{faults}");
    // A rebound DNS name naming the mock: refused too.
    let r = c
        .get(format!("{}/__admin/ui", mock.uri()))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The mock's own origin drives it.
    let own = mock.uri().trim_end_matches('/').to_owned();
    let r = c
        .put(format!("{}/__admin/faults", mock.uri()))
        .header("origin", own)
        .json(&serde_json::json!({"always": "code=503"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn call_summaries_page_filter_and_count_every_call() {
    let mock = admin_mock().await;
    let ids: Value = admin_json(&mock, "/__admin/calls").await;
    let n = ids["calls"].as_array().unwrap().len();
    let page: Value = admin_json(&mock, "/__admin/call-summaries?limit=5").await;
    assert_eq!(page["all"], n);
    assert_eq!(page["total"], n);
    assert_eq!(page["calls"].as_array().unwrap().len(), 5.min(n));
    let by_id: Value = admin_json(&mock, &format!("/__admin/call-summaries?id={}", &ID[..8])).await;
    assert_eq!(by_id["total"], 1);
    assert_eq!(by_id["calls"][0]["call_id"], ID);
    let bad = reqwest::get(format!("{}/__admin/call-summaries?limit=x", mock.uri()))
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert!(body.is_object());
}

#[tokio::test]
async fn a_call_is_read_as_stored_without_advancing_its_scenario() {
    let mock = admin_mock().await;
    let c = reqwest::Client::new();
    let r = c
        .put(format!("{}/__admin/scenarios/{ID}", mock.uri()))
        .json(&serde_json::json!({"faults": ["code=429"], "lifecycle": {"advance": "per-poll"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for _ in 0..2 {
        let call: Value = admin_json(&mock, &format!("/__admin/calls/{ID}")).await;
        assert_eq!(call["body"]["response"]["calls"][0]["call_id"], ID);
        assert!(call["scenario"]["steps"].as_array().unwrap().len() > 1);
        assert_eq!(call["scenario"]["clients"], serde_json::json!([]));
    }
    // The first real poll still gets the scenario's first fault, then its first step.
    let first = crate::support::get(&mock, &format!("/calls/{ID}")).await;
    assert_eq!(first.status(), StatusCode::TOO_MANY_REQUESTS);
    let _ = crate::support::get(&mock, &format!("/calls/{ID}")).await;
    let call: Value = admin_json(&mock, &format!("/__admin/calls/{ID}")).await;
    assert_eq!(call["scenario"]["clients"][0]["requests"], 2);
    assert_eq!(call["scenario"]["clients"][0]["step"], 0);
    let r = reqwest::get(format!(
        "{}/__admin/calls/00000000-0000-4000-8000-000000000000",
        mock.uri()
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
