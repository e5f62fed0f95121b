//! A call as it plays, made (`POST /v2/calls`) or inbound (`POST /__admin/inbound-calls`): what
//! Synthflow sends the integrator while it lasts, and what the call's final record and post-call
//! payload then carry.
//!
//! ```text
//! made ──────────────────────────────┐
//! inbound: call_inbound ─▶ endpoint ─┴▶ pending ─ ringing ─ in-progress ─ final
//!          (10 s, +3 more; reply:        │ before-call    │ custom actions │ extractors + answers
//!           route, variables, hang up)   │ actions        │ (each once)    │ into executed_actions;
//!                                        ▼                ▼                ▼ post-call webhook
//! ```
//!
//! Everything sent goes through the one outgoing door (target rules, timeout, answer bound,
//! redaction, journal with the answer). The agent of the call (`model_id`) gives its attached
//! actions: `CUSTOM_ACTION`s are sent once (`run_action_before_call_start` ones at the start,
//! the others when the call is `in-progress`; a call nobody answers runs only the first kind), and
//! `INFORMATION_EXTRACTOR`s give `executed_actions` entries that agree with the transcript. A call
//! with no known agent keeps the factory's entries and gets one default extractor. At the final
//! moment the record is settled with those entries (`AppState::settle_made_call`) and the
//! post-call webhook sent from it, so `GET` and the payload carry the same answers.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::behaviour::agents::Agent;
use crate::behaviour::calls_you::custom_action::{CustomAction, Vars};
use crate::behaviour::calls_you::{extractor, inbound};
use crate::behaviour::made_calls::{self, FinalCall, Made, MakeCallRequest, PerCall};
use crate::behaviour::scenario::Advance;
use crate::state::AppState;
use crate::store::{check_fixture, LoadOptions};

/// The extractor a call with no known agent gets (the issue: "one realistic default").
fn default_extractor() -> Value {
    json!({"YES_NO": {"identifier": "interested", "description": "Is the person interested in what the agent offered?"}})
}

/// What a call does while it plays.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Custom actions run at the start (before `ringing`).
    pub before: Vec<CustomAction>,
    /// Custom actions run when the call is `in-progress`.
    pub during: Vec<CustomAction>,
    /// `INFORMATION_EXTRACTOR` objects.
    pub extractors: Vec<Value>,
    /// The agent had actions: its entries replace the factory's.
    pub replace_entries: bool,
    /// The variables templates may name.
    pub vars: Vars,
}

impl Plan {
    /// The plan of a call of `agent` (`None`: no known agent) with `vars`.
    pub fn for_agent(state: &AppState, agent: Option<&Agent>, vars: Vars) -> Plan {
        let mut plan = Plan {
            vars,
            ..Plan::default()
        };
        let Some(agent) = agent else {
            plan.extractors.push(default_extractor());
            return plan;
        };
        for attached in &agent.actions {
            let Some(action) = state.agents().action(&attached.action_id) else {
                continue;
            };
            match action.kind.as_str() {
                "CUSTOM_ACTION" => match CustomAction::from_config(&action.config) {
                    Ok(a) if a.before_call => plan.before.push(a),
                    Ok(a) => plan.during.push(a),
                    Err(e) => tracing::warn!(action_id = %action.action_id, error = %e,
                        "custom action not played: its object cannot be read"),
                },
                "INFORMATION_EXTRACTOR" => plan.extractors.push(action.config.clone()),
                _ => {}
            }
        }
        plan.replace_entries = !agent.actions.is_empty();
        if plan.extractors.is_empty() && plan.before.is_empty() && plan.during.is_empty() {
            plan.extractors.push(default_extractor());
        }
        plan
    }
}

/// The variables of a call: the system ones the vendor lists and its custom variables.
pub fn call_vars(id: &str, model_id: &str, user: &str, agent_number: &str, inbound: bool) -> Vars {
    let mut v = Vars::new();
    v.insert("call_id".into(), id.to_owned());
    v.insert("model_id".into(), model_id.to_owned());
    v.insert("user_phone_number".into(), user.to_owned());
    // Outbound: from is the agent's number; inbound: to is the number dialled (the agent's).
    let (from, to) = if inbound {
        (user, agent_number)
    } else {
        (agent_number, user)
    };
    v.insert("from_phone_number".into(), from.to_owned());
    v.insert("to_phone_number".into(), to.to_owned());
    let sid: String = id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(32)
        .collect();
    v.insert("twilio_call_sid".into(), format!("CA{sid}"));
    v
}

