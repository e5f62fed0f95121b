//! `/v2/actions`: create (any of the eight kinds), list, get (`include_assistants`), update,
//! delete, attach to and detach from an agent (all or nothing), and `initialize` (checked and
//! answered as documented; it calls nothing yet). Shared reading and refusals: `http/agents.rs`.

use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::behaviour::agents::{kinds, render, AgentError, Attached};
use crate::behaviour::calls_you::custom_action::{CustomAction, Vars};
use crate::error::Refusal;
use crate::state::AppState;

use super::agents::{answer, bad, checked_body, flag, paging, path_id, refused, Pairs, PathId};

/// `POST /v2/actions`.
pub(super) async fn create(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Refusal> {
    let body = checked_body(&state, req, "/actions", "post").await?;
    let (kind, config) = kinds::kind_of_body(&body).map_err(bad)?;
    let id = state.agents().create_action(kind, config);
    tracing::info!(target: "synthflow_mock::agents", action_id = %id, "action created");
    let action = state
        .agents()
        .action(&id)
        .ok_or_else(|| refused(AgentError::UnknownAction(id), false))?;
    Ok(answer(render::created_action(&action)))
}

/// `GET /v2/actions`.
pub(super) async fn list(
    State(state): State<AppState>,
    query: Pairs,
    req: Request,
) -> Result<Response, Refusal> {
    state.config().auth.check(req.headers())?;
    let (limit, offset) = paging(query)?;
    let (total, page) = state.agents().actions_page(limit, offset);
    Ok(answer(render::list_actions(total, &page, limit, offset)))
}

/// `GET /v2/actions/{action_id}`.
pub(super) async fn get(
    State(state): State<AppState>,
    id: PathId,
    query: Pairs,
    req: Request,
) -> Result<Response, Refusal> {
    state.config().auth.check(req.headers())?;
    let id = path_id(id, "action_id")?;
    let include = flag(query, "include_assistants")?;
    let action = state
        .agents()
        .action(&id)
        .ok_or_else(|| refused(AgentError::UnknownAction(id.clone()), false))?;
    let assistants = include.then(|| state.agents().assistants_of(&id));
    Ok(answer(render::get_action(&action, assistants)))
}

/// `PUT /v2/actions/{action_id}`.
pub(super) async fn update(
    State(state): State<AppState>,
    id: PathId,
    req: Request,
) -> Result<Response, Refusal> {
    let id = path_id(id, "action_id")?;
    let body = checked_body(&state, req, "/actions/{action_id}", "put").await?;
    let (kind, config) = kinds::kind_of_body(&body).map_err(bad)?;
    state
        .agents()
        .update_action(&id, kind, config)
        .map_err(|e| refused(e, false))?;
    Ok(answer(render::action_id(&id)))
}

/// `DELETE /v2/actions/{action_id}`: also detached from every agent.
pub(super) async fn delete(
    State(state): State<AppState>,
    id: PathId,
    req: Request,
) -> Result<Response, Refusal> {
    state.config().auth.check(req.headers())?;
    let id = path_id(id, "action_id")?;
    state
        .agents()
        .delete_action(&id)
        .map_err(|e| refused(e, false))?;
    Ok(answer(render::answer_ok()))
}

fn model_id(body: &Map<String, Value>) -> Result<String, Refusal> {
    match body.get("model_id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(bad("model_id: must not be empty".into())),
    }
}

fn ids(body: &Map<String, Value>) -> Vec<String> {
    body.get("actions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// `POST /v2/actions/attach`: `actions` (ids) and/or `items` (per-agent settings), all or none.
pub(super) async fn attach(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Refusal> {
    let body = checked_body(&state, req, "/actions/attach", "post").await?;
    let model_id = model_id(&body)?;
    let mut items: Vec<Attached> = ids(&body).into_iter().map(Attached::plain).collect();
    if let Some(list) = body.get("items").and_then(Value::as_array) {
        for (i, item) in list.iter().enumerate() {
            let id = text(item.get("action_id")).or_else(|| text(item.get("slug")));
            let Some(id) = id.filter(|s| !s.is_empty()) else {
                return Err(bad(format!("items[{i}]: give action_id or slug")));
            };
            items.push(Attached {
                action_id: id,
                attachment_type: text(item.get("attachment_type")),
                trigger_condition: text(item.get("trigger_condition")),
                input_variables_mapping: item.get("input_variables_mapping").cloned(),
            });
        }
    }
    if items.is_empty() {
        return Err(bad(
            "actions, items: name at least one action to attach".into()
        ));
    }
    state
        .agents()
        .attach(&model_id, items)
        .map_err(|e| refused(e, false))?;
    Ok(answer(render::empty()))
}

/// `POST /v2/actions/detach`, all or none.
pub(super) async fn detach(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Refusal> {
    let body = checked_body(&state, req, "/actions/detach", "post").await?;
    let model_id = model_id(&body)?;
    state
        .agents()
        .detach(&model_id, &ids(&body))
        .map_err(|e| refused(e, false))?;
    Ok(answer(render::empty()))
}

/// `POST /v2/actions/initialize`: the action must exist; nothing is called yet.
pub(super) async fn initialize(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Refusal> {
    let body = checked_body(&state, req, "/actions/initialize", "post").await?;
    let id = text(body.get("action_id")).unwrap_or_default();
    let Some(action) = state.agents().action(&id) else {
        return Err(refused(AgentError::UnknownAction(id), false));
    };
    // A custom action is really called once (through the outgoing door, kind `action`), with the
    // variables given, and its answer given back as the result variables.
    if action.kind != "CUSTOM_ACTION" {
        return Ok(answer(render::answer_ok()));
    }
    let Ok(mut custom) = CustomAction::from_config(&action.config) else {
        return Ok(answer(render::answer_ok()));
    };
    custom.timeout = custom.timeout.min(INITIALIZE_TIMEOUT);
    let mut vars = Vars::new();
    for item in body
        .get("variables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(k), Some(v)) = (text(item.get("key")), text(item.get("value"))) {
            vars.insert(k, v);
        }
    }
    let entry = custom
        .run(
            state.webhooks().outgoing(),
            &format!("initialize:{id}"),
            &vars,
        )
        .await;
    let mut response = Map::new();
    response.insert("answer".into(), Value::String("ok".into()));
    response.insert(
        "result_variables".into(),
        entry.get("return_value").cloned().unwrap_or(Value::Null),
    );
    response.insert(
        "error_message".into(),
        entry.get("error_message").cloned().unwrap_or(Value::Null),
    );
    Ok(answer(render::ok(Value::Object(response))))
}

/// The longest `POST /v2/actions/initialize` waits for the action's endpoint (the action's own
/// `failure_timeout` when shorter).
const INITIALIZE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
