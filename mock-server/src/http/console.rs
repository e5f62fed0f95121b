//! The web console at `GET /__admin/ui`: a few static files embedded in the binary (plain HTML, CSS
//! and ES modules in `console/`, no build step), and the two admin reads only it needs.
//!
//! Merged into [`super::admin::routes`], so it exists only when the admin API is on (off: no route,
//! `/__admin/ui` is the 404 of any unknown path) and is behind the same access check (peer, `Host`,
//! `Origin`, admin token). The page talks to the admin JSON API only; its `Content-Security-Policy`
//! lets it load and fetch nothing but the mock itself.
//!
//! | method + path | effect |
//! |---|---|
//! | `GET /__admin/ui`, `GET /__admin/ui/{file}` | the page and its assets |
//! | `GET /__admin/call-summaries?status=&agent=&id=&offset=&limit=` | a page of calls, newest first, with the filter values (see [`crate::store::summary`]) |
//! | `GET /__admin/calls/{id}` | one call: its body as stored, its source, its scenario and each client's lifecycle step |

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::decide::Json;
use http::{header, HeaderValue};
use serde_json::{json, Value};

use crate::error::{ApiError, Refusal};
use crate::state::AppState;
use crate::store::summary::SummaryQuery;

/// The page's files: name, content type, bytes.
const FILES: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("console/app.js")),
    ("util.js", JS, include_str!("console/util.js")),
    ("calls.js", JS, include_str!("console/calls.js")),
    ("requests.js", JS, include_str!("console/requests.js")),
    ("webhooks.js", JS, include_str!("console/webhooks.js")),
    ("faults.js", JS, include_str!("console/faults.js")),
    ("agents.js", JS, include_str!("console/agents.js")),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("console/style.css"),
    ),
];
const JS: &str = "text/javascript; charset=utf-8";
const INDEX: &str = include_str!("console/index.html");

/// Only the mock itself: no other host, no inline script, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console routes (the caller adds the access check).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/__admin/ui", get(index))
        .route("/__admin/ui/", get(index))
        .route("/__admin/ui/{file}", get(asset))
        .route("/__admin/call-summaries", get(summaries))
}

fn file(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

async fn index() -> Response {
    file("text/html; charset=utf-8", INDEX)
}

async fn asset(Path(name): Path<String>) -> Result<Response, Refusal> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, ty, body)| file(ty, body))
        .ok_or_else(|| ApiError::RouteNotFound.into())
}

async fn summaries(
    State(state): State<AppState>,
    query: Result<Query<SummaryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Refusal> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery.describe(e.body_text()))?;
    let mut body = state.summaries().page(&q);
    if let Some(b) = body.as_object_mut() {
        b.insert("status".into(), "ok".into());
    }
    Ok(Json(body).into_response())
}

/// `GET /__admin/calls/{id}`: the call as stored (not through faults or scenarios: looking does
/// not advance anything), with its scenario and where each client is in it.
pub(crate) async fn call(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    let store = state.store();
    let Some(fixture) = store.get(&id) else {
        return Err(ApiError::UnknownCallId { as_404: true }.into());
    };
    let body: Value = serde_json::from_slice(&fixture.body).unwrap_or(Value::Null);
    let scenario = state.scenario(&id).map(|a| {
        json!({
            "scenario": a.scenario,
            "steps": a.steps.as_ref().map(|s| &s.statuses),
            "step_now": a.step_now(),
            "clients": a.progress(),
        })
    });
    Ok(Json(json!({
        "status": "ok",
        "call_id": id,
        "source": fixture.source,
        "body": body,
        "scenario": scenario,
    }))
    .into_response())
}