/// When the made call is `in-progress`, if it ever is: its scenario's third step of four.
fn in_progress_after(made: &Made) -> Option<Duration> {
    let Some(Advance::SinceSet { step_ms }) = made.scenario.lifecycle else {
        return None;
    };
    let gaps = made.final_after.as_millis() as u64 / step_ms.max(1);
    (gaps >= 3).then(|| Duration::from_millis(2 * step_ms))
}

/// Stores `made` with its lifecycle and plays `plan` beside it, under the call's id
/// ([`crate::behaviour::made_calls::Lifecycles`]). Call from within a tokio runtime.
pub fn start(state: &AppState, made: Made, plan: Plan) -> Result<(), crate::error::Refusal> {
    state
        .add_made_call(made.fixture.clone(), made.scenario.clone())
        .map_err(|e| {
            tracing::error!(target: "synthflow_mock::made_calls", error = %e, "cannot store call");
            crate::error::Refusal::from(crate::error::ApiError::Internal)
        })?;
    tracing::info!(
        target: "synthflow_mock::made_calls",
        call_id = %made.fixture.id,
        outcome = %made.outcome,
        final_after_ms = made.final_after.as_millis() as u64,
        "call made"
    );
    let st = state.clone();
    let id = made.fixture.id.clone();
    let url = made.webhook_url.clone();
    state
        .lifecycles()
        .spawn(&id, url, async move { play(st, made, plan).await });
    Ok(())
}

async fn play(state: AppState, made: Made, plan: Plan) {
    let t0 = tokio::time::Instant::now();
    let id = made.fixture.id.clone();
    let out = state.webhooks().outgoing().clone();
    let mut entries = Map::new();
    for a in &plan.before {
        let e = a.run(&out, &id, &plan.vars).await;
        entries.insert(a.name.clone(), e);
    }
    if let Some(at) = in_progress_after(&made) {
        tokio::time::sleep_until(t0 + at).await;
        let runs = plan.during.iter().map(|a| a.run(&out, &id, &plan.vars));
        let done = futures_util::future::join_all(runs).await;
        for (a, e) in plan.during.iter().zip(done) {
            entries.insert(a.name.clone(), e);
        }
    }
    tokio::time::sleep_until(t0 + made.final_after).await;
    let body = match settled_body(&made.fixture.body, &plan, entries) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(call_id = %id, error = %e, "the call's actions could not be folded in: its record stays as made");
            made.fixture.body.clone()
        }
    };
    let settled = match check_fixture(
        &format!("{id}.json"),
        body.clone(),
        &format!("made:{id}"),
        LoadOptions::default(),
    ) {
        Ok(f) => state.settle_made_call(&made.fixture.body, f),
        Err(e) => {
            tracing::error!(call_id = %id, error = %e, "the settled record fails the checks: kept as made");
            false
        }
    };
    let still_current = settled
        || state
            .store()
            .get(&id)
            .is_some_and(|f| f.body == made.fixture.body);
    if still_current {
        let body = if settled {
            body
        } else {
            made.fixture.body.clone()
        };
        state.call_final(&FinalCall {
            call_id: id,
            webhook_url: made.webhook_url.clone(),
            body,
        });
    }
}

/// The made record with the call's `executed_actions`: the agent's (custom actions' answers and
/// extractors') in place of the factory's when it has any, else added to them.
fn settled_body(made: &[u8], plan: &Plan, actions: Map<String, Value>) -> Result<Bytes, String> {
    let mut v: Value = serde_json::from_slice(made).map_err(|e| e.to_string())?;
    let call = v
        .pointer_mut("/response/calls/0")
        .and_then(Value::as_object_mut)
        .ok_or("no call in the record")?;
    let answered = call.get("status").and_then(Value::as_str) == Some("completed")
        && call
            .get("transcript")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.trim().is_empty());
    let transcript = call
        .get("transcript")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut entries = if plan.replace_entries {
        Map::new()
    } else {
        call.get("executed_actions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    for x in &plan.extractors {
        entries.extend(extractor::entries(
            x,
            transcript.as_deref().filter(|_| answered),
        ));
    }
    entries.extend(actions);
    call.insert("executed_actions".into(), Value::Object(entries));
    serde_json::to_vec(&v)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
}

