//! Synthflow calls the integrator: custom actions during a call, the inbound-call webhook, and
//! the post-call payload that carries both (issue "Synthflow calls you"). Every endpoint is a
//! loopback receiver of this file's that answers what each test asks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::post;
use serde_json::{json, Value};
use synthflow_mock::MockServer;

const SECRET: &str = "whsec-calls-you";

/// One request an [`Endpoints`] got.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    method: String,
    headers: http::HeaderMap,
    body: Value,
    at: std::time::Instant,
}

/// What the endpoints answer: per path prefix, a status and a body, or silence.
#[derive(Clone)]
enum Reply {
    Json(u16, Value),
    Raw(u16, &'static str, Vec<u8>),
    Silent,
    /// A 200 whose JSON body starts and never ends (a byte every 50 ms).
    Endless,
}

type Shared = (Arc<Mutex<Vec<Got>>>, Arc<Mutex<Vec<(String, Reply)>>>);

/// The integrator's three endpoints on one loopback server (`/inbound`, `/action/...`,
/// `/hook`), recording every request.
struct Endpoints {
    base: String,
    got: Arc<Mutex<Vec<Got>>>,
    replies: Arc<Mutex<Vec<(String, Reply)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Endpoints {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn any(
    State((got, replies)): State<Shared>,
    method: http::Method,
    Path(path): Path<String>,
    headers: http::HeaderMap,
    body: bytes::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = format!("/{path}");
    got.lock().unwrap().push(Got {
        path: path.clone(),
        method: method.to_string(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: std::time::Instant::now(),
    });
    let reply = replies
        .lock()
        .unwrap()
        .iter()
        .find(|(p, _)| path.starts_with(p.as_str()))
        .map(|(_, r)| r.clone())
        .unwrap_or(Reply::Json(200, json!({})));
    match reply {
        Reply::Json(s, v) => (
            http::StatusCode::from_u16(s).unwrap(),
            [(http::header::CONTENT_TYPE, "application/json")],
            v.to_string(),
        )
            .into_response(),
        Reply::Raw(s, ct, b) => (
            http::StatusCode::from_u16(s).unwrap(),
            [(http::header::CONTENT_TYPE, ct)],
            b,
        )
            .into_response(),
        Reply::Silent => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            ().into_response()
        }
        Reply::Endless => {
            let bytes = futures_util::stream::unfold(true, |first| async move {
                if !first {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let chunk = bytes::Bytes::from_static(if first { b"{\"a\": [" } else { b" " });
                Some((Ok::<_, std::io::Error>(chunk), false))
            });
            (
                [(http::header::CONTENT_TYPE, "application/json")],
                axum::body::Body::from_stream(bytes),
            )
                .into_response()
        }
    }
}

impl Endpoints {
    async fn start() -> Endpoints {
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let replies: Arc<Mutex<Vec<(String, Reply)>>> = Arc::default();
        let app = axum::Router::new()
            .route("/{*path}", post(any).get(any).put(any).patch(any))
            .with_state((got.clone(), replies.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Endpoints {
            base,
            got,
            replies,
            task,
        }
    }

    fn reply(&self, path: &str, r: Reply) {
        self.replies.lock().unwrap().push((path.to_owned(), r));
    }

    fn got(&self, path: &str) -> Vec<Got> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|g| g.path.starts_with(path))
            .cloned()
            .collect()
    }

    async fn wait(&self, path: &str, n: usize, secs: u64) -> Vec<Got> {
        for _ in 0..secs * 50 {
            let g = self.got(path);
            if g.len() >= n {
                return g;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{path}: got {} of {n}", self.got(path).len());
    }
}

async fn mock(inbound_timeout: Duration, default_agent: Option<String>) -> MockServer {
    let mut config = crate::support::quick_webhooks(SECRET);
    config.inbound.timeout = inbound_timeout;
    config.inbound.default_agent = default_agent;
    config
        .inbound
        .headers
        .push(("x-sa360-secret".into(), "shared-with-the-receiver".into()));
    crate::support::admin_mock(config).await
}

fn agent_body(e: &Endpoints) -> Value {
    json!({
        "type": "outbound",
        "name": "Test drives",
        "external_webhook_url": format!("{}/hook", e.base),
        "inbound_call_webhook_url": format!("{}/inbound", e.base),
        "agent": {"prompt": "You book test drives.", "llm": "gpt-4.1", "language": "en-US"},
    })
}

fn action_body(e: &Endpoints) -> Value {
    json!({"CUSTOM_ACTION": {
        "http_mode": "POST",
        "url": format!("{}/action/orders/<call_id>", e.base),
        "run_action_before_call_start": false,
        "name": "lookup_order",
        "headers": [{"key": "X-Caller", "value": "{user_phone_number}"}],
        "query_parameters": [{"key": "src", "value": "{{source}}"}],
        "variables_before_the_call": [{"key": "source", "value": "mock"}],
        "json_body_stringified": "{\"call\": \"{call_id}\", \"caller\": \"<user_phone_number>\", \"company\": \"{Company}\"}",
        "failure_timeout": 2
    }})
}

fn extractor_body() -> Value {
    json!({"INFORMATION_EXTRACTOR": {"YES_NO": {"identifier": "wants_test_drive", "description": "Did they book a test drive?"}}})
}

async fn get_call(mock: &MockServer, id: &str) -> Value {
    reqwest::Client::new()
        .get(mock.call_url(id))
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["response"]["calls"][0]
        .clone()
}

async fn wait_call(mock: &MockServer, id: &str, final_too: bool) -> Value {
    for _ in 0..500 {
        if mock.state().store().get(id).is_some() && mock.state().lifecycles().is_empty() {
            return get_call(mock, id).await;
        }
        if !final_too && mock.state().store().get(id).is_some() {
            return get_call(mock, id).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("call {id} not settled");
}

#[tokio::test]
async fn a_custom_action_is_sent_filled_while_in_progress_and_its_answer_lands_in_get_and_the_payload(
) {
    let e = Endpoints::start().await;
    e.reply(
        "/action",
        Reply::Json(200, json!({"status": "shipped", "eta_days": 2})),
    );
    let mock = mock(Duration::from_secs(2), None).await;
    let model = mock.add_agent(agent_body(&e)).unwrap();
    let action = mock.add_action(action_body(&e)).unwrap();
    let extractor = mock.add_action(extractor_body()).unwrap();
    mock.attach_action(&model, &action).unwrap();
    mock.attach_action(&model, &extractor).unwrap();
    let made = reqwest::Client::new()
        .post(format!("{}/calls", mock.base_url()))
        .bearer_auth("t")
        .header("Prefer", "call-duration=900, outcome=completed")
        .json(
            &json!({"model_id": model, "phone": "+15555550100", "name": "Ada",
                      "custom_variables": [{"key": "Company", "value": "Acme \"Cars\""}]}),
        )
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let id = made["response"]["call_id"].as_str().unwrap().to_owned();
    let hooks = e.wait("/hook", 1, 10).await;
    let sent = e.got("/action");
    assert_eq!(sent.len(), 1, "sent once");
    let a = &sent[0];
    assert_eq!(a.method, "POST");
    assert_eq!(a.path, format!("/action/orders/{id}"));
    assert_eq!(a.headers["x-caller"], "+15555550100");
    assert_eq!(
        a.body,
        json!({"call": id, "caller": "+15555550100", "company": "Acme \"Cars\""})
    );
    // Sent when in-progress: after two of the three steps (300 ms each), before the end.
    let after = a.at.duration_since(started);
    assert!(after >= Duration::from_millis(500), "{after:?}");
    // Its answer is in the final record and in the payload, beside the extractor's entry.
    let call = get_call(&mock, &id).await;
    let entry = &call["executed_actions"]["lookup_order"];
    assert_eq!(
        entry["return_value"],
        json!({"status": "shipped", "eta_days": 2})
    );
    assert!(entry["error_message"].is_null());
    let x = &call["executed_actions"]["wants_test_drive"];
    assert_eq!(x["action_type"], "extract_info_action_type");
    assert!(x["return_value"]["wants_test_drive"].is_boolean());
    let payload = &hooks[0].body;
    assert_eq!(payload["executed_actions"], call["executed_actions"]);
    assert!(
        payload["analysis"].is_object(),
        "a completed call has its analysis"
    );
    // The request is journaled as an action, with the answer.
    let d = mock.webhook_deliveries();
    let rec = d.iter().find(|d| d.kind == "action").unwrap();
    assert_eq!(rec.answer.as_ref().unwrap().status, 200);
    assert!(rec.url.contains("src=mock"), "{}", rec.url);
}

#[tokio::test]
async fn a_failing_action_is_an_error_message_and_the_call_goes_on() {
    for (reply, why) in [
        (Reply::Json(500, json!({"error": "boom"})), "HTTP 500"),
        (
            Reply::Raw(200, "text/plain", b"not json".to_vec()),
            "not JSON",
        ),
        (
            Reply::Raw(200, "application/json", vec![b' '; 10_000_000]),
            "cut",
        ),
        (Reply::Raw(302, "text/plain", b"moved".to_vec()), "HTTP 302"),
        (Reply::Silent, "timed out"),
        (Reply::Endless, "timed out"),
    ] {
        let e = Endpoints::start().await;
        e.reply("/action", reply);
        let mock = mock(Duration::from_secs(2), None).await;
        let model = mock.add_agent(agent_body(&e)).unwrap();
        let mut body = action_body(&e);
        body["CUSTOM_ACTION"]["failure_timeout"] = json!(1);
        let action = mock.add_action(body).unwrap();
        mock.attach_action(&model, &action).unwrap();
        let made = support_post(&mock, &model, "call-duration=300, outcome=completed").await;
        let hooks = e.wait("/hook", 1, 10).await;
        let entry = &hooks[0].body["executed_actions"]["lookup_order"];
        assert!(entry["return_value"].is_null(), "{why}: {entry}");
        let msg = entry["error_message"].as_str().unwrap_or("");
        assert!(msg.contains(why), "{why}: {msg}");
        assert_eq!(hooks[0].body["call"]["call_id"], made.as_str());
    }
}

async fn support_post(mock: &MockServer, model: &str, prefer: &str) -> String {
    let v = reqwest::Client::new()
        .post(format!("{}/calls", mock.base_url()))
        .bearer_auth("t")
        .header("Prefer", prefer)
        .json(&json!({"model_id": model, "phone": "+15555550100", "name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    v["response"]["call_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_inbound_call_asks_the_endpoint_and_its_variables_reach_the_record_and_payload() {
    let e = Endpoints::start().await;
    e.reply(
        "/inbound",
        Reply::Json(
            200,
            json!({"call_inbound": {"override_model_id": "", "custom_variables": {"tier": "gold", "visits": 3}}}),
        ),
    );
    let mock = mock(Duration::from_secs(2), None).await;
    let model = mock.add_agent(agent_body(&e)).unwrap();
    let id = mock
        .inbound_call("+15555550177", "+15555550999", Some(&model))
        .unwrap();
    let asked = e.wait("/inbound", 1, 10).await;
    assert_eq!(
        asked[0].body,
        json!({"event": "call_inbound", "call_inbound": {"from_number": "+15555550177", "to_number": "+15555550999"}})
    );
    // Signed as documented for the inbound webhook (over from_number), with the extra header.
    let sig = asked[0].headers["synthflow-signature"].to_str().unwrap();
    assert!(synthflow::webhook::verify_signature(
        SECRET,
        "+15555550177",
        sig
    ));
    assert_eq!(
        asked[0].headers["x-sa360-secret"],
        "shared-with-the-receiver"
    );
    let hooks = e.wait("/hook", 1, 15).await;
    let call = wait_call(&mock, &id, true).await;
    assert_eq!(call["type_of_call"], "inbound");
    assert_eq!(call["phone_number_from"], "+15555550177");
    assert_eq!(call["phone_number_to"], "+15555550999");
    assert_eq!(call["model_id"], model.as_str());
    assert_eq!(call["prompt_variables"]["tier"], "gold");
    let p = &hooks[0].body;
    assert_eq!(p["call"]["call_id"], id.as_str());
    assert_eq!(p["lead"]["phone_number"], "+15555550177");
    assert_eq!(p["lead"]["prompt_variables"]["visits"], "3");
    let inbound: Vec<_> = mock
        .webhook_deliveries()
        .into_iter()
        .filter(|d| d.kind == "inbound")
        .collect();
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0].outcome, "delivered");
    assert!(inbound[0].answer.as_ref().unwrap().body.contains("gold"));
}

#[tokio::test]
async fn an_empty_reply_disconnects_and_a_reroute_names_the_other_agent() {
    let e = Endpoints::start().await;
    e.reply("/inbound", Reply::Json(200, json!({})));
    let mock = mock(Duration::from_secs(2), None).await;
    let model = mock.add_agent(agent_body(&e)).unwrap();
    let id = mock
        .inbound_call("+15555550111", "+15555550999", Some(&model))
        .unwrap();
    let call = wait_call(&mock, &id, true).await;
    assert_eq!(call["status"], "canceled");
    assert!(call["error_message"]
        .as_str()
        .unwrap()
        .contains("Disconnected"));

    let other = mock.add_agent(agent_body(&e)).unwrap();
    e.replies.lock().unwrap().clear();
    e.reply(
        "/inbound",
        Reply::Json(200, json!({"call_inbound": {"override_model_id": other}})),
    );
    let id = mock
        .inbound_call("+15555550112", "+15555550999", Some(&model))
        .unwrap();
    let call = wait_call(&mock, &id, false).await;
    assert_eq!(call["model_id"], other.as_str());
}

#[tokio::test]
async fn a_silent_inbound_endpoint_gets_four_requests_then_the_default_agent_or_a_hang_up() {
    for default in [false, true] {
        let e = Endpoints::start().await;
        e.reply("/inbound", Reply::Silent);
        let mock = mock(
            Duration::from_millis(200),
            default.then(|| "fallback-agent".to_owned()),
        )
        .await;
        let model = mock.add_agent(agent_body(&e)).unwrap();
        let id = mock
            .inbound_call("+15555550133", "+15555550999", Some(&model))
            .unwrap();
        let call = wait_call(&mock, &id, false).await;
        let attempts: Vec<_> = mock
            .webhook_deliveries()
            .into_iter()
            .filter(|d| d.kind == "inbound")
            .collect();
        assert_eq!(attempts.len(), 4, "the first and 3 more");
        assert!(attempts
            .iter()
            .all(|a| a.error.as_deref().unwrap_or("").contains("timed out")));
        if default {
            assert_eq!(call["model_id"], "fallback-agent");
            assert_ne!(call["status"], "canceled");
            let asked = e.got("/inbound");
            assert_eq!(asked[0].body["call_inbound"]["model_id"], "fallback-agent");
        } else {
            assert_eq!(call["status"], "canceled");
        }
    }
}

/// An inbound call to an agent whose endpoint answers `reply` every time (400 ms a request, no
/// default agent): the call's record once decided, and the inbound attempts journaled.
async fn inbound_answered(reply: Reply) -> (Value, Vec<synthflow_mock::Delivery>) {
    let e = Endpoints::start().await;
    e.reply("/inbound", reply);
    let mock = mock(Duration::from_millis(400), None).await;
    let model = mock.add_agent(agent_body(&e)).unwrap();
    let id = mock
        .inbound_call("+15555550144", "+15555550999", Some(&model))
        .unwrap();
    let call = wait_call(&mock, &id, false).await;
    let attempts = mock
        .webhook_deliveries()
        .into_iter()
        .filter(|d| d.kind == "inbound")
        .collect();
    (call, attempts)
}

#[tokio::test]
async fn bad_inbound_replies_are_journaled_with_the_reason_and_retried() {
    let (call, attempts) = inbound_answered(Reply::Json(
        200,
        json!({"call_inbound": {"custom_variables": ["not", "an", "object"]}}),
    ))
    .await;
    assert_eq!(call["status"], "canceled");
    assert_eq!(attempts.len(), 4);
    assert!(
        attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("custom_variables: expected an object"),
        "{:?}",
        attempts[0]
    );
}

#[tokio::test]
async fn an_inbound_reply_that_never_ends_is_a_timeout_retried_then_a_hang_up() {
    let (call, attempts) = inbound_answered(Reply::Endless).await;
    assert_eq!(call["status"], "canceled");
    assert_eq!(attempts.len(), 4, "{attempts:?}");
    for a in &attempts {
        let why = a.error.as_deref().unwrap_or("");
        assert!(why.contains("timed out"), "{a:?}");
    }
}

#[tokio::test]
async fn initialize_calls_the_action_once_and_answers_its_result_variables() {
    let e = Endpoints::start().await;
    e.reply("/action", Reply::Json(200, json!({"status": "ready"})));
    let mock = mock(Duration::from_secs(2), None).await;
    let action = mock.add_action(action_body(&e)).unwrap();
    let v: Value = reqwest::Client::new()
        .post(format!("{}/actions/initialize", mock.base_url()))
        .bearer_auth("t")
        .json(&json!({"action_id": action, "variables": [{"key": "call_id", "value": "c-init"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["response"]["answer"], "ok");
    assert_eq!(
        v["response"]["result_variables"],
        json!({"status": "ready"})
    );
    let sent = e.got("/action");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/action/orders/c-init");
}
