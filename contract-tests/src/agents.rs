//! Agent and action cases (`/v2/assistants`, `/v2/actions`) over a [`Target`]: every answer's
//! status and body against the vendor's whole document with its errata
//! (`synthflow::contract::check_platform_response`, `AGENTS_ERRATA`).
//!
//! Read-only cases run everywhere: `list_assistants`, `list_actions`, `unknown_assistant`,
//! `unknown_action`, `assistants_missing_authorization`. Cases that create, change or delete run
//! only when asked ([`Writes::Allowed`]: always on the mock; on a live account only with
//! `synthflow-check --live-writes` or `SYNTHFLOW_LIVE_WRITES=1`), and delete what they created
//! even when they fail: `agent_lifecycle` (create an agent with a webhook URL, read it back, update
//! one field, create a custom action, attach it, read it with `include_actions`, detach, delete).

use std::time::Duration;

use serde_json::{json, Value};
use synthflow::contract::{check_error_body, check_platform_response};

use crate::{CaseResult, Target, MISSING_AUTH};

/// Whether cases that change the account may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// Read-only cases only (the default against a live account).
    ReadOnly,
    /// Also the cases that create, change and delete (and clean up).
    Allowed,
}

/// Runs the agent and action cases.
pub async fn run_agent_cases(target: &Target, writes: Writes) -> Vec<CaseResult> {
    let api = Api::new(target);
    let mut cases = vec![
        api.read_case(
            "list_assistants",
            "GET",
            "/assistants/",
            "/assistants/",
            200,
        )
        .await,
        api.read_case("list_actions", "GET", "/actions", "/actions", 200)
            .await,
        api.read_case(
            "unknown_assistant",
            "GET",
            "/assistants/00000000-0000-4000-8000-00000000dead",
            "/assistants/{model_id}",
            400,
        )
        .await,
        api.read_case(
            "unknown_action",
            "GET",
            "/actions/00000000-0000-4000-8000-00000000dead",
            "/actions/{action_id}",
            400,
        )
        .await,
        api.missing_auth().await,
    ];
    if writes == Writes::Allowed {
        cases.push(api.agent_lifecycle().await);
    }
    cases
}

struct Api<'a> {
    target: &'a Target,
    http: Result<reqwest::Client, String>,
}

struct Answer {
    status: u16,
    body: Value,
    raw: Vec<u8>,
}

impl<'a> Api<'a> {
    fn new(target: &'a Target) -> Self {
        let http = reqwest::Client::builder()
            .timeout(if target.timeout.is_zero() {
                Duration::from_secs(30)
            } else {
                target.timeout
            })
            .build()
            .map_err(|e| e.to_string());
        Api { target, http }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        auth: bool,
    ) -> Result<Answer, String> {
        let http = self.http.as_ref().map_err(Clone::clone)?;
        let url = format!("{}{path}", self.target.base_url.trim_end_matches('/'));
        let method: reqwest::Method = method.parse().map_err(|_| format!("bad method {method}"))?;
        let mut req = http.request(method, url);
        if auth {
            req = req.bearer_auth(&self.target.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("request failed: {}", e.without_url()))?;
        let status = resp.status().as_u16();
        let raw = resp.bytes().await.map_err(|e| e.to_string())?.to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Ok(Answer { status, body, raw })
    }

    /// Sends, then checks the status and the body against the document (`doc_path` as it spells it).
    async fn checked(
        &self,
        failures: &mut Vec<String>,
        step: &str,
        (method, path, doc_path): (&str, &str, &str),
        body: Option<Value>,
        want: u16,
    ) -> Option<Value> {
        let answer = match self.send(method, path, body, true).await {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{step}: {e}"));
                return None;
            }
        };
        if answer.status != want {
            let text: String = String::from_utf8_lossy(&answer.raw)
                .chars()
                .take(200)
                .collect();
            failures.push(format!(
                "{step}: status: expected {want}, got {} ({text})",
                answer.status
            ));
            return None;
        }
        let violations = check_platform_response(
            doc_path,
            &method.to_ascii_lowercase(),
            answer.status,
            &answer.body,
        );
        failures.extend(violations.iter().map(|v| format!("{step}: body {v}")));
        if want >= 400 {
            failures.extend(
                check_error_body(&answer.raw, None)
                    .iter()
                    .map(|v| format!("{step}: error body {v}")),
            );
        }
        Some(answer.body)
    }

    async fn read_case(
        &self,
        name: &str,
        method: &str,
        path: &str,
        doc_path: &str,
        want: u16,
    ) -> CaseResult {
        let mut failures = Vec::new();
        self.checked(&mut failures, name, (method, path, doc_path), None, want)
            .await;
        CaseResult {
            name: name.into(),
            failures,
        }
    }

