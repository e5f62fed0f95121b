//! `GET /v2/logs` and `GET /v2/logs/{webhook_log_id}`: the vendor's ListWebhookLogs and
//! GetWebhookLogDetail, answered from the delivery journal of the outgoing door, so an
//! integrator's reconciliation code has something to read. One journaled attempt is one log.
//!
//! Mapping (the document's words on the left):
//! - `webhook_type`: `external_webhook` ← kind `webhook` (post-call), `inbound_webhook` ←
//!   `inbound`, `custom_action` ← `action`;
//! - `status`: `success` ← `delivered`, `pending` ← `retry` (another attempt follows), `failed` ←
//!   `failed` or `refused`;
//! - `webhook_log_id`: the attempt's sequence number in the journal, as a string;
//! - `request_payload` / `response_payload`: the kept bodies (request 4 kB, answer 2 kB, secrets
//!   redacted) as JSON when they parse, else `{"text": ...}` (the document types both as objects).
//!
//! `workspace_id` is required by the document: without it the answer is its 422 with an
//! `ErrorResponse` body (`{"error", "message"}`); any value is accepted. `page_number` counts from
//! 1, `page_size` defaults to 20 (at most 100).

use std::collections::HashMap;

use super::decide::Json;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::error::Refusal;
use crate::outgoing::Delivery;
use crate::state::AppState;

/// The document's name of a journal kind.
fn webhook_type(kind: &str) -> &'static str {
    match kind {
        "inbound" => "inbound_webhook",
        "action" => "custom_action",
        _ => "external_webhook",
    }
}

/// The document's status of an attempt's outcome.
fn status(outcome: &str) -> &'static str {
    match outcome {
        "delivered" => "success",
        "retry" => "pending",
        _ => "failed",
    }
}

fn unprocessable(message: String) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"error": "validation_error", "message": message})),
    )
        .into_response()
}

fn list_item(d: &Delivery) -> Value {
    json!({
        "request_timestamp": d.at,
        "webhook_log_id": d.seq.to_string(),
        "model_id": d.model_id.clone().unwrap_or_default(),
        "status": status(d.outcome),
        "webhook_url": d.url,
        "response_status_code": d.status,
        "http_method": d.method.to_ascii_lowercase(),
    })
}

fn as_object(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(other) => json!({ "value": other }),
        Err(_) if text.is_empty() => json!({}),
        Err(_) => json!({ "text": text }),
    }
}

fn detail(d: &Delivery) -> Value {
    let headers: Map<String, Value> = d
        .request_headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let query: Map<String, Value> = d
        .url
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (k.to_owned(), Value::String(v.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = json!({
        "webhook_log_id": d.seq.to_string(),
        "webhook_type": webhook_type(d.kind),
        "webhook_url": d.url,
        "call_id": d.call_id,
        "model_id": d.model_id.clone().unwrap_or_default(),
        "workspace_id": "mock-workspace",
        "request_timestamp": d.at,
        "attempt_number": d.attempt,
        "request_headers": headers,
        "request_payload": as_object(&d.request_body),
        "request_query_params": query,
        "duration_ms": d.latency_ms,
        "status": status(d.outcome),
        "request_origin": {"user_agent": crate::outgoing::exchange::USER_AGENT_VALUE},
    });
    let o = out.as_object_mut().expect("an object");
    if let Some(a) = &d.answer {
        o.insert("response_status_code".into(), json!(a.status));
        o.insert("response_payload".into(), as_object(&a.body));
        o.insert("response_size_body".into(), json!(a.body.len()));
        if let Some(t) = &a.content_type {
            o.insert("response_headers".into(), json!({"content-type": t}));
        }
    }
    if let Some(e) = &d.error {
        o.insert("error_message".into(), json!(e));
    }
    out
}

/// Both routes' checks: the API's auth, then the document's required `workspace_id` (its 422).
fn admitted(
    state: &AppState,
    req: &Request,
    q: &HashMap<String, String>,
) -> Result<Option<Response>, Refusal> {
    state.config().auth.check(req.headers())?;
    Ok(q.get("workspace_id")
        .map_or(true, |w| w.is_empty())
        .then(|| unprocessable("workspace_id: field required".into())))
}

/// `GET /v2/logs`.
pub(super) async fn list_logs(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> Result<Response, Refusal> {
    if let Some(refused) = admitted(&state, &req, &q)? {
        return Ok(refused);
    }
    let int = |k: &str, default: usize| -> Result<usize, String> {
        match q.get(k) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| format!("{k}: {v:?} is not an integer")),
        }
    };
    let (page_number, page_size) = match (int("page_number", 1), int("page_size", 20)) {
        (Ok(n), Ok(s)) => (n.max(1), s.clamp(1, 100)),
        (Err(e), _) | (_, Err(e)) => return Ok(unprocessable(e)),
    };
    let want_type = q.get("webhook_type").map(String::as_str);
    let want_status = q.get("status").map(String::as_str);
    let want_method = q.get("http_method").map(|m| m.to_ascii_lowercase());
    let search = q.get("search").map(|s| s.to_lowercase());
    let mut all: Vec<Delivery> = state
        .webhooks()
        .deliveries()
        .into_iter()
        .filter(|d| want_type.map_or(true, |t| t == webhook_type(d.kind)))
        .filter(|d| want_status.map_or(true, |s| s == status(d.outcome)))
        .filter(|d| {
            want_method
                .as_deref()
                .map_or(true, |m| m == d.method.to_ascii_lowercase())
        })
        .filter(|d| q.get("call_id").map_or(true, |c| *c == d.call_id))
        .filter(|d| {
            q.get("assistant_id")
                .map_or(true, |a| d.model_id.as_deref() == Some(a.as_str()))
        })
        .filter(|d| {
            q.get("from_date")
                .map_or(true, |f| d.at.as_str() >= f.as_str())
        })
        .filter(|d| {
            q.get("to_date")
                .map_or(true, |t| d.at.as_str() < t.as_str())
        })
        .filter(|d| {
            search.as_deref().map_or(true, |s| {
                d.url.to_lowercase().contains(s) || d.call_id.to_lowercase().contains(s)
            })
        })
        .collect();
    all.reverse(); // newest first
    let total = all.len();
    let items: Vec<Value> = all
        .iter()
        .skip((page_number - 1) * page_size)
        .take(page_size)
        .map(list_item)
        .collect();
    Ok(Json(json!({
        "status": "ok",
        "response": {"items": items, "total": total, "page_size": page_size, "page_number": page_number},
    }))
    .into_response())
}

/// `GET /v2/logs/{webhook_log_id}`.
pub(super) async fn get_log(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> Result<Response, Refusal> {
    if let Some(refused) = admitted(&state, &req, &q)? {
        return Ok(refused);
    }
    let found = id.parse::<u64>().ok().and_then(|seq| {
        state
            .webhooks()
            .deliveries()
            .into_iter()
            .find(|d| d.seq == seq)
    });
    Ok(match found {
        Some(d) => Json(json!({"status": "ok", "response": detail(&d)})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(
                json!({"error": "not_found", "message": format!("Webhook log {id:.64} not found")}),
            ),
        )
            .into_response(),
    })
}
