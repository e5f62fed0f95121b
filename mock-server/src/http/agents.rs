//! `/v2/assistants`: create, list (`/v2/assistants/` as the document spells it, and without the
//! slash as integrators call it), get (`include_actions`), update (only the fields given),
//! delete, and attach/detach phone numbers. The store is [`crate::behaviour::agents`]; bodies are
//! checked against the vendor's request schema there, and every refusal is a live-shaped 400 that
//! names the field (404 where the document declares one: the phone number operations).
//!
//! Also the helpers `http/actions.rs` shares: reading a checked body, paging, boolean queries.

use axum::extract::{Path, Query, Request, State};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::behaviour::agents::validate::{self, FieldError};
use crate::behaviour::agents::{render, AgentError, PhoneNumber, MAX_BODY_BYTES};
use crate::error::{ApiError, Refusal};
use crate::state::AppState;

use super::decide::json as json_body;
use super::make_call::{check_content_type, read_body};

/// The query string, as pairs.
pub(super) type Pairs =
    Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

/// A path parameter, or the refusal for one that cannot be read.
pub(super) type PathId = Result<Path<String>, axum::extract::rejection::PathRejection>;

/// A 400 whose description names the field.
pub(super) fn bad(e: FieldError) -> Refusal {
    ApiError::BadQuery.describe(e)
}

/// A store refusal: unknown ids are the documented 400 (404 where `as_404`).
pub(super) fn refused(e: AgentError, as_404: bool) -> Refusal {
    if as_404 {
        ApiError::UnknownCallId { as_404: true }.describe(e.to_string())
    } else {
        bad(e.to_string())
    }
}

/// JSON bytes as a 200.
pub(super) fn answer(body: Vec<u8>) -> Response {
    json_body(Bytes::from(body))
}

/// Auth, content type, the body (up to [`MAX_BODY_BYTES`]), checked against the request schema
/// of `method path` in the vendor's document.
pub(super) async fn checked_body(
    state: &AppState,
    req: Request,
    path: &str,
    method: &str,
) -> Result<Map<String, Value>, Refusal> {
    state.config().auth.check(req.headers())?;
    check_content_type(req.headers())?;
    let body = read_body(req, MAX_BODY_BYTES).await?;
    validate::parse_body(&body, path, method).map_err(bad)
}

/// The path parameter named `what`.
pub(super) fn path_id(id: PathId, what: &str) -> Result<String, Refusal> {
    match id {
        Ok(Path(id)) if !id.is_empty() => Ok(id),
        _ => Err(bad(format!("{what}: cannot be read from the path"))),
    }
}

/// Query parameters: the last value of `name`.
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `limit` (default 20) and `offset` (default 0), non-negative integers.
pub(super) fn paging(query: Pairs) -> Result<(usize, usize), Refusal> {
    let Ok(Query(pairs)) = query else {
        return Err(bad("query string cannot be decoded".into()));
    };
    let num = |name: &str, default: usize| match param(&pairs, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| bad(format!("{name}: must be a non-negative integer, not {v:?}"))),
    };
    Ok((num("limit", 20)?, num("offset", 0)?))
}

/// A boolean query parameter (`true` or `false`; absent: false).
pub(super) fn flag(query: Pairs, name: &str) -> Result<bool, Refusal> {
    let Ok(Query(pairs)) = query else {
        return Err(bad("query string cannot be decoded".into()));
    };
    match param(&pairs, name) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(bad(format!("{name}: must be true or false, not {v:?}"))),
    }
}

/// The agent webhook URLs must be deliverable: absolute http(s) URLs.
fn check_urls(body: &Map<String, Value>) -> Result<(), Refusal> {
    for field in ["external_webhook_url", "inbound_call_webhook_url"] {
        if let Some(url) = body.get(field).and_then(Value::as_str) {
            if !url.is_empty() && !validate::is_http_url(url) {
                return Err(bad(format!(
                    "{field}: must be an http or https URL, not {url:?}"
                )));
            }
        }
    }
    Ok(())
}