    async fn missing_auth(&self) -> CaseResult {
        let name = "assistants_missing_authorization";
        let failures = match self.send("GET", "/assistants/", None, false).await {
            Ok(a) if a.status == 401 => check_error_body(&a.raw, Some(MISSING_AUTH))
                .iter()
                .map(|v| format!("body {v}"))
                .collect(),
            Ok(a) => vec![format!("status: expected 401, got {}", a.status)],
            Err(e) => vec![e],
        };
        CaseResult {
            name: name.into(),
            failures,
        }
    }

    async fn agent_lifecycle(&self) -> CaseResult {
        let mut failures = Vec::new();
        let mut created: (Option<String>, Option<String>) = (None, None);
        self.lifecycle_steps(&mut failures, &mut created).await;
        // Clean up whatever was created, whatever happened.
        if let Some(action) = &created.1 {
            let path = format!("/actions/{action}");
            self.checked(
                &mut failures,
                "cleanup: delete action",
                ("DELETE", &path, "/actions/{action_id}"),
                None,
                200,
            )
            .await;
        }
        if let Some(agent) = &created.0 {
            let path = format!("/assistants/{agent}");
            self.checked(
                &mut failures,
                "cleanup: delete agent",
                ("DELETE", &path, "/assistants/{model_id}"),
                None,
                200,
            )
            .await;
        }
        CaseResult {
            name: "agent_lifecycle".into(),
            failures,
        }
    }

    async fn lifecycle_steps(
        &self,
        failures: &mut Vec<String>,
        created: &mut (Option<String>, Option<String>),
    ) {
        let hook = "https://contract-tests.example.com/synthflow/post-call";
        let agent = json!({
            "type": "outbound",
            "name": "contract-tests agent (deleted by the suite)",
            "external_webhook_url": hook,
            "agent": {"prompt": "Contract test agent.", "llm": "gpt-4.1", "language": "en-US"},
        });
        let Some(v) = self
            .checked(
                failures,
                "create agent",
                ("POST", "/assistants", "/assistants"),
                Some(agent),
                200,
            )
            .await
        else {
            return;
        };
        let Some(model_id) = v["response"]["model_id"].as_str().map(str::to_owned) else {
            failures.push("create agent: no response.model_id".into());
            return;
        };
        created.0 = Some(model_id.clone());
        let agent_path = format!("/assistants/{model_id}");
        let doc_agent = "/assistants/{model_id}";
        if let Some(v) = self
            .checked(
                failures,
                "get agent",
                ("GET", &agent_path, doc_agent),
                None,
                200,
            )
            .await
        {
            let got = &v["response"]["assistants"][0];
            if got["external_webhook_url"] != hook {
                failures.push(format!(
                    "get agent: external_webhook_url is {}",
                    got["external_webhook_url"]
                ));
            }
        }
        let change = json!({"name": "contract-tests agent, renamed"});
        self.checked(
            failures,
            "update agent",
            ("PUT", &agent_path, doc_agent),
            Some(change),
            200,
        )
        .await;
        if let Some(v) = self
            .checked(
                failures,
                "get updated agent",
                ("GET", &agent_path, doc_agent),
                None,
                200,
            )
            .await
        {
            let got = &v["response"]["assistants"][0];
            if got["name"] != "contract-tests agent, renamed" || got["external_webhook_url"] != hook
            {
                failures.push(format!(
                    "update agent: changed more or less than the name: {got}"
                ));
            }
        }
        let action = json!({"CUSTOM_ACTION": {
            "http_mode": "POST",
            "url": "https://contract-tests.example.com/crm/<lead_id>",
            "run_action_before_call_start": false,
            "name": "contract_tests_action",
            "description": "Created and deleted by the contract suite.",
        }});
        let Some(v) = self
            .checked(
                failures,
                "create action",
                ("POST", "/actions", "/actions"),
                Some(action),
                200,
            )
            .await
        else {
            return;
        };
        let Some(action_id) = v["response"]["action_id"].as_str().map(str::to_owned) else {
            failures.push("create action: no response.action_id".into());
            return;
        };
        created.1 = Some(action_id.clone());
        let attach = json!({"model_id": model_id, "actions": [action_id]});
        self.checked(
            failures,
            "attach",
            ("POST", "/actions/attach", "/actions/attach"),
            Some(attach),
            200,
        )
        .await;
        let with_actions = format!("{agent_path}?include_actions=true");
        if let Some(v) = self
            .checked(
                failures,
                "get with actions",
                ("GET", &with_actions, doc_agent),
                None,
                200,
            )
            .await
        {
            let actions = &v["response"]["assistants"][0]["actions"];
            if !actions
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == action_id.as_str()))
            {
                failures.push(format!(
                    "attach: the action is not listed on the agent: {actions}"
                ));
            }
        }
        let detach = json!({"model_id": model_id, "actions": [action_id]});
        self.checked(
            failures,
            "detach",
            ("POST", "/actions/detach", "/actions/detach"),
            Some(detach),
            200,
        )
        .await;
    }
}
