//! The admin API, under `/__admin` (WireMock's habit): change fixtures, scenarios and faults at
//! run time, read the journal, reset.
//!
//! Off by default (`--admin loopback|any`). With `loopback` it answers only peers on a loopback
//! address; any other peer, or a request whose peer is unknown, gets the live-shaped 403. In every
//! mode (see `access`) a request is also refused (403) when its `Host` is not a loopback name,
//! the configured `--host` or an IP address (DNS rebinding), when it carries an `Origin` other
//! than the mock's own (a web page on another origin), and, when an admin token is set, unless it
//! carries `Authorization: Bearer <token>`. Every refusal goes through [`ApiError`] like the rest
//! of the service.
//!
//! | method + path | body | effect |
//! |---|---|---|
//! | `GET /__admin/calls` | | the call ids |
//! | `PUT /__admin/calls/{id}` | a call body (the 200 envelope) | adds or replaces the call, checked like a fixture file |
//! | `DELETE /__admin/calls/{id}` | | removes it |
//! | `GET /__admin/scenarios` | | every scenario, by call id |
//! | `PUT /__admin/scenarios/{id}` | `{"faults":["code=429"],"lifecycle":{"advance":"per-poll"}}` | sets it (progress from zero) |
//! | `DELETE /__admin/scenarios/{id}` | | removes it |
//! | `GET`/`PUT`/`DELETE /__admin/faults` | `{"always":"latency=200","random":{"rate":0.1,"seed":7}}` | the global faults |
//! | `GET /__admin/requests?after=SEQ&limit=N` | | the journal, oldest first, paged (limit 100 by default, at most 1000; `next_after` is the cursor of the next page, `null` at the end) |
//! | `DELETE /__admin/requests` | | empties it |
//! | `POST /__admin/reset` | | empties the journal, restarts every scenario and the random sequence, puts the agents and actions back to the seed |
//! | `GET /__admin/agents` | | every agent (its URLs, its attached actions) and every action |
//! | `POST /__admin/inbound-calls` | `{"from_number":"+1…","to_number":"+1…","model_id":"…"}` (`model_id` optional) | starts an inbound call to the agent with that number (or `model_id`): answers `{"call_id","model_id"}` at once, then plays the inbound webhook and the call (`play`) |
//! | `/__admin/webhooks...` | | the webhook sender: see `admin_webhooks` |
//! | `GET /__admin/ui`, `GET /__admin/call-summaries`, `GET /__admin/calls/{id}` | | the web console and its reads: see `console` |

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;

use super::decide::Json;
use serde_json::json;

use crate::behaviour::faults::GlobalFaults;
use crate::behaviour::scenario::Scenario;
use crate::error::{ApiError, Refusal};
use crate::state::{AdminAccess, AppState};
use crate::store::{check_fixture, is_well_formed};

/// Where the admin API lives.
pub const PREFIX: &str = "/__admin";

/// The admin routes, with their access check.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/__admin/calls", get(list_calls))
        .route(
            "/__admin/calls/{id}",
            get(super::console::call).put(put_call).delete(delete_call),
        )
        .route("/__admin/scenarios", get(list_scenarios))
        .route(
            "/__admin/scenarios/{id}",
            put(put_scenario).delete(delete_scenario),
        )
        .route(
            "/__admin/faults",
            get(get_faults).put(put_faults).delete(delete_faults),
        )
        .route("/__admin/requests", get(requests).delete(clear_requests))
        .route("/__admin/reset", post(reset))
        .route("/__admin/agents", get(agents))
        .route("/__admin/inbound-calls", post(inbound_call))
        .merge(super::admin_webhooks::routes())
        .merge(super::console::routes())
        .layer(middleware::from_fn_with_state(state, access))
}

