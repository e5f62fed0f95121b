//! A small async client for `GET /v2/calls/{call_id}`.
//!
//! The three hosts are hard partitions (a key works on its own region only), so the region is an
//! explicit choice; any base URL can stand in for them (the mock, a staging proxy). Errors keep the
//! cases an integrator handles differently apart — a 400 with its body, auth, not found, rate limit,
//! other statuses, transport, decoding — and the token appears in none of them, nor in `Debug`.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};

use crate::model::{ErrorBody, GetCallResponse};

/// Synthflow's regional API hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Region {
    /// `https://api.synthflow.ai/v2` (announced to be retired; regional hosts stay).
    #[default]
    Global,
    /// `https://api.us.synthflow.ai/v2`.
    Us,
    /// `https://api.eu.synthflow.ai/v2`.
    Eu,
}

impl Region {
    /// The base URL, ending in `/v2`.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Global => "https://api.synthflow.ai/v2",
            Region::Us => "https://api.us.synthflow.ai/v2",
            Region::Eu => "https://api.eu.synthflow.ai/v2",
        }
    }
}

impl std::str::FromStr for Region {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "global" => Ok(Region::Global),
            "us" => Ok(Region::Us),
            "eu" => Ok(Region::Eu),
            other => Err(format!(
                "unknown region {other:?} (expected global, us or eu)"
            )),
        }
    }
}

/// A bearer token that never prints itself.
#[derive(Clone)]
struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// What went wrong with a call to the API.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// 400: the generic rejection (an unknown or malformed call id); the body is kept.
    #[error("400 Bad Request: {}", describe(.body, .raw))]
    BadRequest {
        body: Option<Box<ErrorBody>>,
        raw: String,
    },
    /// 401 (missing or bad key, or a key of another region) or 403 (outside the workspace).
    #[error("{status} unauthorized: {}", describe(.body, .raw))]
    Unauthorized {
        status: u16,
        body: Option<Box<ErrorBody>>,
        raw: String,
    },
    /// 404: no such call.
    #[error("404 Not Found: {}", describe(.body, .raw))]
    NotFound {
        body: Option<Box<ErrorBody>>,
        raw: String,
    },
    /// 429: rate or concurrency limit. `retry_after` when the server sent a `Retry-After` in seconds
    /// (the live service publishes no such header).
    #[error("429 Too Many Requests (retry after {retry_after:?})")]
    RateLimited {
        retry_after: Option<Duration>,
        body: Option<Box<ErrorBody>>,
        raw: String,
    },
    /// Any other non-2xx status.
    #[error("unexpected status {status}: {}", describe(.body, .raw))]
    Status {
        status: u16,
        body: Option<Box<ErrorBody>>,
        raw: String,
    },
    /// The request did not complete (connect, timeout, reset).
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// A 2xx whose body is not the documented envelope.
    #[error("cannot decode the 200 body: {source}")]
    Decode {
        #[source]
        source: serde_json::Error,
        raw: String,
    },
    /// The client was built with an unusable setting.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn describe(body: &Option<Box<ErrorBody>>, raw: &str) -> String {
    match body.as_deref().and_then(ErrorBody::description) {
        Some(d) => d.to_owned(),
        None => raw.chars().take(200).collect(),
    }
}

impl ClientError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::BadRequest { .. } => Some(400),
            ClientError::Unauthorized { status, .. } | ClientError::Status { status, .. } => {
                Some(*status)
            }
            ClientError::NotFound { .. } => Some(404),
            ClientError::RateLimited { .. } => Some(429),
            ClientError::Decode { .. } => Some(200),
            ClientError::Transport(e) => e.status().map(|s| s.as_u16()),
            ClientError::Config(_) => None,
        }
    }
}

/// A response as it came off the wire, for callers that check it byte for byte (the contract suite).
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, unchanged.
    pub body: bytes::Bytes,
}

impl RawResponse {
    /// The `content-type` header, if any and readable.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }
}

/// Builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    token: Option<Token>,
    timeout: Duration,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: Region::default().base_url().to_owned(),
            token: None,
            timeout: Duration::from_secs(30),
        }
    }
}

impl ClientBuilder {
    /// Use one of Synthflow's regional hosts.
    pub fn region(mut self, region: Region) -> Self {
        self.base_url = region.base_url().to_owned();
        self
    }

    /// Use any base URL, up to and including `/v2` (e.g. a mock at `http://127.0.0.1:8080/v2`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The API key, sent as `Authorization: Bearer <token>`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token(token.into()));
        self
    }

    /// Timeout of a whole request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, ClientError> {
        let mut headers = HeaderMap::new();
        if let Some(Token(t)) = &self.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {t}"))
                .map_err(|_| ClientError::Config("the token is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| ClientError::Config(format!("base URL {:?}: {e}", self.base_url)))?;
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(self.timeout)
            .build()
            .map_err(ClientError::Transport)?;
        Ok(Client {
            http,
            base_url: url.as_str().trim_end_matches('/').to_owned(),
        })
    }
}

/// A client for the call API. Cheap to clone.
///
/// ```no_run
/// # async fn run() -> Result<(), synthflow::ClientError> {
/// let client = synthflow::Client::builder()
///     .base_url("http://127.0.0.1:8080/v2")
///     .token("any-token")
///     .build()?;
/// let envelope = client.get_call("3f1c9a2e-0000-4000-8000-000000000001").await?;
/// println!("{:?}", envelope.call().and_then(|c| c.status.clone()));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
}

impl Client {
    /// A builder, on the global host with a 30 s timeout.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL of one call (the id is percent-encoded as one path segment).
    pub fn call_url(&self, call_id: &str) -> Result<reqwest::Url, ClientError> {
        let mut url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| ClientError::Config(format!("base URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|_| ClientError::Config("base URL cannot have a path".into()))?
            .pop_if_empty()
            .push("calls")
            .push(call_id);
        Ok(url)
    }

    /// `GET /calls/{call_id}` without interpreting the answer: any status is `Ok`.
    pub async fn get_call_raw(&self, call_id: &str) -> Result<RawResponse, ClientError> {
        let resp = self
            .http
            .get(self.call_url(call_id)?)
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.without_url()))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Transport(e.without_url()))?;
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// `GET /calls/{call_id}`: the envelope on a 2xx, a [`ClientError`] otherwise.
    pub async fn get_call(&self, call_id: &str) -> Result<GetCallResponse, ClientError> {
        let raw = self.get_call_raw(call_id).await?;
        interpret(raw)
    }
}

/// Maps a raw answer to the envelope or the matching error.
pub fn interpret(raw: RawResponse) -> Result<GetCallResponse, ClientError> {
    let text = String::from_utf8_lossy(&raw.body).into_owned();
    if (200..300).contains(&raw.status) {
        return serde_json::from_slice(&raw.body)
            .map_err(|source| ClientError::Decode { source, raw: text });
    }
    let body: Option<Box<ErrorBody>> = serde_json::from_slice(&raw.body).ok();
    Err(match raw.status {
        400 => ClientError::BadRequest { body, raw: text },
        401 | 403 => ClientError::Unauthorized {
            status: raw.status,
            body,
            raw: text,
        },
        404 => ClientError::NotFound { body, raw: text },
        429 => ClientError::RateLimited {
            retry_after: raw
                .headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
            body,
            raw: text,
        },
        status => ClientError::Status {
            status,
            body,
            raw: text,
        },
    })
}
