//! `POST /v2/calls` ("Make a call"): reads the vendor's body, makes the call
//! ([`crate::behaviour::made_calls`]), stores it with its lifecycle, and answers
//! `{"status":"success","response":{"answer":"ok","call_id":...},"eta":...}`.
//!
//! In order: auth (the two 401s of GET); the request's `Prefer` fault or a global fault (a forced
//! 429 is the live answer to the call-rate limit, and no call is made); the content type
//! (`application/json`); the body, refused with 413 past
//! [`MAX_BODY_BYTES`](crate::behaviour::made_calls::MAX_BODY_BYTES) without being read whole; the
//! fields (400 naming the field). The call is then stored with its lifecycle, and its timer
//! (`AppState::lifecycles`) runs the `on_call_final` hooks once the final body is served.

use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::header;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::behaviour::faults::PREFER;
use crate::behaviour::made_calls::{self, MakeCallRequest, PerCall, MAX_BODY_BYTES};
use crate::error::{ApiError, Refusal};
use crate::state::AppState;

use super::decide::{self, json, request_fault};

/// `POST /v2/calls`.
pub(super) async fn make_call(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Refusal> {
    let headers = req.headers();
    state.config().auth.check(headers)?;
    let fault = request_fault(&state, headers, || None)?;
    if let Some(forced) = decide::fault_first(&state, fault.as_ref()).await {
        return Ok(forced);
    }
    let per_call = PerCall::from_prefer(
        headers
            .get_all(&PREFER)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
    .map_err(|e| ApiError::BadQuery.describe(format!("Prefer: {e}")))?;
    check_content_type(headers)?;
    let body = read_body(req, MAX_BODY_BYTES).await?;
    let mut order = MakeCallRequest::parse(&body).map_err(|e| ApiError::BadQuery.describe(e))?;
    // The webhook URL: the request's, else its agent's, else (in the sender) --webhook-url.
    match state.agents().agent(&order.model_id) {
        Some(agent) if order.external_webhook_url.is_none() => {
            order.external_webhook_url = agent.external_webhook_url().map(str::to_owned);
        }
        Some(_) => {}
        None if state.config().agents.strict => {
            return Err(ApiError::BadQuery.describe(format!(
                "model_id: no agent with model_id {:?} (--strict-agents)",
                order.model_id
            )));
        }
        None => {}
    }
    if order
        .external_webhook_url
        .as_deref()
        .is_some_and(|u| !u.trim().is_empty())
    {
        // Told now, not only at the first delivery seconds later.
        state.webhooks().warn_if_unsigned();
    }

    let id = made_calls::new_call_id();
    let made = made_calls::make(
        &id,
        &order,
        per_call,
        &state.config().made_calls,
        chrono::Utc::now().timestamp_millis(),
    )
    .map_err(|e| {
        tracing::error!(target: "synthflow_mock::made_calls", error = %e, "cannot make call");
        Refusal::from(ApiError::Internal)
    })?;
    let answer = answer_body(&id, made.eta_secs);
    let agent = state.agents().agent(&order.model_id);
    let agent_number = made_number(&made.fixture.body);
    let mut vars = crate::play::call_vars(&id, &order.model_id, &order.phone, &agent_number, false);
    vars.extend(order.custom_variables.iter().cloned());
    let plan = crate::play::Plan::for_agent(&state, agent.as_ref(), vars);
    crate::play::start(&state, made, plan)?;

    let mut resp = json(answer);
    decide::mark(&mut resp, fault.as_ref());
    Ok(resp)
}

/// The body must be declared JSON (`application/json`, parameters allowed).
pub(super) fn check_content_type(headers: &http::HeaderMap) -> Result<(), Refusal> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadQuery.describe("Content-Type: the request body must be application/json"))
    }
}

/// The body, up to `limit` bytes: a declared length over it is refused before anything is read,
/// an undeclared (chunked) one as soon as the limit is passed.
pub(super) async fn read_body(req: Request, limit: usize) -> Result<Bytes, Refusal> {
    let too_large = || {
        ApiError::PayloadTooLarge.describe(format!(
            "Request body too large: the limit is {limit} bytes."
        ))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(_) => Err(ApiError::BadQuery.describe("request body could not be read")),
    }
}

/// The vendor's 200: `response.call_id` nested, `eta` in seconds.
fn answer_body(id: &str, eta: u64) -> Bytes {
    let v = serde_json::json!({
        "status": "success",
        "response": {"answer": "ok", "call_id": id},
        "eta": eta,
    });
    Bytes::from(serde_json::to_vec(&v).expect("a JSON value encodes"))
}

/// The number a made call was placed from (the record's `phone_number_from`).
fn made_number(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/response/calls/0/phone_number_from")
                .and_then(|n| n.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}