/// `POST /v2/assistants`.
pub(super) async fn create(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Refusal> {
    let body = checked_body(&state, req, "/assistants", "post").await?;
    check_urls(&body)?;
    let model_id = state.agents().create_agent(body);
    tracing::info!(target: "synthflow_mock::agents", model_id = %model_id, "agent created");
    Ok(answer(render::agent_id(&model_id)))
}

/// `GET /v2/assistants/` (and without the slash).
pub(super) async fn list(
    State(state): State<AppState>,
    query: Pairs,
    req: Request,
) -> Result<Response, Refusal> {
    state.config().auth.check(req.headers())?;
    let (limit, offset) = paging(query)?;
    let (total, page) = state.agents().agents_page(limit, offset);
    Ok(answer(render::list_agents(total, &page, limit, offset)))
}

/// `GET /v2/assistants/{model_id}`.
pub(super) async fn get(
    State(state): State<AppState>,
    id: PathId,
    query: Pairs,
    req: Request,
) -> Result<Response, Refusal> {
    state.config().auth.check(req.headers())?;
    let id = path_id(id, "model_id")?;
    let include = flag(query, "include_actions")?;
    let agent = state
        .agents()
        .agent(&id)
        .ok_or_else(|| refused(AgentError::UnknownAgent(id), false))?;
    Ok(answer(render::get_agent(&agent, include)))
}

/// `PUT /v2/assistants/{model_id}`: only the fields given change.
pub(super) async fn update(
    State(state): State<AppState>,
    id: PathId,
    req: Request,
) -> Result<Response, Refusal> {
    let id = path_id(id, "model_id")?;
    let body = checked_body(&state, req, "/assistants/{model_id}", "put").await?;
    check_urls(&body)?;
    state
        .agents()
        .update_agent(&id, body)
        .map_err(|e| refused(e, false))?;
    Ok(answer(render::agent_id(&id)))
}

/// `DELETE /v2/assistants/{model_id}`.
pub(super) async fn delete(
    State(state): State<AppState>,
    id: PathId,
    req: Request,
) -> Result<Response, Refusal> {
    state.config().auth.check(req.headers())?;
    let id = path_id(id, "model_id")?;
    state
        .agents()
        .delete_agent(&id)
        .map_err(|e| refused(e, false))?;
    Ok(answer(render::answer_ok()))
}

/// `PUT /v2/assistants/{model_id}/phone_numbers`: `phone_numbers` or `phone_number_slugs`.
pub(super) async fn attach_phone_numbers(
    State(state): State<AppState>,
    id: PathId,
    req: Request,
) -> Result<Response, Refusal> {
    let id = path_id(id, "model_id")?;
    let body = checked_body(&state, req, "/assistants/{model_id}/phone_numbers", "put").await?;
    let list = body
        .get("phone_numbers")
        .or_else(|| body.get("phone_number_slugs"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let numbers = list
        .iter()
        .filter_map(Value::as_str)
        .map(PhoneNumber::from_number)
        .collect();
    state
        .agents()
        .attach_phone_numbers(&id, numbers)
        .map_err(|e| refused(e, true))?;
    Ok(answer(render::ok_bare()))
}

/// `DELETE /v2/assistants/{model_id}/phone_numbers/{phone_number_slug}`.
pub(super) async fn detach_phone_number(
    State(state): State<AppState>,
    ids: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    req: Request,
) -> Result<Response, Refusal> {
    state.config().auth.check(req.headers())?;
    let Ok(Path((id, slug))) = ids else {
        return Err(bad(
            "model_id, phone_number_slug: cannot be read from the path".into(),
        ));
    };
    state
        .agents()
        .detach_phone_number(&id, &slug)
        .map_err(|e| refused(e, true))?;
    Ok(answer(render::ok_bare()))
}
