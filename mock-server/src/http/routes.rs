//! The router behind the entry: `GET /v2/calls/{call_id}` (the vendor's path under its `/v2` base),
//! `GET /v2/calls` (the list), `POST /v2/calls` (make a call: [`super::make_call`]), the agents and
//! actions (`/v2/assistants`, `/v2/actions`: [`super::agents`], [`super::actions`]), `GET /healthz`, and the admin API under `/__admin` when enabled
//! ([`super::admin`]).
//!
//! Handlers return `Result<Response, Refusal>` and `?` into it; the JSON body of a refusal is
//! written by the entry ([`super::entry`]), never here. Any other path is a 404 and any other
//! method on a known path a 405 with `Allow`, both with JSON bodies, as the live service answers.
//! A plain fixture hit is decided by [`super::entry::fixture_hit`], the same function the entry's
//! shortcut calls, so both ways give the same answer; faults ([`crate::behaviour::faults`]) and
//! scenarios ([`crate::behaviour::scenario`]) are applied only when asked.

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

use crate::behaviour::faults::{self, Fault};
use crate::behaviour::scenario::{Turn, CLIENT_HEADER};
use crate::error::{ApiError, Refusal};
use crate::journal::{self, IgnoredParams, Miss};
use crate::state::{AdminAccess, AppState, UnknownIdStatus};
use crate::store::is_well_formed;
use crate::store::list::{unknown_params, ListQuery};

use super::entry::fixture_hit;

/// The routes, with the state applied. Error bodies, the journal and the log line are the entry's.
pub(crate) fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/v2/calls/{call_id}", get(get_call))
        .route(
            "/v2/calls",
            get(list_calls).post(super::make_call::make_call),
        )
        .route("/healthz", get(healthz))
        .merge(config_routes());
    if state.config().admin != AdminAccess::Off {
        router = router.merge(super::admin::routes(state.clone()));
    }
    router
        .fallback(|| async { ApiError::RouteNotFound })
        .with_state(state)
}

/// `/v2/assistants` and `/v2/actions` (handlers in [`super::agents`] and [`super::actions`]).
fn config_routes() -> Router<AppState> {
    use super::{actions, agents};
    use axum::routing::{post, put};
    Router::new()
        .route("/v2/assistants", get(agents::list).post(agents::create))
        .route("/v2/assistants/", get(agents::list))
        .route(
            "/v2/assistants/{model_id}",
            get(agents::get).put(agents::update).delete(agents::delete),
        )
        .route(
            "/v2/assistants/{model_id}/phone_numbers",
            put(agents::attach_phone_numbers),
        )
        .route(
            "/v2/assistants/{model_id}/phone_numbers/{phone_number_slug}",
            axum::routing::delete(agents::detach_phone_number),
        )
        .route("/v2/actions", get(actions::list).post(actions::create))
        .route("/v2/actions/attach", post(actions::attach))
        .route("/v2/actions/detach", post(actions::detach))
        .route("/v2/actions/initialize", post(actions::initialize))
        .route(
            "/v2/actions/{action_id}",
            get(actions::get)
                .put(actions::update)
                .delete(actions::delete),
        )
}

