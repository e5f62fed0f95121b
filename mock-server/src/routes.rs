//! The service: `fn app(state) -> Router`, so tests drive it in-process and `main` only serves it.
//!
//! Routes: `GET /v2/calls/{call_id}` (the vendor's path under its `/v2` base), `GET /healthz`.
//! Any other path is a 404 and any other method on a known path a 405 with `Allow`, both with JSON
//! bodies, as the live service answers. One log line per request (method, path, status, latency);
//! the `Authorization` header is never logged.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::auth::AuthPolicy;
use crate::error::{self, ApiError};
use crate::store::Store;

/// What the mock answers for a well-formed call id it has no fixture for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum UnknownIdStatus {
    /// The documented answer: 400 with the error body.
    #[default]
    #[value(name = "400")]
    BadRequest,
    /// What the public catalogue declares and some clients expect: 404.
    #[value(name = "404")]
    NotFound,
}

/// How the mock behaves.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Which Bearer tokens are accepted.
    pub auth: AuthPolicy,
    /// 400 or 404 for an unknown id.
    pub unknown_id: UnknownIdStatus,
}

/// Shared state of the service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    config: Config,
}

impl AppState {
    /// State over a fixture store.
    pub fn new(store: Store, config: Config) -> Self {
        AppState {
            inner: Arc::new(Inner { store, config }),
        }
    }

    /// The fixtures.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}

/// The whole service.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/v2/calls/{call_id}", get(get_call))
        .route("/healthz", get(healthz))
        .fallback(|| async { ApiError::RouteNotFound })
        .layer(middleware::map_response_with_state(
            state.clone(),
            error::render,
        ))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// `GET /v2/calls/{call_id}`: auth, then the stored body as is.
async fn get_call(
    State(state): State<AppState>,
    headers: HeaderMap,
    call_id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    state.config().auth.check(&headers)?;
    let Ok(Path(call_id)) = call_id else {
        return Err(ApiError::MalformedCallId);
    };
    match state.store().get(&call_id) {
        Some(fixture) => {
            let mut resp = Response::new(Body::from(fixture.body.clone()));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(resp)
        }
        None if !is_well_formed(&call_id) => Err(ApiError::MalformedCallId),
        None => Err(ApiError::UnknownCallId {
            as_404: state.config().unknown_id == UnknownIdStatus::NotFound,
        }),
    }
}

/// A call id can be one: 1 to 128 characters of letters, digits and `-_.:~`.
pub fn is_well_formed(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'~'))
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"status\":\"ok\",\"calls\":{}}}", state.store().len()),
    )
}

/// One `tracing` line per request: method, path (never the query or headers), status, latency.
async fn log_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    tracing::info!(
        target: "synthflow_mock::request",
        %method,
        path = %path,
        status = resp.status().as_u16(),
        latency_us = start.elapsed().as_micros() as u64,
        "request"
    );
    resp
}