/// How an inbound call is asked for (`POST /__admin/inbound-calls`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundOrder {
    /// The caller.
    pub from_number: String,
    /// The number dialled: an agent's phone number (`PUT /v2/assistants/{id}/phone_numbers`).
    pub to_number: String,
    /// The agent, when not found by `to_number`.
    #[serde(default)]
    pub model_id: Option<String>,
}

/// Why an inbound call cannot start.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// No agent has the number, and no known `model_id` was given.
    #[error("no agent answers {0}: give a model_id, or attach the number to an agent (PUT /v2/assistants/{{model_id}}/phone_numbers)")]
    NoAgent(String),
}

/// Starts an inbound call: answers its call id at once, and plays the inbound webhook, the
/// routing it decides and then the call, in the background. Call within a tokio runtime.
pub fn start_inbound(
    state: &AppState,
    order: InboundOrder,
) -> Result<(String, String), InboundError> {
    let agent = order
        .model_id
        .as_deref()
        .and_then(|m| state.agents().agent(m))
        .or_else(|| {
            state
                .agents()
                .all_agents()
                .into_iter()
                .find(|a| a.phone_numbers.iter().any(|p| p.number == order.to_number))
        })
        .ok_or_else(|| InboundError::NoAgent(order.to_number.clone()))?;
    let id = made_calls::new_call_id();
    let model_id = agent.model_id.clone();
    let st = state.clone();
    let call_id = id.clone();
    state.lifecycles().spawn(
        &id,
        agent.external_webhook_url().map(str::to_owned),
        async move { inbound_call(st, call_id, agent, order).await },
    );
    Ok((id, model_id))
}

async fn inbound_call(state: AppState, id: String, agent: Agent, order: InboundOrder) {
    let cfg = &state.config().webhooks;
    let decision = match agent.inbound_call_webhook_url() {
        None => inbound::Decision::Route {
            model_id: None,
            custom_variables: Map::new(),
        },
        Some(url) => {
            let default_agent = cfg.inbound.default_agent.as_deref();
            let body = inbound::request_body(default_agent, &order.from_number, &order.to_number);
            let mut headers = http::HeaderMap::new();
            if let Some(secret) = &cfg.secret {
                let sig = synthflow::webhook::sign_inbound(secret.expose(), &body);
                if let Ok(v) = http::HeaderValue::from_str(&sig) {
                    headers.insert(cfg.signature_header.clone(), v);
                }
            }
            for (k, v) in cfg.inbound.headers.iter().chain(&agent_headers(&agent)) {
                if let (Ok(k), Ok(v)) = (
                    http::HeaderName::from_bytes(k.as_bytes()),
                    http::HeaderValue::from_str(v),
                ) {
                    headers.insert(k, v);
                }
            }
            let secret_headers = std::slice::from_ref(&cfg.signature_header);
            let played = inbound::play(
                state.webhooks().outgoing(),
                &id,
                url,
                headers,
                secret_headers,
                &body,
                cfg.inbound.timeout,
            )
            .await;
            match played.decision {
                Some(d) => d,
                None => match default_agent {
                    Some(m) => {
                        tracing::warn!(call_id = %id, default_agent = m, "inbound webhook gave no decision: the default agent takes the call");
                        inbound::Decision::Route {
                            model_id: Some(m.to_owned()),
                            custom_variables: Map::new(),
                        }
                    }
                    None => {
                        tracing::warn!(call_id = %id, "inbound webhook gave no decision and no default agent is set: disconnected");
                        inbound::Decision::Disconnect
                    }
                },
            }
        }
    };
    let routed = match decision {
        inbound::Decision::Disconnect => None,
        inbound::Decision::Route {
            model_id,
            custom_variables,
        } => Some((
            model_id.unwrap_or_else(|| agent.model_id.clone()),
            custom_variables,
        )),
    };
    let made = make_inbound(&state, &id, &order, routed.as_ref());
    let made = match made {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(call_id = %id, error = %e, "inbound call not made");
            return;
        }
    };
    let agent_now = routed.as_ref().and_then(|(m, _)| state.agents().agent(m));
    let plan = match &routed {
        None => Plan::default(),
        Some((m, vars)) => {
            let mut v = call_vars(&id, m, &order.from_number, &order.to_number, true);
            for (k, val) in vars {
                v.insert(k.clone(), text_of(val));
            }
            Plan::for_agent(&state, agent_now.as_ref(), v)
        }
    };
    // The lifecycle of the call itself replaces this task under the same id.
    if let Err(e) = start(&state, made, plan) {
        tracing::error!(call_id = %id, error = ?e, "inbound call not stored");
    }
}

