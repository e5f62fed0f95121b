//! The decisions every route shares, each taken here once: whether a request is a plain fixture
//! hit ([`fixture_hit`], which the entry's shortcut and the `GET /v2/calls/{id}` handler both
//! ask), which fault a request gets ([`request_fault`]: its `Prefer` header's, else a scenario's,
//! else the global one), how a fault is applied ([`fault_first`]: delay, then the forced error;
//! [`faults::mark`] on the answer), and the JSON answer ([`json`]).
//!
//! The entry, the routes and `POST /v2/calls` use this module; it uses none of them, so the HTTP
//! layer has no import circle (`tests/it/layout.rs` checks it at file level).

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method};

use crate::behaviour::faults::{self, Fault, PREFER};
use crate::error::{ApiError, Refusal};
use crate::state::AppState;
use crate::store::Chunk;

/// Whether a request's `Authorization` was already checked (the router's handlers check it
/// first; the entry's shortcut has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Auth {
    Checked,
    Unchecked,
}

/// The one decision "this request is a plain fixture hit, here are the bytes": a GET of `id` while
/// nothing dynamic is set (no scenario, no global fault), without a `Prefer` header, with a token
/// the policy accepts (checked here unless `auth` says it was), for a call the store holds.
/// `None`: the general path decides.
pub(super) fn fixture_hit(
    state: &AppState,
    method: &Method,
    id: &str,
    headers: &HeaderMap,
    auth: Auth,
) -> Option<Chunk> {
    if method != Method::GET || !state.is_plain() {
        return None;
    }
    // One pass over the request's few headers rather than a lookup by name for each: a
    // `Prefer` header, or no or a doubled `Authorization`, goes to the router (which refuses or
    // answers it in full).
    let mut token = None;
    for (name, value) in headers {
        if name == header::AUTHORIZATION {
            if token.replace(value).is_some() {
                return None;
            }
        } else if name == PREFER {
            return None;
        }
    }
    if auth == Auth::Unchecked {
        state.config().auth.check_value(token?, headers).ok()?;
    }
    state.store().body(id)
}

/// `application/json`, the type of every JSON answer.
pub(super) const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A JSON answer of a value (what `axum::Json` gives; the mock reads request bodies itself, so
/// axum's `json` feature is off).
pub(super) struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => json(Bytes::from(body)),
            Err(_) => http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// A JSON answer of these bytes.
pub(super) fn json(body: Bytes) -> Response {
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(header::CONTENT_TYPE, JSON);
    resp
}

/// The fault a request gets (`true`: from its `Prefer` header): the header's, else `scenario`'s
/// (called only without one), else the global fault.
pub(super) fn request_fault(
    state: &AppState,
    headers: &HeaderMap,
    scenario: impl FnOnce() -> Option<Fault>,
) -> Result<Option<(Fault, bool)>, Refusal> {
    let asked = Fault::from_prefer(headers)
        .map_err(|e| ApiError::BadQuery.describe(format!("Prefer: {e}")))?;
    Ok(match asked {
        Some(f) => Some((f, true)),
        None => scenario()
            .or_else(|| state.global_fault())
            .map(|f| (f, false)),
    })
}

/// A fault's part that comes before the answer: its latency, then its forced status, as the
/// finished (marked) answer. `None`: go on with the normal answer, then [`mark`] it.
pub(super) async fn fault_first(
    state: &AppState,
    fault: Option<&(Fault, bool)>,
) -> Option<Response> {
    let (f, from_prefer) = fault?;
    f.delay().await;
    let mut resp = f.error(state.config().retry_after)?.into_response();
    faults::mark(&mut resp, f, *from_prefer);
    Some(resp)
}

/// Marks a normal answer with the request's fault, if any (body faults, `Preference-Applied`).
pub(super) fn mark(resp: &mut Response, fault: Option<&(Fault, bool)>) {
    if let Some((f, from_prefer)) = fault {
        faults::mark(resp, f, *from_prefer);
    }
}
