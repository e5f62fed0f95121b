//! `POST /v2/calls` over HTTP: the call plays its lifecycle by the clock, every refusal has the live
//! error shape, faults apply, outcomes follow the rules, made calls are bounded, and the final hook
//! fires once per call with the final GET body.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use synthflow::contract::{check_call_body, check_error_body, CheckOptions};
use synthflow_mock::{FinalCall, GlobalFaults, MadeCallConfig, MockServer, Outcome, OutcomeRule};

use crate::support;

fn body(phone: &str) -> Value {
    json!({
        "model_id": "0b9f6a1e-agent",
        "phone": phone,
        "name": "Ada Lovelace",
        "from_phone_number": "+15555550199",
        "custom_variables": [{"key": "Company", "value": "Synthflow"}],
        "external_webhook_url": "http://127.0.0.1:9/hook",
    })
}

async fn post_raw(
    mock: &MockServer,
    content_type: Option<&str>,
    prefer: Option<&str>,
    bytes: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/calls", mock.base_url()))
        .bearer_auth("t")
        .body(bytes);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(p) = prefer {
        req = req.header("prefer", p);
    }
    req.send().await.unwrap()
}

/// Makes a call; returns its id.
async fn make(mock: &MockServer, phone: &str, prefer: Option<&str>) -> String {
    let resp = post_raw(
        mock,
        Some("application/json"),
        prefer,
        body(phone).to_string(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["response"]["answer"], "ok");
    assert!(v["eta"].as_u64().is_some_and(|s| s >= 1), "{v}");
    let id = v["response"]["call_id"].as_str().unwrap().to_owned();
    // A UUID v4: 8-4-4-4-12 lowercase hex, version nibble 4, variant 8..b.
    let groups: Vec<&str> = id.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{id}"
    );
    assert!(id
        .chars()
        .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert!(
        groups[2].starts_with('4') && "89ab".contains(&groups[3][..1]),
        "{id}"
    );
    id
}

async fn call_of(mock: &MockServer, id: &str) -> (u16, Value) {
    let resp = support::get(mock, &format!("/calls/{id}")).await;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    if status == 200 {
        let r = check_call_body(&bytes, Some(id), CheckOptions::default());
        assert!(r.is_ok(), "{:?}", r.violations);
    }
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// Polls until the call is final; the statuses seen, each once, in order.
pub(crate) async fn play_out(mock: &MockServer, id: &str) -> (Vec<String>, Value) {
    let mut seen: Vec<String> = Vec::new();
    let start = Instant::now();
    loop {
        let (code, v) = call_of(mock, id).await;
        assert_eq!(code, 200, "{v}");
        let status = v["response"]["calls"][0]["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if seen.last() != Some(&status) {
            assert!(!seen.contains(&status), "{status} came back: {seen:?}");
            seen.push(status.clone());
        }
        if !["pending", "ringing", "in-progress"].contains(&status.as_str()) {
            return (seen, v);
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "not final: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A mock and the calls its final hook was given, in order.
async fn mock_with_final_calls() -> (MockServer, Arc<Mutex<Vec<FinalCall>>>) {
    let mock = MockServer::start().await.unwrap();
    let finals: Arc<Mutex<Vec<FinalCall>>> = Arc::default();
    let sink = finals.clone();
    mock.state()
        .on_call_final(move |c| sink.lock().unwrap().push(c.clone()));
    (mock, finals)
}

#[tokio::test]
async fn a_made_call_plays_every_step_once_in_order_and_is_final_within_3_s() {
    let (mock, finals) = mock_with_final_calls().await;
    let started = Instant::now();
    let id = make(&mock, "+15555550100", None).await;
    let (seen, v) = play_out(&mock, &id).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(seen, ["pending", "ringing", "in-progress", "completed"]);
    let c = &v["response"]["calls"][0];
    assert_eq!(c["name"], "Ada Lovelace");
    assert_eq!(c["phone_number_to"], "+15555550100");
    assert_eq!(c["phone_number_from"], "+15555550199");
    assert_eq!(c["model_id"], "0b9f6a1e-agent");
    assert_eq!(c["prompt_variables"], json!({"Company": "Synthflow"}));
    assert_eq!(c["type_of_call"], "outbound");

    // The list endpoint serves it too.
    let resp = support::get(&mock, "/calls?model_id=0b9f6a1e-agent").await;
    let list: Value = resp.json().await.unwrap();
    let ids: Vec<&str> = list["response"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["call_id"].as_str())
        .collect();
    assert_eq!(ids, [id.as_str()]);

    // The hook fired once, with the final GET body and the webhook URL.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let finals = finals.lock().unwrap().clone();
    assert_eq!(finals.len(), 1);
    assert_eq!(finals[0].call_id, id);
    assert_eq!(
        finals[0].webhook_url.as_deref(),
        Some("http://127.0.0.1:9/hook")
    );
    let get = support::get(&mock, &format!("/calls/{id}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(finals[0].body, get);
}

#[tokio::test]
async fn the_final_hook_fires_once_per_call_after_the_final_step() {
    let (mock, finals) = mock_with_final_calls().await;
    let a = make(&mock, "+15555550100", Some("call-duration=300")).await;
    let b = make(&mock, "+15555550101", Some("call-duration=100")).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        finals.lock().unwrap().is_empty(),
        "fired before the final step"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let got = finals.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    // b is shorter, so it ends first.
    assert_eq!(got[0].call_id, b);
    assert_eq!(got[1].call_id, a);
    for c in &got {
        let (_, v) = call_of(&mock, &c.call_id).await;
        assert_eq!(serde_json::from_slice::<Value>(&c.body).unwrap(), v);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(finals.lock().unwrap().len(), 2, "fired twice");
}

#[tokio::test]
async fn outcomes_follow_the_default_rules_the_configured_rules_and_prefer() {
    let mock = MockServer::start().await.unwrap();
    for (phone, prefer, status, reason) in [
        ("+15555550101", None, "busy", "human_ended_call"),
        ("+15555550102", None, "no-answer", "timeout"),
        ("+15555550103", None, "failed", "error"),
        ("+15555550104", None, "completed", "voicemail"),
        ("+15555550100", Some("outcome=failed"), "failed", "error"),
        (
            "+15555550100",
            Some("outcome=voicemail-left"),
            "completed",
            "voicemail_message_left",
        ),
    ] {
        let p = match prefer {
            Some(p) => format!("{p}, call-duration=30"),
            None => "call-duration=30".to_owned(),
        };
        let id = make(&mock, phone, Some(&p)).await;
        let (seen, v) = play_out(&mock, &id).await;
        let c = &v["response"]["calls"][0];
        assert_eq!(c["status"], status, "{phone} {prefer:?}");
        assert_eq!(c["end_call_reason"], reason, "{phone} {prefer:?}");
        assert_eq!(seen.last().unwrap(), status);
        if status != "completed" {
            assert_eq!(c["transcript"], "", "{phone}: no conversation");
        }
    }

    let custom = MockServer::builder()
        .made_calls(MadeCallConfig {
            outcome_rules: vec!["ends-with:77=busy".parse::<OutcomeRule>().unwrap()],
            ..MadeCallConfig::default()
        })
        .start()
        .await
        .unwrap();
    for (phone, status) in [("+15555550177", "busy"), ("+15555550101", "completed")] {
        let id = make(&custom, phone, Some("call-duration=10")).await;
        let (_, v) = play_out(&custom, &id).await;
        assert_eq!(v["response"]["calls"][0]["status"], status, "{phone}");
    }
    assert_eq!("busy".parse::<Outcome>().unwrap(), Outcome::Busy);
}

#[tokio::test]
async fn made_calls_are_bounded_oldest_evicted_first() {
    let mock = support::mock_keeping(2).await;
    let fixtures = mock.state().store().len();
    let ids = [
        make(&mock, "+15555550100", None).await,
        make(&mock, "+15555550100", None).await,
        make(&mock, "+15555550100", None).await,
    ];
    assert_eq!(mock.state().made_calls(), 2);
    assert_eq!(mock.state().store().len(), fixtures + 2);
    assert_eq!(call_of(&mock, &ids[0]).await.0, 400, "the oldest is gone");
    assert_eq!(call_of(&mock, &ids[1]).await.0, 200);
    assert_eq!(call_of(&mock, &ids[2]).await.0, 200);
}

/// Asserts a refusal: status, JSON in the live shape, a description naming `names`.
async fn assert_refused(resp: reqwest::Response, status: u16, names: &str) {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(check_error_body(&bytes, None), vec![], "{bytes:?}");
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let d = v["detail"]["description"].as_str().unwrap();
    assert!(d.contains(names), "{d:?} should name {names:?}");
}

#[tokio::test]
async fn each_bad_body_is_a_400_in_the_live_shape_naming_the_field() {
    let mock = MockServer::start().await.unwrap();
    let json = Some("application/json");
    let mut cases: Vec<(Option<&str>, String, &str)> = Vec::new();
    for field in ["model_id", "phone", "name"] {
        let mut b = body("+15555550100");
        b.as_object_mut().unwrap().remove(field);
        cases.push((json, b.to_string(), field));
        let mut b = body("+15555550100");
        b[field] = json!(42);
        cases.push((json, b.to_string(), field));
    }
    for (field, bad) in [
        ("from_phone_number", json!(1)),
        ("lead_email", json!(true)),
        ("lead_timezone", json!([])),
        ("prompt", json!({})),
        ("greeting", json!(1.5)),
        ("custom_variables", json!({"Company": "x"})),
        (
            "custom_variables[0].value",
            json!([{"key": "k", "value": 1}]),
        ),
        ("custom_variables[0].key", json!([{"value": "v"}])),
        ("external_webhook_url", json!("not a url")),
    ] {
        let mut b = body("+15555550100");
        let key = field.split('[').next().unwrap();
        b[key] = bad;
        cases.push((json, b.to_string(), field));
    }
    cases.push((json, "{not json".into(), "not valid JSON"));
    cases.push((json, "".into(), "not valid JSON"));
    cases.push((json, "[1,2]".into(), "JSON object"));
    cases.push((json, "\"call\"".into(), "JSON object"));
    let ok = body("+15555550100").to_string();
    cases.push((Some("text/plain"), ok.clone(), "Content-Type"));
    cases.push((None, ok.clone(), "Content-Type"));
    cases.push((
        Some("application/x-www-form-urlencoded"),
        ok,
        "Content-Type",
    ));
    for (ct, b, names) in cases {
        let resp = post_raw(&mock, ct, None, b.clone()).await;
        assert_refused(resp, 400, names).await;
    }
    // A charset parameter is fine.
    let resp = post_raw(
        &mock,
        Some("application/json; charset=utf-8"),
        None,
        body("+15555550100").to_string(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        mock.state().made_calls(),
        1,
        "no refused request made a call"
    );
}

#[tokio::test]
async fn a_10_mb_body_is_a_413_in_the_live_shape_declared_or_chunked() {
    let mock = MockServer::start().await.unwrap();
    let big = vec![b' '; 10 * 1024 * 1024];
    let resp = post_raw(&mock, Some("application/json"), None, big).await;
    assert_refused(resp, 413, "too large").await;
    // Without a Content-Length (chunked, 10 MB offered): refused once the limit is passed.
    let (status, body) = chunked_post(&mock, 160).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(check_error_body(body.as_bytes(), None), vec![], "{body}");
    assert_eq!(mock.state().made_calls(), 0);
}

/// A chunked `POST /v2/calls` of `chunks` × 64 kB written on a raw socket while the answer is read:
/// the status and body of the answer.
async fn chunked_post(mock: &MockServer, chunks: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(mock.addr()).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    let writer = tokio::spawn(async move {
        let head = "POST /v2/calls HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer t\r\n\
                    Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        w.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
        for _ in 0..chunks {
            if w.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = w.write_all(b"0\r\n\r\n").await;
    });
    let mut buf = Vec::new();
    let read = async {
        let mut part = [0u8; 4096];
        loop {
            let n = r.read(&mut part).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&part[..n]);
            let text = String::from_utf8_lossy(&buf);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse::<usize>().ok());
                if len.is_some_and(|l| body.len() >= l) {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer");
    writer.abort();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn auth_and_faults_apply_to_post_too() {
    let mock = MockServer::start().await.unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/calls", mock.base_url()))
        .json(&body("+15555550100"))
        .send()
        .await
        .unwrap();
    assert_refused(resp, 401, "Authorization").await;

    // 429 is the live answer to the call-rate limit: no call is made.
    let resp = post_raw(
        &mock,
        Some("application/json"),
        Some("code=429"),
        body("+15555550100").to_string(),
    )
    .await;
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(resp.headers()["preference-applied"], "code=429");
    assert_refused(resp, 429, "").await;
    assert_eq!(mock.state().made_calls(), 0);

    let started = Instant::now();
    let id = make(&mock, "+15555550100", Some("latency=200")).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(call_of(&mock, &id).await.0, 200);

    mock.set_faults(GlobalFaults {
        always: Some("code=503".parse().unwrap()),
        random: None,
    });
    let resp = post_raw(
        &mock,
        Some("application/json"),
        None,
        body("+15555550100").to_string(),
    )
    .await;
    assert_refused(resp, 503, "").await;
    assert_eq!(mock.state().made_calls(), 1);
}

#[tokio::test]
async fn a_bad_made_call_prefer_key_is_a_400() {
    let mock = MockServer::start().await.unwrap();
    let resp = post_raw(
        &mock,
        Some("application/json"),
        Some("outcome=exploded"),
        body("+15555550100").to_string(),
    )
    .await;
    assert_refused(resp, 400, "outcome").await;
}

#[tokio::test]
async fn the_binary_takes_outcome_rules_and_the_call_duration_from_flags() {
    let server = support::start_in(
        &[
            "--port",
            "0",
            "--outcome-rule",
            "ends-with:9=failed",
            "--call-duration-ms",
            "100",
            "--max-made-calls",
            "5",
        ],
        std::path::Path::new("."),
    );
    let base = server.1.clone();
    let client = reqwest::Client::new();
    let made = support::post_call(&base, &body("+15555550109")).await;
    let id = made["response"]["call_id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v: Value = client
        .get(format!("{base}/calls/{id}"))
        .bearer_auth("x")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["response"]["calls"][0]["status"], "failed", "{v}");

    let out = support::run(&["--port", "0", "--outcome-rule", "ends-with:9=exploded"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--outcome-rule") && err.contains("exploded"),
        "{err}"
    );
}