/// The headers an agent asks the inbound request to carry (`inbound_call_webhook_headers`, an
/// object of strings: the mock's own field, kept on the agent like any unknown field).
fn agent_headers(agent: &Agent) -> Vec<(String, String)> {
    agent
        .fields
        .get("inbound_call_webhook_headers")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The record of an inbound call: routed (`Some(agent, variables)`) it plays like a made call
/// with the caller as the lead; disconnected it is a `canceled` call that never rang.
fn make_inbound(
    state: &AppState,
    id: &str,
    order: &InboundOrder,
    routed: Option<&(String, Map<String, Value>)>,
) -> Result<Made, String> {
    let (model_id, vars) = match routed {
        Some((m, v)) => (m.clone(), v.clone()),
        None => (order.model_id.clone().unwrap_or_default(), Map::new()),
    };
    let webhook_url = state
        .agents()
        .agent(&model_id)
        .and_then(|a| a.external_webhook_url().map(str::to_owned));
    let req = MakeCallRequest {
        model_id: model_id.clone(),
        phone: order.from_number.clone(),
        name: "Inbound caller".into(),
        from_phone_number: Some(order.to_number.clone()),
        custom_variables: vars.iter().map(|(k, v)| (k.clone(), text_of(v))).collect(),
        external_webhook_url: webhook_url,
        ..MakeCallRequest::default()
    };
    // Someone who calls in is answered: the outcome rules on numbers are for outbound calls.
    let per_call = if routed.is_some() {
        PerCall {
            outcome: Some(made_calls::Outcome::Completed),
            duration_ms: None,
        }
    } else {
        PerCall {
            outcome: Some(made_calls::Outcome::Failed),
            duration_ms: Some(0),
        }
    };
    let mut made = made_calls::make(
        id,
        &req,
        per_call,
        &state.config().made_calls,
        chrono::Utc::now().timestamp_millis(),
    )
    .map_err(|e| e.to_string())?;
    // As an inbound record: the caller is `from`, the number dialled `to`.
    let mut v: Value = serde_json::from_slice(&made.fixture.body).map_err(|e| e.to_string())?;
    if let Some(c) = v
        .pointer_mut("/response/calls/0")
        .and_then(Value::as_object_mut)
    {
        c.insert("type_of_call".into(), json!("inbound"));
        c.insert("phone_number_from".into(), json!(order.from_number));
        c.insert("phone_number_to".into(), json!(order.to_number));
        if routed.is_none() {
            c.insert("status".into(), json!("canceled"));
            c.insert("end_call_reason".into(), json!("agent_ended_call"));
            c.insert(
                "error_message".into(),
                json!("Disconnected by the inbound-call webhook (an empty call_inbound, or no answer and no default agent)"),
            );
        }
    }
    let body = Bytes::from(serde_json::to_vec(&v).map_err(|e| e.to_string())?);
    made.fixture = check_fixture(
        &format!("{id}.json"),
        body,
        &format!("inbound:{id}"),
        LoadOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    if routed.is_none() {
        // A call that never rang: its record is final at once.
        made.scenario.lifecycle = None;
        made.final_after = Duration::ZERO;
    }
    Ok(made)
}
