//! `/v2/assistants` and `/v2/actions` over HTTP: the vendor's shapes, updates that change only
//! what is given, refusals that name the field with the live error body and store nothing, the
//! bound, reset, and made calls that use their agent's webhook URL.

use serde_json::{json, Value};
use synthflow::contract::check_error_body;
use synthflow_mock::{AgentConfig, MockServer, Seed};

use crate::support;

fn agent_body(name: &str) -> Value {
    json!({
        "type": "outbound",
        "name": name,
        "external_webhook_url": "http://127.0.0.1:9/agent-hook",
        "agent": {"prompt": "You call leads back.", "llm": "gpt-4.1", "language": "en-US"},
        "x_integrator_tag": {"team": "growth"},
    })
}

fn custom_action() -> Value {
    json!({"CUSTOM_ACTION": {
        "http_mode": "POST",
        "url": "https://crm.example.com/leads/<lead_id>",
        "run_action_before_call_start": false,
        "name": "update_lead",
        "headers": [{"key": "X-Source", "value": "synthflow"}],
        "json_body_stringified": "{\"answer\": \"<answer>\"}",
    }})
}

async fn send(mock: &MockServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", mock.base_url());
    let mut req = client
        .request(method.parse().unwrap(), url)
        .bearer_auth("t");
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A live-shaped 400 whose description contains `needle`.
fn assert_refused(status: u16, body: &Value, needle: &str) {
    assert_eq!(status, 400, "{body}");
    let description = body["detail"]["description"].as_str().unwrap_or("");
    assert!(description.contains(needle), "{needle:?} not in {body}");
    let v = check_error_body(&serde_json::to_vec(body).unwrap(), None);
    assert!(v.is_empty(), "{v:?}");
}

async fn empty_mock() -> MockServer {
    MockServer::builder()
        .agents(AgentConfig {
            seed: Seed::default(),
            ..AgentConfig::default()
        })
        .start()
        .await
        .unwrap()
}

async fn create_agent(mock: &MockServer, name: &str) -> String {
    let (status, v) = send(mock, "POST", "/assistants", Some(agent_body(name))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "ok");
    v["response"]["model_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_agent_round_trips_and_an_update_changes_only_the_fields_given() {
    let mock = empty_mock().await;
    let id = create_agent(&mock, "Sales").await;
    let (status, v) = send(&mock, "GET", &format!("/assistants/{id}"), None).await;
    assert_eq!(status, 200);
    let got = &v["response"]["assistants"][0];
    assert_eq!(got["model_id"], id.as_str());
    assert_eq!(got["name"], "Sales");
    assert_eq!(
        got["x_integrator_tag"],
        json!({"team": "growth"}),
        "unknown fields kept"
    );
    assert_eq!(v["response"]["pagination"]["total_records"], 1);

    let change = json!({"name": "Sales 2", "agent": {"llm": "gpt-5.1"}});
    let (status, _) = send(&mock, "PUT", &format!("/assistants/{id}"), Some(change)).await;
    assert_eq!(status, 200);
    let (_, v) = send(&mock, "GET", &format!("/assistants/{id}"), None).await;
    let got = &v["response"]["assistants"][0];
    assert_eq!(got["name"], "Sales 2");
    assert_eq!(got["external_webhook_url"], "http://127.0.0.1:9/agent-hook");
    assert_eq!(got["agent"]["prompt"], "You call leads back.");
    assert_eq!(got["agent"]["llm"], "gpt-5.1");

    for path in ["/assistants/", "/assistants?limit=1&offset=0"] {
        let (status, v) = send(&mock, "GET", path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            v["response"]["assistants"][0]["model_id"],
            id.as_str(),
            "{path}"
        );
    }

    let (status, _) = send(&mock, "DELETE", &format!("/assistants/{id}"), None).await;
    assert_eq!(status, 200);
    let (status, v) = send(&mock, "GET", &format!("/assistants/{id}"), None).await;
    assert_refused(status, &v, "no agent with model_id");
}

#[tokio::test]
async fn actions_attach_detach_and_list_their_agents() {
    let mock = empty_mock().await;
    let agent = create_agent(&mock, "A").await;
    let (status, v) = send(&mock, "POST", "/actions", Some(custom_action())).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["response"]["action_type"], "CUSTOM_ACTION");
    let action = v["response"]["action_id"].as_str().unwrap().to_owned();

    let attach = json!({"model_id": agent, "actions": [action]});
    let (status, v) = send(&mock, "POST", "/actions/attach", Some(attach)).await;
    assert_eq!(status, 200, "{v}");
    let (_, v) = send(
        &mock,
        "GET",
        &format!("/actions/{action}?include_assistants=true"),
        None,
    )
    .await;
    assert_eq!(v["response"]["actions"][0]["assistants"], json!([agent]));
    assert_eq!(v["response"]["actions"][0]["name"], "update_lead");
    let (_, v) = send(
        &mock,
        "GET",
        &format!("/assistants/{agent}?include_actions=true"),
        None,
    )
    .await;
    assert_eq!(v["response"]["assistants"][0]["actions"], json!([action]));

    let init = json!({"action_id": action, "variables": [{"key": "lead_id", "value": "7"}]});
    let (status, _) = send(&mock, "POST", "/actions/initialize", Some(init)).await;
    assert_eq!(status, 200);

    let detach = json!({"model_id": agent, "actions": [action]});
    let (status, _) = send(&mock, "POST", "/actions/detach", Some(detach)).await;
    assert_eq!(status, 200);
    assert!(mock.agent(&agent).unwrap().actions.is_empty());
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_stores_nothing() {
    let mock = empty_mock().await;
    let agent = create_agent(&mock, "A").await;
    let (_, v) = send(&mock, "POST", "/actions", Some(custom_action())).await;
    let action = v["response"]["action_id"].as_str().unwrap().to_owned();
    let deep = (0..40).fold(json!(1), |v, _| json!([v]));
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "POST",
            "/assistants",
            json!({"name": "n"}),
            "type, agent: field required",
        ),
        (
            "POST",
            "/assistants",
            json!({"type": "outbound", "name": 5, "agent": {}}),
            "name: must be a string",
        ),
        (
            "POST",
            "/assistants",
            json!({"type": "outbound", "name": "x".repeat(1_000_001), "agent": {}}),
            "name: at most 1000 characters",
        ),
        (
            "POST",
            "/assistants",
            json!({"type": "outbound", "name": "n", "agent": {}, "deep": deep}),
            "deeper than 32",
        ),
        (
            "POST",
            "/assistants",
            json!({"type": "outbound", "name": "n", "agent": {}, "external_webhook_url": "not a url"}),
            "external_webhook_url",
        ),
        (
            "POST",
            "/actions",
            json!({"TELEPATHY": {}}),
            "TELEPATHY: unknown action kind",
        ),
        (
            "POST",
            "/actions",
            json!({"CUSTOM_ACTION": {"http_mode": "GET", "url": "ftp://x", "run_action_before_call_start": false, "name": "n"}}),
            "CUSTOM_ACTION.url",
        ),
        (
            "POST",
            "/actions",
            json!({"INFORMATION_EXTRACTOR": {}}),
            "INFORMATION_EXTRACTOR: names no question",
        ),
        (
            "POST",
            "/actions/attach",
            json!({"model_id": "nope", "actions": [action]}),
            "no agent with model_id \"nope\"",
        ),
        (
            "POST",
            "/actions/attach",
            json!({"model_id": agent, "actions": [action, "nope"]}),
            "no action with action_id \"nope\"",
        ),
        (
            "POST",
            "/actions/attach",
            json!({"actions": [action]}),
            "model_id: field required",
        ),
        ("PUT", "/assistants/nope", json!({"name": "n"}), "no agent"),
    ];
    for (method, path, body, needle) in cases {
        let (status, v) = send(&mock, method, path, Some(body)).await;
        assert_refused(status, &v, needle);
    }
    assert!(
        mock.agent(&agent).unwrap().actions.is_empty(),
        "a failed attach attached something"
    );
    let (_, v) = send(&mock, "GET", "/assistants/", None).await;
    assert_eq!(
        v["response"]["pagination"]["total_records"], 1,
        "a refused create stored an agent"
    );
}

