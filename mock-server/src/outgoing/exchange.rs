//! One HTTP/1 exchange with a checked address: hyper-util's client, connecting to the address the
//! target rules decided on (not to a name looked up again: what was checked is what is reached),
//! with the URL's authority in `Host`, a whole-exchange timeout and a bound on the answer read.
//!
//! Every request carries [`SENT_BY_HEADER`]: the admin API refuses any request that has it, so
//! nothing the mock sends can act on a mock's admin API, even through a proxy or a name the rules
//! could not see through. Redirects are not followed (a 3xx is an answer like any other).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The answer bytes read at most; past them the connection is dropped and the answer is marked
/// cut (a 10 MB answer costs 64 KiB).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What the sender says it is.
pub const USER_AGENT_VALUE: &str = concat!("synthflow-mock/", env!("CARGO_PKG_VERSION"));

/// The header every request the mock sends carries (value: the kind of request).
pub const SENT_BY_HEADER: &str = "synthflow-mock-sent-by";

/// Why an exchange got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The request could not be built (a header name or value).
    #[error("invalid request: {0}")]
    Build(#[from] http::Error),
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
pub struct Answer {
    /// Its status.
    pub status: u16,
    /// Its `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Its body, at most [`MAX_ANSWER_BYTES`].
    pub body: Bytes,
    /// The body went on past [`MAX_ANSWER_BYTES`] and was not read further.
    pub cut: bool,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// What kind of request (sent in [`SENT_BY_HEADER`]).
    pub kind: &'static str,
    /// The method.
    pub method: Method,
    /// The address to connect to (decided by the rules).
    pub addr: SocketAddr,
    /// The `Host` header.
    pub authority: &'a str,
    /// Path and query.
    pub path_and_query: &'a str,
    /// Headers besides `Host`, `User-Agent` and [`SENT_BY_HEADER`].
    pub headers: HeaderMap,
    /// The body (sent as JSON when no content type is given).
    pub body: Bytes,
    /// Connect to last byte of the answer.
    pub timeout: Duration,
}

/// An HTTP/1 client (cheap to clone; connections are pooled per address).
#[derive(Clone, Debug)]
pub struct Client1 {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Client1 {
    /// A client. Call inside a tokio runtime.
    pub fn new() -> Client1 {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_nodelay(true);
        Client1 {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
        }
    }

    /// Sends `call` and reads its answer (bounded), all within its timeout.
    pub async fn send(&self, call: Call<'_>) -> Result<Answer, ExchangeError> {
        let uri = format!("http://{}{}", call.addr, call.path_and_query);
        let mut req = Request::builder().method(call.method).uri(uri);
        let has_type = call.headers.contains_key(CONTENT_TYPE);
        for (name, value) in &call.headers {
            req = req.header(name, value);
        }
        if !has_type && !call.body.is_empty() {
            req = req.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let req = req
            .header(HOST, call.authority)
            .header(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE))
            .header(HeaderName::from_static(SENT_BY_HEADER), call.kind)
            .body(Full::new(call.body))?;
        let exchange = async {
            let resp = self.client.request(req).await?;
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let mut incoming = resp.into_body();
            let mut body = Vec::new();
            let mut cut = false;
            loop {
                match incoming.frame().await {
                    None => break,
                    Some(Err(e)) => return Err(ExchangeError::Body(e)),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            let room = MAX_ANSWER_BYTES - body.len();
                            if data.len() > room {
                                body.extend_from_slice(&data[..room]);
                                cut = true;
                                break;
                            }
                            body.extend_from_slice(&data);
                        }
                    }
                }
            }
            Ok(Answer {
                status,
                content_type,
                body: Bytes::from(body),
                cut,
            })
        };
        match tokio::time::timeout(call.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(ExchangeError::Timeout(call.timeout.as_millis())),
        }
    }
}

impl Default for Client1 {
    fn default() -> Self {
        Client1::new()
    }
}