/// The peer of a request, when the server gave it (`ConnectInfo`).
fn peer(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Refuses peers the admin API does not serve, requests a browser sent for another origin or
/// host (cross-site requests, DNS rebinding), and requests without the admin token when one is
/// set: all 403, before any handler runs, so a refused request changes nothing.
async fn access(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let config = state.config();
    let allowed = match config.admin {
        AdminAccess::Off => false,
        AdminAccess::Any => true,
        AdminAccess::Loopback => peer(&req).is_some_and(|p| p.ip().is_loopback()),
    };
    let refusal = if super::admin_guard::sent_by_the_mock(&req) {
        Some("The admin API never acts on a request a mock sent (its webhooks and other outgoing requests carry Synthflow-Mock-Sent-By).")
    } else if !allowed {
        Some(
            "The admin API answers loopback clients only (start with --admin any to allow others).",
        )
    } else if !super::admin_guard::host_allowed(&req, config.host.as_deref()) {
        Some("The admin API answers requests for a loopback host name, an IP address or the configured --host only.")
    } else if !super::admin_guard::origin_allowed(&req) {
        Some("The admin API refuses requests from another origin.")
    } else if config
        .admin_token
        .as_ref()
        .is_some_and(|t| !t.accepts(req.headers()))
    {
        Some("The admin API needs the admin token: Authorization: Bearer <token>.")
    } else {
        None
    };
    if let Some(why) = refusal {
        tracing::warn!(peer = ?peer(&req), reason = why, "admin request refused");
        return ApiError::Forbidden.with_description(why);
    }
    next.run(req).await
}

fn ok(extra: serde_json::Value) -> Response {
    let mut body = json!({"status": "ok"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    Json(body).into_response()
}

async fn list_calls(State(state): State<AppState>) -> Response {
    ok(json!({"calls": state.store().ids()}))
}

async fn put_call(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Refusal> {
    if !is_well_formed(&id) {
        return Err(ApiError::BadQuery.describe(format!("call id {id:?} is not well formed")));
    }
    let fixture = check_fixture(
        &format!("{id}.json"),
        body,
        &format!("admin:{id}"),
        state.config().load,
    )
    .map_err(|bad| ApiError::BadQuery.describe(bad.to_string()))?;
    let replaced = state.update_store(|s| s.insert(fixture).is_some());
    Ok(ok(json!({"call_id": id, "replaced": replaced})))
}

async fn delete_call(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    if !state.update_store(|s| s.remove(&id).is_some()) {
        return Err(ApiError::UnknownCallId { as_404: true }.into());
    }
    Ok(ok(json!({"call_id": id})))
}

async fn list_scenarios(State(state): State<AppState>) -> Response {
    ok(json!({"scenarios": state.scenarios()}))
}

async fn put_scenario(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let scenario: Scenario = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadQuery.describe(format!("scenario: {e}")))?;
    state
        .set_scenario(&id, scenario)
        .map_err(|e| ApiError::BadQuery.describe(e.to_string()))?;
    Ok(ok(json!({"call_id": id})))
}

async fn delete_scenario(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    if !state.remove_scenario(&id) {
        return Err(ApiError::UnknownCallId { as_404: true }.into());
    }
    Ok(ok(json!({"call_id": id})))
}

async fn get_faults(State(state): State<AppState>) -> Response {
    ok(json!({"faults": &*state.faults()}))
}

async fn put_faults(State(state): State<AppState>, body: Bytes) -> Result<Response, Refusal> {
    let faults: GlobalFaults = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadQuery.describe(format!("faults: {e}")))?;
    if faults
        .random
        .as_ref()
        .is_some_and(|r| !(0.0..=1.0).contains(&r.rate))
    {
        return Err(ApiError::BadQuery.describe("faults: random.rate must be 0.0 to 1.0"));
    }
    state.set_faults(faults);
    Ok(ok(json!({})))
}

async fn delete_faults(State(state): State<AppState>) -> Response {
    state.set_faults(GlobalFaults::default());
    ok(json!({}))
}

async fn requests(
    State(state): State<AppState>,
    uri: axum::http::Uri,
) -> Result<Response, Refusal> {
    let page =
        super::admin_guard::Page::parse(uri.query()).map_err(|e| ApiError::BadQuery.describe(e))?;
    let journal = state.journal();
    let (requests, more) = journal.ring().page_within(
        page.after,
        page.limit,
        super::admin_guard::PAGE_MAX_BYTES,
        |e| e.seq,
    );
    let next_after = more.then(|| requests.last().map(|e| e.seq)).flatten();
    let (stored, stored_bytes) = journal.ring().usage();
    Ok(ok(json!({
        "capacity": journal.capacity(),
        "max_bytes": journal.ring().max_bytes(),
        "stored": stored,
        "stored_bytes": stored_bytes,
        "after": page.after,
        "limit": page.limit,
        "next_after": next_after,
        "requests": requests,
    })))
}

async fn clear_requests(State(state): State<AppState>) -> Response {
    state.journal().clear();
    ok(json!({}))
}

/// Every agent with its URLs and attached actions, and every action (the console's Agents page).
async fn agents(State(state): State<AppState>) -> Response {
    use crate::behaviour::agents::render;
    let store = state.agents();
    let agents: Vec<_> = store
        .all_agents()
        .iter()
        .map(|a| {
            let mut v = render::agent(a, true);
            crate::redact::vendor_object(&mut v);
            v
        })
        .collect();
    let actions: Vec<_> = store
        .all_actions()
        .iter()
        .map(|a| {
            let mut v = render::action(a, Some(store.assistants_of(&a.action_id)));
            crate::redact::vendor_object(&mut v);
            v
        })
        .collect();
    ok(json!({"agents": agents, "actions": actions, "max": state.config().agents.max_agents}))
}

async fn reset(State(state): State<AppState>) -> Response {
    state.journal().clear();
    state.reset_progress();
    state.agents().reset(&state.config().agents.seed);
    ok(json!({}))
}

/// `POST /__admin/inbound-calls`.
async fn inbound_call(State(state): State<AppState>, body: Bytes) -> Result<Response, Refusal> {
    let order: crate::play::InboundOrder = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadQuery.describe(format!("inbound call: {e}")))?;
    let (call_id, model_id) = crate::play::start_inbound(&state, order)
        .map_err(|e| ApiError::BadQuery.describe(e.to_string()))?;
    Ok(ok(json!({"call_id": call_id, "model_id": model_id})))
}