#[tokio::test]
async fn the_oldest_agent_is_evicted_past_max_agents_and_reset_restores_the_seed() {
    let mock = MockServer::builder()
        .agents(AgentConfig {
            max_agents: 2,
            ..AgentConfig::default()
        })
        .start()
        .await
        .unwrap();
    let seeded = Seed::embedded().agents;
    assert!(mock.agent(&seeded[1].model_id).is_some());
    let a = create_agent(&mock, "a").await;
    let b = create_agent(&mock, "b").await;
    assert!(seeded.iter().all(|s| mock.agent(&s.model_id).is_none()));
    assert!(mock.agent(&a).is_some() && mock.agent(&b).is_some());
    mock.reset();
    assert!(mock.agent(&a).is_none());
    assert!(mock.agent(&seeded[1].model_id).is_some());
}

fn call_body(model_id: &str, webhook: Option<&str>) -> Value {
    let mut b = json!({"model_id": model_id, "phone": "+14155550100", "name": "Jo"});
    if let Some(url) = webhook {
        b["external_webhook_url"] = json!(url);
    }
    b
}

#[tokio::test]
async fn a_made_call_posts_its_webhook_to_its_agents_url_unless_the_request_names_one() {
    let mock = empty_mock().await;
    let agent_hook = support::receiver(vec![]).await;
    let request_hook = support::receiver(vec![]).await;
    let body = json!({"type": "outbound", "name": "A", "agent": {}, "external_webhook_url": agent_hook.url});
    let (_, v) = send(&mock, "POST", "/assistants", Some(body)).await;
    let model_id = v["response"]["model_id"].as_str().unwrap().to_owned();

    let first = support::post_call(&mock.base_url(), &call_body(&model_id, None)).await;
    let first = first["response"]["call_id"].as_str().unwrap().to_owned();
    let got = agent_hook.wait_for(1).await;
    let payload: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(payload["call"]["call_id"], first.as_str());

    let own = call_body(&model_id, Some(&request_hook.url));
    support::post_call(&mock.base_url(), &own).await;
    request_hook.wait_for(1).await;
    assert_eq!(
        agent_hook.received().len(),
        1,
        "the request's URL comes first"
    );

    let (status, v) = send(&mock, "GET", &format!("/calls?model_id={model_id}"), None).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = v["response"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["call_id"].as_str())
        .collect();
    assert!(ids.contains(&first.as_str()), "{ids:?}");
}

