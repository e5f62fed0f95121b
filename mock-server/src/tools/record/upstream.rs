//! The service being recorded from, and its token.

use std::fmt;
use std::time::Duration;

use synthflow::client::RawResponse;

/// The environment variable the token is read from.
pub const API_KEY_VAR: &str = "SYNTHFLOW_API_KEY";

/// The API token. Never printed.
#[derive(Clone)]
pub struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// A token from a string (tests); empty is refused.
    pub fn new(token: impl Into<String>) -> Result<Self, ApiKeyError> {
        let t: String = token.into();
        if t.trim().is_empty() {
            return Err(ApiKeyError::Empty);
        }
        Ok(ApiKey(t))
    }

    /// The token from `SYNTHFLOW_API_KEY`.
    pub fn from_env() -> Result<Self, ApiKeyError> {
        match std::env::var(API_KEY_VAR) {
            Ok(t) => ApiKey::new(t),
            Err(_) => Err(ApiKeyError::NotSet),
        }
    }

    /// The token itself, for the request header and for checking it was not written.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The service being recorded from.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: synthflow::Client,
    http: reqwest::Client,
    base_url: String,
    key: ApiKey,
}

impl Upstream {
    /// An upstream at `base_url` (up to and including `/v2`).
    pub fn new(base_url: &str, key: ApiKey, timeout: Duration) -> Result<Self, UpstreamError> {
        let client = synthflow::Client::builder()
            .base_url(base_url)
            .token(key.expose())
            .timeout(timeout)
            .build()?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| UpstreamError::Http(e.without_url()))?;
        Ok(Upstream {
            base_url: client.base_url().to_owned(),
            client,
            http,
            key,
        })
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The token (to check nothing written holds it).
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// `GET /calls/{id}`, any status; `Err` only for a transport failure (no URL, no token in it).
    pub async fn get_call(&self, id: &str) -> Result<RawResponse, UpstreamError> {
        Ok(self.client.get_call_raw(id).await?)
    }

    /// Every call id of an agent, paging through `GET /calls?model_id=..` (`limit` 100).
    pub async fn list_call_ids(&self, model_id: &str) -> Result<Vec<String>, UpstreamError> {
        const LIMIT: u64 = 100;
        let mut ids = Vec::new();
        let mut offset = 0u64;
        loop {
            let mut url = reqwest::Url::parse(&format!("{}/calls", self.base_url))
                .map_err(|e| UpstreamError::BaseUrl(e.to_string()))?;
            url.query_pairs_mut()
                .append_pair("model_id", model_id)
                .append_pair("limit", &LIMIT.to_string())
                .append_pair("offset", &offset.to_string());
            let list_err = |e: reqwest::Error| UpstreamError::List(e.without_url());
            let resp = self
                .http
                .get(url)
                .bearer_auth(self.key.expose())
                .send()
                .await
                .map_err(list_err)?;
            let status = resp.status().as_u16();
            let body = resp.bytes().await.map_err(list_err)?;
            if status != 200 {
                return Err(UpstreamError::ListStatus {
                    offset,
                    status,
                    excerpt: String::from_utf8_lossy(&body).chars().take(200).collect(),
                });
            }
            let page: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|source| UpstreamError::ListJson { offset, source })?;
            let calls = page
                .pointer("/response/calls")
                .and_then(|c| c.as_array())
                .cloned()
                .unwrap_or_default();
            let before = ids.len();
            ids.extend(
                calls
                    .iter()
                    .filter_map(|c| c.get("call_id").and_then(|i| i.as_str()))
                    .map(str::to_owned),
            );
            let total = page
                .pointer("/response/pagination/total_records")
                .and_then(|t| t.as_u64());
            offset += calls.len() as u64;
            let done = calls.is_empty()
                || ids.len() == before
                || total.is_some_and(|t| offset >= t)
                || (total.is_none() && (calls.len() as u64) < LIMIT);
            if done {
                break;
            }
        }
        ids.dedup();
        Ok(ids)
    }
}

/// Why there is no token.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    /// The variable is set to nothing.
    #[error("{var} is empty", var = API_KEY_VAR)]
    Empty,
    /// The variable is not set.
    #[error(
        "{var} is not set: export the API key in the environment (it is never taken from a flag)",
        var = API_KEY_VAR
    )]
    NotSet,
}

/// Why the upstream could not be set up or asked. Never holds the token or a URL with it.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The project's client refused the settings, or a call failed in transport.
    #[error(transparent)]
    Client(#[from] synthflow::ClientError),
    /// The HTTP client for listing could not be built.
    #[error("{0}")]
    Http(#[source] reqwest::Error),
    /// The base URL does not parse (the parser's message).
    #[error("base URL: {0}")]
    BaseUrl(String),
    /// Listing calls failed in transport.
    #[error("list calls: {0}")]
    List(#[source] reqwest::Error),
    /// Listing calls got an error status.
    #[error("list calls (offset {offset}): HTTP {status}: {excerpt}")]
    ListStatus {
        /// The page offset asked for.
        offset: u64,
        /// The status.
        status: u16,
        /// The start of the body (200 characters at most).
        excerpt: String,
    },
    /// Listing calls got a body that is not JSON.
    #[error("list calls (offset {offset}): not JSON: {source}")]
    ListJson {
        /// The page offset asked for.
        offset: u64,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
}
