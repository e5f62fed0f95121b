//! Every refusal the mock makes, in one enum.
//!
//! A handler returns an [`ApiError`]; its `IntoResponse` sets the status (and `Allow` for 405) and
//! tags the response with the error. The router's last layer ([`render`]) then writes the JSON body
//! from the error bodies of the fixture set in use (`fixtures/errors/`), with a fresh `request_id`
//! and `timestamp` where the live body has them. So a user who edits `errors/400.json` changes what
//! every 400 says, and no error path builds its body by hand.

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use serde_json::Value;

use crate::routes::AppState;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer <token>` (or an unusable one): 401.
    #[error("missing or invalid Authorization header")]
    MissingAuth,
    /// A Bearer token the mock was told not to accept: 401.
    #[error("invalid or expired token")]
    InvalidToken,
    /// A call id that cannot be one (empty, too long, odd characters, bad encoding): 400.
    #[error("malformed call id")]
    MalformedCallId,
    /// A well-formed id with no fixture: 400 by default (the documented answer), 404 on request.
    #[error("unknown call id")]
    UnknownCallId { as_404: bool },
    /// No route for the path: 404 `{"detail":"Not Found"}`.
    #[error("no route")]
    RouteNotFound,
    /// The path exists, the method does not: 405 with `Allow`.
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            ApiError::MissingAuth | ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::MalformedCallId | ApiError::UnknownCallId { as_404: false } => {
                StatusCode::BAD_REQUEST
            }
            ApiError::UnknownCallId { as_404: true } | ApiError::RouteNotFound => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = self.status();
        if self == ApiError::MethodNotAllowed {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        }
        resp.extensions_mut().insert(self);
        resp
    }
}

/// The error bodies of a fixture set, as the live service words them.
#[derive(Debug, Clone)]
pub struct ErrorBodies {
    /// `400.json`: unknown or malformed call id.
    pub bad_request: Template,
    /// `404.json`: unknown call id when 404 is chosen.
    pub not_found: Template,
    /// `401-missing.json`.
    pub missing_auth: Template,
    /// `401-invalid.json`.
    pub invalid_token: Template,
    /// `404-route.json`.
    pub route_not_found: Template,
    /// `405.json`.
    pub method_not_allowed: Template,
}

impl ErrorBodies {
    /// The file name of each body, as `fixtures/errors/` holds them.
    pub const FILES: [&'static str; 6] = [
        "400.json",
        "404.json",
        "401-missing.json",
        "401-invalid.json",
        "404-route.json",
        "405.json",
    ];

    fn template(&self, err: ApiError) -> &Template {
        match err {
            ApiError::MissingAuth => &self.missing_auth,
            ApiError::InvalidToken => &self.invalid_token,
            ApiError::MalformedCallId | ApiError::UnknownCallId { as_404: false } => {
                &self.bad_request
            }
            ApiError::UnknownCallId { as_404: true } => &self.not_found,
            ApiError::RouteNotFound => &self.route_not_found,
            ApiError::MethodNotAllowed => &self.method_not_allowed,
        }
    }
}

/// One stored error body. When it has the live `detail` object, each answer gets a fresh
/// `request_id` and `timestamp`; otherwise the bytes are sent as stored.
#[derive(Debug, Clone)]
pub struct Template {
    stored: Bytes,
    fresh_ids: Option<Value>,
}

impl Template {
    /// A template from a stored body (must be JSON).
    pub fn new(stored: Bytes) -> Result<Self, serde_json::Error> {
        let value: Value = serde_json::from_slice(&stored)?;
        let has_ids = value
            .get("detail")
            .and_then(Value::as_object)
            .is_some_and(|d| d.contains_key("request_id") || d.contains_key("timestamp"));
        Ok(Template {
            stored,
            fresh_ids: has_ids.then_some(value),
        })
    }

    /// The description under `detail`, if any.
    pub fn description(&self) -> Option<String> {
        let v: Value = serde_json::from_slice(&self.stored).ok()?;
        v.pointer("/detail/description")?
            .as_str()
            .map(str::to_owned)
    }

    /// The body of one answer.
    pub fn render(&self) -> Bytes {
        let Some(template) = &self.fresh_ids else {
            return self.stored.clone();
        };
        let mut value = template.clone();
        if let Some(detail) = value.get_mut("detail").and_then(Value::as_object_mut) {
            if detail.contains_key("request_id") {
                detail.insert(
                    "request_id".into(),
                    Value::String(uuid::Uuid::new_v4().to_string()),
                );
            }
            if detail.contains_key("timestamp") {
                let now = chrono::Utc::now()
                    .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
                    .to_string();
                detail.insert("timestamp".into(), Value::String(now));
            }
        }
        serde_json::to_vec(&value)
            .map(Bytes::from)
            .unwrap_or_else(|_| self.stored.clone())
    }
}

/// The router's last layer: writes the JSON body of every refusal, including axum's own 405s.
pub async fn render(State(state): State<AppState>, mut resp: Response) -> Response {
    let err = match resp.extensions_mut().remove::<ApiError>() {
        Some(e) => e,
        None if resp.status() == StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        None => return resp,
    };
    let body = state.store().errors().template(err).render();
    let (mut parts, _) = resp.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.extensions.insert(err);
    Response::from_parts(parts, Body::from(body))
}