#[tokio::test]
async fn strict_agents_refuses_a_call_for_an_unknown_agent_and_the_default_accepts_it() {
    let lax = empty_mock().await;
    let (status, _) = send(
        &lax,
        "POST",
        "/calls",
        Some(call_body("unknown-agent", None)),
    )
    .await;
    assert_eq!(status, 200);
    let strict = MockServer::builder()
        .agents(AgentConfig {
            strict: true,
            ..AgentConfig::default()
        })
        .start()
        .await
        .unwrap();
    let (status, v) = send(
        &strict,
        "POST",
        "/calls",
        Some(call_body("unknown-agent", None)),
    )
    .await;
    assert_refused(status, &v, "model_id: no agent");
    let seeded = &Seed::embedded().agents[0].model_id;
    let (status, _) = send(&strict, "POST", "/calls", Some(call_body(seeded, None))).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn agents_need_the_bearer_token_like_every_route() {
    let mock = empty_mock().await;
    let resp = reqwest::get(format!("{}/assistants/", mock.base_url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn the_admin_api_lists_agents_with_their_actions_and_reset_restores_the_seed() {
    let mock = MockServer::builder()
        .admin(synthflow_mock::AdminAccess::Loopback)
        .start()
        .await
        .unwrap();
    let extra = create_agent(&mock, "extra").await;
    let v = support::admin_json(&mock, "/__admin/agents").await;
    let agents = v["agents"].as_array().unwrap();
    assert!(agents.iter().any(|a| a["model_id"] == extra.as_str()));
    let seeded = agents
        .iter()
        .find(|a| a["name"] == "Outbound sales (seed)")
        .unwrap();
    assert_eq!(seeded["actions"].as_array().unwrap().len(), 2, "{seeded}");
    assert_eq!(v["actions"][0]["assistants"].as_array().unwrap().len(), 1);
    let resp = reqwest::Client::new()
        .post(format!("{}/__admin/reset", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(mock.agent(&extra).is_none());
}

#[test]
fn a_bad_agents_folder_stops_the_start_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sales.json");
    std::fs::write(
        &file,
        r#"{"model_id":"m1","type":"outbound","name":"n","agent":{"llm":7}}"#,
    )
    .unwrap();
    let out = support::run(&["--port", "0", "--agents", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "must refuse to start");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--agents") && err.contains("sales.json: agent.llm: must be a string"),
        "{err}"
    );
}