/// A JSON answer of stored bytes.
pub(crate) fn json_body(body: Bytes) -> Response {
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The fault a request asked for in its `Prefer` header (`true`: from the header), else none.
pub(super) fn prefer_fault(headers: &http::HeaderMap) -> Result<Option<(Fault, bool)>, Refusal> {
    Fault::from_prefer(headers)
        .map(|f| f.map(|f| (f, true)))
        .map_err(|e| ApiError::BadQuery.describe(format!("Prefer: {e}")))
}

/// `GET /v2/calls/{call_id}`: auth, then the stored body as is; faults and scenarios when any
/// is set or the request has a `Prefer` header.
async fn get_call(
    State(state): State<AppState>,
    call_id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    req: Request,
) -> Result<Response, Refusal> {
    // The request itself rather than a `HeaderMap` extractor, which would clone every header.
    let headers = req.headers();
    state.config().auth.check(headers)?;
    let Ok(Path(call_id)) = call_id else {
        return Err(ApiError::MalformedCallId.into());
    };
    if let Some(body) = fixture_hit(&state, req.method(), &call_id, headers) {
        return Ok(json_body(body.into_bytes()));
    }
    let mut step_body = None;
    let fault = match prefer_fault(headers)? {
        Some(f) => Some(f),
        None => {
            let turn = state.scenario(&call_id).map(|a| {
                let client = headers
                    .get(CLIENT_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                a.next(client)
            });
            match turn {
                Some(Turn::Fault(f)) => Some((f, false)),
                Some(Turn::Step { body, .. }) => {
                    step_body = Some(body);
                    state.global_fault().map(|f| (f, false))
                }
                Some(Turn::Fixture) | None => state.global_fault().map(|f| (f, false)),
            }
        }
    };
    let mut resp = answer_with(&state, fault.as_ref(), || match step_body {
        Some(body) => json_body(body),
        None => match state.store().get(&call_id) {
            Some(fixture) => json_body(fixture.body.clone()),
            None => miss(&state, &call_id),
        },
    })
    .await;
    if let Some((f, from_prefer)) = &fault {
        faults::mark(&mut resp, f, *from_prefer);
    }
    Ok(resp)
}

/// Waits for the fault's latency, then the forced status or the normal answer.
async fn answer_with(
    state: &AppState,
    fault: Option<&(Fault, bool)>,
    normal: impl FnOnce() -> Response,
) -> Response {
    if let Some((f, _)) = fault {
        f.delay().await;
        if let Some(err) = f.error(state.config().retry_after) {
            return err.into_response();
        }
    }
    normal()
}

/// The refusal for a well-formed or malformed id with no fixture, with the nearest known ids
/// logged and journaled.
fn miss(state: &AppState, call_id: &str) -> Response {
    if !is_well_formed(call_id) {
        return ApiError::MalformedCallId.into_response();
    }
    let store = state.store();
    let nearest = journal::nearest(call_id, store.id_set());
    tracing::warn!(
        target: "synthflow_mock::miss",
        call_id = %call_id,
        nearest = ?nearest,
        "unknown call id"
    );
    let mut resp = ApiError::UnknownCallId {
        as_404: state.config().unknown_id == UnknownIdStatus::NotFound,
    }
    .into_response();
    resp.extensions_mut().insert(Miss(nearest));
    resp
}

/// `GET /v2/calls`: the list endpoint (see [`crate::store::list`]).
async fn list_calls(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, Refusal> {
    let headers = req.headers();
    state.config().auth.check(headers)?;
    let Ok(Query(pairs)) = query else {
        return Err(ApiError::BadQuery.describe("query string cannot be decoded"));
    };
    let q = ListQuery::parse(&pairs).map_err(|bad| {
        ApiError::BadQuery
            .describe(bad.description)
            .with_category(bad.category)
    })?;
    // The live service ignores parameters it does not read (MAKE-CALL-AND-WEBHOOKS.md §3, [3P]);
    // so does the mock, but it says so, as a miss: a client paging with `page=` learns why.
    let ignored = unknown_params(&pairs);
    if !ignored.is_empty() {
        tracing::warn!(
            target: "synthflow_mock::miss",
            ignored = ?ignored,
            "unknown list parameter ignored (the live service ignores it too)"
        );
    }
    let fault = match prefer_fault(headers)? {
        Some(f) => Some(f),
        None => state.global_fault().map(|f| (f, false)),
    };
    let mut resp = answer_with(&state, fault.as_ref(), || json_body(state.list_page(&q))).await;
    if let Some((f, from_prefer)) = &fault {
        faults::mark(&mut resp, f, *from_prefer);
    }
    if !ignored.is_empty() {
        resp.extensions_mut().insert(IgnoredParams(ignored));
    }
    Ok(resp)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"status\":\"ok\",\"calls\":{}}}", state.store().len()),
    )
}
