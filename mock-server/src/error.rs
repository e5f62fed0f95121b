//! Every refusal the mock makes, in one enum.
//!
//! A handler returns an [`ApiError`]; its `IntoResponse` sets the status (and `Allow` for 405) and
//! tags the response with the error. The HTTP entry ([`render_response`]) then writes the JSON body
//! from the error bodies of the fixture set in use (`fixtures/errors/`), with a fresh `request_id`
//! and `timestamp` where the live body has them. So a user who edits `errors/400.json` changes what
//! every 400 says, and no error path builds its body by hand.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use serde_json::Value;

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
    UnknownCallId {
        /// Answer 404 instead of 400 (`--unknown-id 404`).
        as_404: bool,
    },
    /// No route for the path: 404 `{"detail":"Not Found"}`.
    #[error("no route")]
    RouteNotFound,
    /// The path exists, the method does not: 405 with `Allow`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A valid key outside the workspace (forced by a fault), or an admin request from a peer the
    /// admin API does not serve: 403.
    #[error("forbidden")]
    Forbidden,
    /// Rate limited (forced by a fault): 429, with `Retry-After: <seconds>` when set.
    #[error("rate limited")]
    RateLimited {
        /// The `Retry-After` seconds, if any.
        retry_after: Option<u32>,
    },
    /// Internal error (forced by a fault): 500.
    #[error("internal server error")]
    Internal,
    /// Service unavailable (forced by a fault): 503.
    #[error("service unavailable")]
    Unavailable,
    /// Bad query parameters (list endpoint), a bad `Prefer` value or a bad admin request: 400. The
    /// reason goes in `detail.description` (see [`ApiError::with_description`]).
    #[error("bad request parameters")]
    BadQuery,
    /// A request body over the limit (`POST /v2/calls`), refused before it is read whole: 413.
    #[error("payload too large")]
    PayloadTooLarge,
}

/// A description that replaces the stored one in the body of a refusal: attached to the response
/// as an extension by [`ApiError::with_description`], read by [`render_response`].
#[derive(Debug, Clone)]
pub struct ErrorDescription(pub String);

/// A `detail.category` that replaces the stored one (a refusal whose live category a source shows,
/// e.g. `important` for an out-of-range list `limit`); read by [`render_response`].
#[derive(Debug, Clone, Copy)]
pub struct ErrorCategory(pub &'static str);

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
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BadQuery => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// The refusal with a body that says `description` instead of the stored wording.
    pub fn describe(self, description: impl Into<String>) -> Refusal {
        Refusal {
            error: self,
            description: Some(description.into()),
            category: None,
        }
    }

    /// The refusal as a response whose body says `description` instead of the stored wording.
    pub fn with_description(self, description: impl Into<String>) -> Response {
        self.describe(description).into_response()
    }
}

/// What a handler returns when it refuses: an [`ApiError`], and the reason its body gives when the
/// stored wording is not enough. Handlers `?` into it (`From<ApiError>`); like [`ApiError`] it
/// renders as a status with tags, and the body is written in one place ([`render_response`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}{}", .description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct Refusal {
    /// Which refusal.
    pub error: ApiError,
    /// The description its body says, if not the stored one.
    pub description: Option<String>,
    /// The `detail.category` its body says, if not the stored one.
    pub category: Option<&'static str>,
}

impl Refusal {
    /// The refusal with `detail.category` set to `category` instead of the stored one.
    pub fn with_category(mut self, category: Option<&'static str>) -> Self {
        self.category = category;
        self
    }
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal {
            error,
            description: None,
            category: None,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut resp = self.error.into_response();
        if let Some(d) = self.description {
            resp.extensions_mut().insert(ErrorDescription(d));
        }
        if let Some(c) = self.category {
            resp.extensions_mut().insert(ErrorCategory(c));
        }
        resp
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
        if let ApiError::RateLimited {
            retry_after: Some(secs),
        } = self
        {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
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
    /// `403.json`: a valid key outside the workspace.
    pub forbidden: Template,
    /// `429.json`: rate limited.
    pub rate_limited: Template,
    /// `500.json`.
    pub internal: Template,
    /// `503.json`.
    pub unavailable: Template,
    /// `400-query.json`: bad query parameters (its description is replaced by the reason).
    pub bad_query: Template,
    /// `413.json`: a request body over the limit (the vendor publishes none: the live envelope is
    /// assumed).
    pub payload_too_large: Template,
}

impl ErrorBodies {
    /// The file name of each body, as `fixtures/errors/` holds them.
    pub const FILES: [&'static str; 12] = [
        "400.json",
        "404.json",
        "401-missing.json",
        "401-invalid.json",
        "404-route.json",
        "405.json",
        "403.json",
        "429.json",
        "500.json",
        "503.json",
        "400-query.json",
        "413.json",
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
            ApiError::Forbidden => &self.forbidden,
            ApiError::RateLimited { .. } => &self.rate_limited,
            ApiError::Internal => &self.internal,
            ApiError::Unavailable => &self.unavailable,
            ApiError::BadQuery => &self.bad_query,
            ApiError::PayloadTooLarge => &self.payload_too_large,
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
        self.render_with(None)
    }

    /// The body of one answer, with `detail.description` replaced when `description` is given and
    /// the stored body has one.
    pub fn render_with(&self, description: Option<&str>) -> Bytes {
        self.render_detail(description, None)
    }

    /// [`Template::render_with`], with `detail.category` replaced too when `category` is given and
    /// the stored body has one.
    pub fn render_detail(&self, description: Option<&str>, category: Option<&str>) -> Bytes {
        let Some(template) = &self.fresh_ids else {
            return self.stored.clone();
        };
        let mut value = template.clone();
        if let Some(detail) = value.get_mut("detail").and_then(Value::as_object_mut) {
            if let (Some(d), true) = (description, detail.contains_key("description")) {
                detail.insert("description".into(), Value::String(d.to_owned()));
            }
            if let (Some(c), true) = (category, detail.contains_key("category")) {
                detail.insert("category".into(), Value::String(c.to_owned()));
            }
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

/// Writes the JSON body of a refusal (a response tagged with an [`ApiError`], or axum's own 405)
/// from `errors`; any other response passes unchanged. The HTTP entry calls it on every answer.
pub fn render_response(errors: &ErrorBodies, mut resp: Response) -> Response {
    let err = match resp.extensions_mut().remove::<ApiError>() {
        Some(e) => e,
        None if resp.status() == StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        None => return resp,
    };
    let description = resp.extensions_mut().remove::<ErrorDescription>();
    let category = resp.extensions_mut().remove::<ErrorCategory>();
    let body = errors.template(err).render_detail(
        description.as_ref().map(|d| d.0.as_str()),
        category.map(|c| c.0),
    );
    let (mut parts, _) = resp.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.extensions.insert(err);
    Response::from_parts(parts, Body::from(body))
}
