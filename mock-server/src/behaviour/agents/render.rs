//! The vendor's response bodies for agents and actions (`spec/synthflow-openapi.json`), built
//! from what the store holds: `{"status": "ok", "response": {...}}` like every other answer.

use serde_json::{json, Map, Value};

use super::{kinds, Action, Agent};

/// `{"status":"ok","response":response}` as bytes.
pub fn ok(response: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"status": "ok", "response": response}))
        .expect("a JSON value encodes")
}

/// `{"status":"ok"}` (the phone number operations answer no `response`).
pub fn ok_bare() -> Vec<u8> {
    br#"{"status":"ok"}"#.to_vec()
}

fn pagination(total: usize, limit: usize, offset: usize) -> Value {
    json!({"total_records": total, "limit": limit, "offset": offset})
}

/// An agent as `GET /v2/assistants/{model_id}` lists it: the fields it holds, its id, its phone
/// numbers, and with `include_actions` its action ids and per-action `input_variables`.
pub fn agent(a: &Agent, include_actions: bool) -> Value {
    let mut out: Map<String, Value> = a.fields.clone();
    out.insert("model_id".into(), Value::String(a.model_id.clone()));
    let numbers: Vec<Value> = a
        .phone_numbers
        .iter()
        .map(|p| json!({"number": p.number, "sid": Value::Null, "slug": p.slug}))
        .collect();
    out.insert("attached_phone_numbers".into(), Value::Array(numbers));
    if include_actions {
        let ids: Vec<Value> = a
            .actions
            .iter()
            .map(|x| Value::String(x.action_id.clone()))
            .collect();
        let inputs: Vec<Value> = a
            .actions
            .iter()
            .map(|x| {
                json!({
                    "action_id": x.action_id,
                    "values": [],
                    "trigger_condition": x.trigger_condition,
                })
            })
            .collect();
        out.insert("actions".into(), Value::Array(ids));
        out.insert("input_variables".into(), Value::Array(inputs));
    }
    Value::Object(out)
}

/// `GET /v2/assistants/{model_id}`: the list envelope with one agent.
pub fn get_agent(a: &Agent, include_actions: bool) -> Vec<u8> {
    ok(json!({
        "pagination": pagination(1, 1, 0),
        "assistants": [agent(a, include_actions)],
    }))
}

/// `GET /v2/assistants/`: one page.
pub fn list_agents(total: usize, page: &[Agent], limit: usize, offset: usize) -> Vec<u8> {
    let items: Vec<Value> = page.iter().map(|a| agent(a, false)).collect();
    ok(json!({"pagination": pagination(total, limit, offset), "assistants": items}))
}

/// `POST` and `PUT /v2/assistants...`: the id.
pub fn agent_id(model_id: &str) -> Vec<u8> {
    ok(json!({"model_id": model_id}))
}

/// `DELETE` of an agent or an action, and `POST /v2/actions/initialize`.
pub fn answer_ok() -> Vec<u8> {
    ok(json!({"answer": "ok"}))
}

/// An action as listed: id, kind, name, description, and its object under its kind's key (the
/// round trip of what was sent); with `assistants`, the agents it is attached to.
pub fn action(a: &Action, assistants: Option<Vec<String>>) -> Value {
    let mut out = Map::new();
    out.insert("action_id".into(), Value::String(a.action_id.clone()));
    out.insert("action_type".into(), Value::String(a.kind.clone()));
    out.insert("name".into(), Value::String(a.name()));
    out.insert(
        "description".into(),
        Value::String(kinds::description(&a.kind, &a.config)),
    );
    out.insert(a.kind.clone(), a.config.clone());
    if let Some(list) = assistants {
        out.insert(
            "assistants".into(),
            Value::Array(list.into_iter().map(Value::String).collect()),
        );
    }
    Value::Object(out)
}

/// `GET /v2/actions/{action_id}`.
pub fn get_action(a: &Action, assistants: Option<Vec<String>>) -> Vec<u8> {
    ok(json!({"actions": [action(a, assistants)]}))
}

/// `GET /v2/actions`: one page.
pub fn list_actions(total: usize, page: &[Action], limit: usize, offset: usize) -> Vec<u8> {
    let items: Vec<Value> = page.iter().map(|a| action(a, None)).collect();
    ok(json!({"pagination": pagination(total, limit, offset), "actions": items}))
}

/// `POST /v2/actions`: the id, the kind, and the variables a custom action asks the LLM for.
pub fn created_action(a: &Action) -> Vec<u8> {
    let vars: Vec<Value> = a
        .config
        .get("variables_during_the_call")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(|x| x.get("name").cloned()).collect())
        .unwrap_or_default();
    ok(json!({"action_id": a.action_id, "action_type": a.kind, "prompt_variables": vars}))
}

/// `PUT /v2/actions/{action_id}`.
pub fn action_id(action_id: &str) -> Vec<u8> {
    ok(json!({"action_id": action_id}))
}

/// `POST /v2/actions/attach` and `/detach`.
pub fn empty() -> Vec<u8> {
    ok(json!({}))
}
