//! The admin API of the post-call webhook sender, merged into [`super::admin::routes`] (behind
//! the same access check).
//!
//! | method + path | body | effect |
//! |---|---|---|
//! | `GET /__admin/webhooks` | | the delivery journal (every attempt), the stats, the faults |
//! | `DELETE /__admin/webhooks` | | empties the delivery journal |
//! | `POST /__admin/webhooks/{call_id}/send` | optional `{"url": "http://..."}` | sends the call's webhook again (the last payload sent, else one built from the served call) |
//! | `GET`/`PUT`/`DELETE /__admin/webhooks/faults` | `{"delay_ms":500,"duplicate":true,"out_of_order":true,"bad_signature":true,"bad_body":"malformed_json"}` | the receiver faults |
//!
//! No answer holds the secret or a signature: the journal never stores them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::decide::Json;
use serde_json::json;

use crate::error::{ApiError, Refusal};
use crate::state::AppState;
use crate::webhook::{PostError, ReceiverFaults};

/// The webhook admin routes (the caller adds the access check).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/__admin/webhooks", get(deliveries).delete(clear))
        .route(
            "/__admin/webhooks/faults",
            get(get_faults).put(put_faults).delete(delete_faults),
        )
        .route("/__admin/webhooks/{call_id}/send", post(send))
}

fn ok(extra: serde_json::Value) -> Response {
    let mut body = json!({"status": "ok"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    Json(body).into_response()
}

async fn deliveries(State(state): State<AppState>) -> Response {
    let w = state.webhooks();
    ok(json!({
        "capacity": w.journal_capacity(),
        "signed": w.config().secret.is_some(),
        "signature_header": w.config().signature_header.as_str(),
        "stats": w.stats(),
        "faults": w.faults(),
        "deliveries": w.deliveries(),
    }))
}

async fn clear(State(state): State<AppState>) -> Response {
    state.webhooks().clear_deliveries();
    ok(json!({}))
}

async fn get_faults(State(state): State<AppState>) -> Response {
    ok(json!({"faults": state.webhooks().faults()}))
}

async fn put_faults(State(state): State<AppState>, body: Bytes) -> Result<Response, Refusal> {
    let faults: ReceiverFaults = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadQuery.describe(format!("webhook faults: {e}")))?;
    state
        .webhooks()
        .set_faults(faults.clone())
        .map_err(|e| ApiError::BadQuery.describe(format!("webhook faults: {e}")))?;
    Ok(ok(json!({"faults": faults})))
}

async fn delete_faults(State(state): State<AppState>) -> Response {
    // No fault is always within bounds.
    let _ = state.webhooks().set_faults(ReceiverFaults::default());
    ok(json!({}))
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SendBody {
    url: Option<String>,
}

async fn send(
    State(state): State<AppState>,
    Path(call_id): Path<String>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let req: SendBody = if body.is_empty() {
        SendBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadQuery.describe(format!("send: {e}")))?
    };
    let w = state.webhooks();
    // Without a URL, the last payload sent goes again; else (or never sent) the served call.
    let resent = match &req.url {
        None => w.resend(&call_id),
        Some(_) => Err(PostError::NeverSent(call_id.clone())),
    };
    let result = match resent {
        Err(PostError::NeverSent(_)) => {
            let Some(fixture) = state.store().get(&call_id).map(|f| f.body.clone()) else {
                return Err(ApiError::UnknownCallId { as_404: true }.into());
            };
            w.post_call(req.url.as_deref(), &fixture)
        }
        other => other,
    };
    match result {
        Ok(()) => Ok(ok(json!({"call_id": call_id, "queued": true}))),
        Err(e @ (PostError::QueueFull(_) | PostError::ShutDown)) => {
            Err(ApiError::Unavailable.describe(e.to_string()))
        }
        Err(e) => Err(ApiError::BadQuery.describe(e.to_string())),
    }
}
