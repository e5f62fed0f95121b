//! The router behind the entry: `GET /v2/calls/{call_id}` (the vendor's path under its `/v2` base),
//! `GET /v2/calls` (the list), `POST /v2/calls` (make a call: [`super::make_call`]), the agents and
//! actions (`/v2/assistants`, `/v2/actions`: [`super::agents`], [`super::actions`]), `GET /healthz`, and the admin API under `/__admin` when enabled
//! ([`super::admin`]).
//!
//! Handlers return `Result<Response, Refusal>` and `?` into it; the JSON body of a refusal is
//! written by the entry ([`super::entry`]), never here. Any other path is a 404 and any other
//! method on a known path a 405 with `Allow`, both with JSON bodies, as the live service answers.
//! A plain fixture hit is decided by [`super::decide::fixture_hit`], the same function the entry's
//! shortcut calls, so both ways give the same answer; faults ([`crate::behaviour::faults`]) and
//! scenarios ([`crate::behaviour::scenario`]) are applied only when asked, as `decide` says.

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::behaviour::faults::Fault;
use crate::behaviour::scenario::{Turn, CLIENT_HEADER};
use crate::error::{ApiError, Refusal};
use crate::journal::{self, IgnoredParams, Miss};
use crate::state::{AdminAccess, AppState, UnknownIdStatus};
use crate::store::is_well_formed;
use crate::store::list::{unknown_params, ListQuery};

use super::decide::{self, fixture_hit, json, request_fault, Auth};

/// The routes, with the state applied. Error bodies, the journal and the log line are the entry's.
pub(crate) fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/v2/calls/{call_id}", get(get_call))
        .route(
            "/v2/calls",
            get(list_calls).post(super::make_call::make_call),
        )
        .route("/v2/logs", get(super::logs::list_logs))
        .route("/v2/logs/{webhook_log_id}", get(super::logs::get_log))
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
    if let Some(body) = fixture_hit(&state, req.method(), &call_id, headers, Auth::Checked) {
        return Ok(json(body.into_bytes()));
    }
    let mut step_body = None;
    let fault = request_fault(&state, headers, || {
        let client = headers
            .get(CLIENT_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match state.scenario(&call_id)?.next(client) {
            Turn::Fault(f) => Some(f),
            Turn::Step { body, .. } => {
                step_body = Some(body);
                None
            }
            Turn::Fixture => None,
        }
    })?;
    Ok(answer_with(&state, fault.as_ref(), || match step_body {
        Some(body) => json(body),
        None => match state.store().get(&call_id) {
            Some(fixture) => json(fixture.body.clone()),
            None => miss(&state, &call_id),
        },
    })
    .await)
}

/// The answer with the request's fault applied: its latency and forced status first, else the
/// normal answer, marked.
async fn answer_with(
    state: &AppState,
    fault: Option<&(Fault, bool)>,
    normal: impl FnOnce() -> Response,
) -> Response {
    if let Some(forced) = decide::fault_first(state, fault).await {
        return forced;
    }
    let mut resp = normal();
    decide::mark(&mut resp, fault);
    resp
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
    let fault = request_fault(&state, headers, || None)?;
    let mut resp = answer_with(&state, fault.as_ref(), || json(state.list_page(&q))).await;
    if !ignored.is_empty() {
        resp.extensions_mut().insert(IgnoredParams(ignored));
    }
    Ok(resp)
}

async fn healthz(State(state): State<AppState>) -> Response {
    let body = format!("{{\"status\":\"ok\",\"calls\":{}}}", state.store().len());
    json(body.into())
}
