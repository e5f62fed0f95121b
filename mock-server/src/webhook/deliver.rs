//! One HTTP POST of a webhook, with a timeout: hyper-util's HTTP/1 client, plain `http://` only
//! (receivers under test listen on loopback; the mock has no TLS client, so `https://` is refused
//! with an error rather than sent in clear).

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, USER_AGENT};
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The receiver's answer bytes kept; the rest is not read.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// What the sender says it is.
pub const USER_AGENT_VALUE: &str =
    concat!("synthflow-mock/", env!("CARGO_PKG_VERSION"), " (webhook)");

/// Why one POST got no answer.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// The URL does not parse.
    #[error("bad webhook URL: {0}")]
    BadUrl(#[from] http::uri::InvalidUri),
    /// Not `http://`.
    #[error("unsupported scheme {0:?}: the mock sends webhooks over plain http only (no TLS client offline)")]
    UnsupportedScheme(String),
    /// The header name or signature is not valid in a header.
    #[error("invalid header: {0}")]
    Header(#[from] http::Error),
    /// No answer within the timeout.
    #[error("timed out after {0} ms")]
    Timeout(u128),
    /// Connection refused, reset, closed...
    #[error("request failed: {0}")]
    Request(#[from] hyper_util::client::legacy::Error),
    /// The answer's body broke off.
    #[error("reading the answer: {0}")]
    Body(#[source] hyper::Error),
}

/// The receiver's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Its status.
    pub status: u16,
    /// Its body, at most [`MAX_REPLY_BYTES`].
    pub body: Bytes,
}

/// An HTTP/1 client for webhook deliveries (cheap to clone; connections are pooled).
#[derive(Clone, Debug)]
pub struct Sender {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for Sender {
    fn default() -> Self {
        Sender::new()
    }
}

impl Sender {
    /// A client. Call inside a tokio runtime.
    pub fn new() -> Sender {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_nodelay(true);
        Sender {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
        }
    }

    /// POSTs `body` as JSON to `url`, with `signature` in `header` when given; the whole exchange
    /// (connect, send, read the answer) within `timeout`.
    pub async fn post(
        &self,
        url: &str,
        header: &HeaderName,
        signature: Option<&str>,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Reply, DeliverError> {
        let uri: Uri = url.parse()?;
        match uri.scheme_str() {
            Some("http") => {}
            other => {
                return Err(DeliverError::UnsupportedScheme(
                    other.unwrap_or("").to_owned(),
                ))
            }
        }
        let mut req = Request::post(uri)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if let Some(sig) = signature {
            req = req.header(header, sig);
        }
        let req = req.body(Full::new(body))?;
        let exchange = async {
            let resp = self.client.request(req).await?;
            let status = resp.status().as_u16();
            let mut incoming = resp.into_body();
            let mut body = Vec::new();
            while body.len() < MAX_REPLY_BYTES {
                match incoming.frame().await {
                    None => break,
                    Some(Err(e)) => return Err(DeliverError::Body(e)),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            let room = MAX_REPLY_BYTES - body.len();
                            body.extend_from_slice(&data[..data.len().min(room)]);
                        }
                    }
                }
            }
            let body = Bytes::from(body);
            Ok::<Reply, DeliverError>(Reply { status, body })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(DeliverError::Timeout(timeout.as_millis())),
        }
    }
}

/// Sends one webhook once, with a fresh client: for `synthflow-mock webhook send`.
pub async fn post_once(
    url: &str,
    header: &HeaderName,
    signature: Option<&str>,
    body: Bytes,
    timeout: Duration,
) -> Result<Reply, DeliverError> {
    Sender::new()
        .post(url, header, signature, body, timeout)
        .await
}
