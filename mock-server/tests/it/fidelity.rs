//! Issue 15: the mock answers as integrators saw the live service answer, beyond the vendor's
//! document. Each test names its source: NOTES.md and MAKE-CALL-AND-WEBHOOKS.md in
//! `../shared/reference/` (the "[3P]" lines are integrators' observations). docs/fidelity.md says
//! what each item does.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;
use synthflow_mock::{MockServer, Store};

use crate::support::{repo, start_in, BIN};

/// A model id of the embedded fixtures, and how many calls it has.
fn some_model(mock: &MockServer) -> String {
    let f = mock.state().store().fixtures().next().unwrap().body.clone();
    let v: Value = serde_json::from_slice(&f).unwrap();
    v["response"]["calls"][0]["model_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn list(mock: &MockServer, query: &str) -> (StatusCode, Value) {
    let resp = crate::support::get(mock, &format!("/calls?{query}")).await;
    (resp.status(), resp.json().await.unwrap())
}

// Source: MAKE-CALL-AND-WEBHOOKS.md §1 "400 response" and §3 (list-calls: "3P: max 100, else 400
// with the detail envelope"): {"detail":{"status":"error","description":"Limit must be between 1
// and 100.","request_id":"…","category":"important"}}.
#[tokio::test]
async fn an_out_of_range_limit_gets_the_live_wording_and_category() {
    let mock = MockServer::start().await.unwrap();
    for limit in ["0", "101", "-1", "abc"] {
        let (status, body) = list(&mock, &format!("model_id=m&limit={limit}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={limit}");
        let d = &body["detail"];
        assert_eq!(d["status"], "error");
        assert_eq!(d["description"], "Limit must be between 1 and 100.");
        assert_eq!(d["category"], "important", "limit={limit}");
        assert!(d["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    }
    // The refusals no source shows keep the stored 400's category.
    let (_, body) = list(&mock, "model_id=m&offset=-5").await;
    assert_eq!(body["detail"]["category"], "critical");
}

// Source: MAKE-CALL-AND-WEBHOOKS.md §3 ("from_date/to_date (epoch ms; 3P: ISO/date strings also
// accepted, to_date exclusive").
#[tokio::test]
async fn iso_dates_and_date_times_filter_like_epoch_milliseconds() {
    let mock = MockServer::start().await.unwrap();
    let model = some_model(&mock);
    let (_, all) = list(&mock, &format!("model_id={model}&limit=100")).await;
    let calls = all["response"]["calls"].as_array().unwrap().clone();
    assert!(!calls.is_empty());
    let start: i64 = calls[0]["start_time"].as_str().unwrap().parse().unwrap();
    let day = chrono::DateTime::from_timestamp_millis(start)
        .unwrap()
        .date_naive();
    let from_ms = day
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let to_ms = from_ms + 86_400_000;
    let by_ms = list(
        &mock,
        &format!("model_id={model}&from_date={from_ms}&to_date={to_ms}"),
    )
    .await;
    assert_eq!(by_ms.0, StatusCode::OK);
    assert!(by_ms.1["response"]["pagination"]["total_records"].as_u64() >= Some(1));
    let next = day.succ_opt().unwrap();
    for (from, to) in [
        (day.to_string(), next.to_string()),
        (format!("{day}T00:00:00Z"), format!("{next}T00:00:00Z")),
        (
            format!("{day}T02:00:00%2B02:00"),
            format!("{next}T00:00:00.000%2B00:00"),
        ),
    ] {
        let got = list(
            &mock,
            &format!("model_id={model}&from_date={from}&to_date={to}"),
        )
        .await;
        assert_eq!(got, by_ms, "from_date={from}&to_date={to}");
    }
    let (status, body) = list(&mock, &format!("model_id={model}&from_date=14/10/2025")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"]["description"]
        .as_str()
        .unwrap()
        .contains("ISO 8601"));
}

// Source: MAKE-CALL-AND-WEBHOOKS.md §3 ("unknown params silently ignored", [3P]); issue 15 (a
// client pages with page=).
#[tokio::test]
async fn an_unknown_list_parameter_is_ignored_and_journaled() {
    let mock = MockServer::builder().journal(10).start().await.unwrap();
    let model = some_model(&mock);
    let plain = list(&mock, &format!("model_id={model}&limit=2")).await;
    let paged = list(&mock, &format!("model_id={model}&limit=2&page=2&page=3")).await;
    assert_eq!(plain, paged, "page= changes nothing");
    let entries = mock.received_requests().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0].ignored_params.is_empty());
    assert_eq!(entries[1].ignored_params, ["page"]);
    let json = serde_json::to_value(&entries[1]).unwrap();
    assert_eq!(json["ignored_params"], serde_json::json!(["page"]));
}

// Source: issue 15 ("Prefer: code=503, fault=not-json returns an HTML page titled 502 Bad
// Gateway under a 503 status").
#[tokio::test]
async fn a_not_json_page_is_titled_with_its_own_status() {
    let mock = MockServer::start().await.unwrap();
    let id = mock.call_ids()[0].clone();
    for (prefer, status, title) in [
        ("fault=not-json", 502, "<title>502 Bad Gateway</title>"),
        (
            "code=503, fault=not-json",
            503,
            "<title>503 Service Temporarily Unavailable</title>",
        ),
        (
            "code=500, fault=not-json",
            500,
            "<title>500 Internal Server Error</title>",
        ),
    ] {
        let resp = reqwest::Client::new()
            .get(mock.call_url(&id))
            .bearer_auth("t")
            .header("prefer", prefer)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{prefer}");
        assert_eq!(resp.headers()["content-type"], "text/html");
        let page = resp.text().await.unwrap();
        assert!(page.contains(title), "{prefer}: {page}");
        assert_eq!(page.matches(&status.to_string()).count(), 2, "{page}");
    }
}

/// `GET /v2/calls/{id}` on the running binary with a key and a `Host`.
async fn get_on_host(base: &str, id: &str, key: &str, host: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{base}/calls/{id}"))
        .bearer_auth(key)
        .header("host", host)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

// Source: NOTES.md "Hosts" (each region a hard partition) and "Errors" (a key sent to another
// region's host → 401 "Unauthorized: Invalid or expired token."); MAKE-CALL-AND-WEBHOOKS.md §1 [3P].
#[tokio::test]
async fn a_regional_key_on_another_regions_host_gets_the_live_401() {
    let server = start_in(
        &[
            "--port",
            "0",
            "--token",
            "us:key-us",
            "--token",
            "plain-key",
        ],
        &repo(),
    );
    let id = "4caa9f88-ef88-4980-91e7-f8504ac909f9";
    let (ok, _) = get_on_host(&server.1, id, "key-us", "api.us.synthflow.ai").await;
    assert_eq!(ok, StatusCode::OK);
    for host in [
        "api.eu.synthflow.ai",
        "api.synthflow.ai",
        "eu.localhost:8080",
    ] {
        let (status, body) = get_on_host(&server.1, id, "key-us", host).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{host}");
        let d = &body["detail"];
        assert_eq!(d["description"], "Unauthorized: Invalid or expired token.");
        assert_eq!(d["status"], "error");
        assert!(
            synthflow::contract::check_error_body(&serde_json::to_vec(&body).unwrap(), None)
                .is_empty()
        );
    }
    // A plain key works on every host; a host of no region checks no region.
    for host in ["api.eu.synthflow.ai", "api.us.synthflow.ai", "127.0.0.1"] {
        assert_eq!(
            get_on_host(&server.1, id, "plain-key", host).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        get_on_host(&server.1, id, "key-us", "127.0.0.1").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_output_never_shows_a_regional_key() {
    let mock = crate::support::spawn_capturing(
        &["--port", "0", "--token", "eu:s3cret-eu-key"],
        &[("RUST_LOG", "debug")],
    );
    let id = "4caa9f88-ef88-4980-91e7-f8504ac909f9";
    let (status, _) = get_on_host(&mock.url, id, "s3cret-eu-key", "api.us.synthflow.ai").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // SIGTERM, not kill(): the log is written by a flusher, and a clean stop writes the rest.
    let line = mock.line.clone();
    let stopped = mock.stop();
    let all = format!("{line}{}{}", stopped.stdout, stopped.stderr);
    assert!(all.contains("401"), "the refusal is logged: {all}");
    assert!(!all.contains("s3cret"), "{all}");
}

const SHAPES: [&str; 8] = [
    "duration-as-string",
    "return-value-as-json-string",
    "parameters-hard-coded-as-json-string",
    "extractor-key-extract_info",
    "extractor-key-info_extractor",
    "action-key-with-spaces",
    "judge-results-as-strings",
    "bubble-call-id",
];

// Source: MAKE-CALL-AND-WEBHOOKS.md §2 ("[3P] observed as a string \"25\" in list-calls";
// "return_value and parameters_hard_coded ... JSON-encoded strings"; "Two key prefixes ...
// Identifiers may contain spaces"; judge_results "observed as strings"; §1 Bubble-style ids).
#[test]
fn drift_over_the_extended_set_names_each_off_document_shape() {
    let out = Command::new(BIN)
        .args(["drift", "--format", "json"])
        .arg(repo().join("fixtures/extended"))
        .env_remove("SYNTHFLOW_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let named: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "off-document-shape")
        .map(|f| f["detail"].as_str().unwrap())
        .collect();
    for shape in SHAPES {
        assert!(
            named.iter().any(|d| d.starts_with(&format!("{shape}:"))),
            "{shape} not named: {named:?}"
        );
    }
}

#[tokio::test]
async fn the_extended_set_serves_with_the_opt_in_and_is_refused_without_it() {
    let dir = repo().join("fixtures/extended");
    let strict = Store::from_dir(&dir, synthflow_mock::LoadOptions::default());
    assert!(
        strict.is_err(),
        "the contract checks refuse the extended set"
    );
    let server = start_in(
        &[
            "--port",
            "0",
            "--fixtures",
            dir.to_str().unwrap(),
            "--allow-out-of-spec",
        ],
        &repo(),
    );
    let (status, body) = get_on_host(
        &server.1,
        "1691579123700x31589864853004400",
        "t",
        "127.0.0.1",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let call = &body["response"]["calls"][0];
    assert_eq!(call["duration"], "27");
    // The list serves the string duration as is and filters on its value.
    let model = call["model_id"].as_str().unwrap();
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/calls?model_id={model}&duration_min=27&duration_max=27",
            server.1
        ))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    let page: Value = resp.json().await.unwrap();
    let items = page["response"]["calls"].as_array().unwrap();
    assert!(items
        .iter()
        .any(|c| c["call_id"] == "1691579123700x31589864853004400" && c["duration"] == "27"));
}

#[test]
fn generate_shapes_extended_writes_every_shape_and_validates_only_with_the_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "generate", "--seed", "5", "--count", "4", "--shapes", "extended", "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut named = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir.path().join("calls")).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        named.extend(
            synthflow::contract::shapes::detect(&v)
                .into_iter()
                .map(|s| s.name),
        );
        let id = p.file_stem().unwrap().to_str().unwrap();
        let strict = synthflow::contract::check_call_body(&bytes, Some(id), Default::default());
        assert!(!strict.is_ok(), "{id}: refused without the opt-in");
        let lenient = synthflow::contract::check_call_body(
            &bytes,
            Some(id),
            synthflow::contract::CheckOptions {
                allow_out_of_spec: true,
            },
        );
        assert!(lenient.is_ok(), "{id}: {:?}", lenient.violations);
    }
    assert_eq!(named, SHAPES.into_iter().collect());
    // The default output stays the document's shapes.
    let plain = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["generate", "--seed", "5", "--count", "4", "--out"])
        .arg(plain.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    for e in std::fs::read_dir(plain.path().join("calls")).unwrap() {
        let v: Value = serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
        assert!(synthflow::contract::shapes::detect(&v).is_empty());
    }
}
