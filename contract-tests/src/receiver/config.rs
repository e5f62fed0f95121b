//! What a receiver check is told: the endpoint, secret, seed, limits and the API mock's address,
//! set with a builder (`ReceiverCheck::new(..).seed(7).cases(50)`), and why it may not start.

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use super::Endpoint;

/// What to check and how. Built with [`ReceiverCheck::new`] and the builder methods.
pub struct ReceiverCheck {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// Its URL (for an action, `{variable}` placeholders are filled in).
    pub url: String,
    pub(crate) secret: Option<String>,
    /// The signature header's wire name (default `Synthflow-Signature`).
    pub header: String,
    /// The seed of the payload sequence.
    pub seed: u64,
    /// How many cases.
    pub cases: usize,
    /// Per-request time limit (default 10 s, the inbound budget too).
    pub time_limit: Duration,
    /// Stop checking a property after this many failures (default 3).
    pub max_failures: usize,
    /// Stop the run after this many requests got no answer in time (default 2).
    pub max_timeouts: usize,
    /// Candidates tried per shrink (default 400); shrinking as a whole stops after 30 s.
    pub shrink_budget: usize,
    pub(crate) api_mock: Option<ApiMockSource>,
}

pub(crate) enum ApiMockSource {
    Addr(SocketAddr),
    Listener(TcpListener),
}

impl fmt::Debug for ReceiverCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiverCheck")
            .field("endpoint", &self.endpoint)
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("header", &self.header)
            .field("seed", &self.seed)
            .field("cases", &self.cases)
            .field("time_limit", &self.time_limit)
            .finish()
    }
}

impl ReceiverCheck {
    /// A check of `endpoint` at `url`, deliveries signed with `secret`; 200 cases, seed 0,
    /// 10 s limit, no API mock.
    pub fn new(endpoint: Endpoint, url: impl Into<String>, secret: impl Into<String>) -> Self {
        let mut c = ReceiverCheck::unsigned(endpoint, url);
        c.secret = Some(secret.into());
        c
    }

    /// A check without signatures (a custom action, which Synthflow does not sign): the refusal
    /// properties are not checked.
    pub fn unsigned(endpoint: Endpoint, url: impl Into<String>) -> Self {
        ReceiverCheck {
            endpoint,
            url: url.into(),
            secret: None,
            header: synthflow::webhook::SIGNATURE_HEADER.to_owned(),
            seed: 0,
            cases: 200,
            time_limit: Duration::from_secs(10),
            max_failures: 3,
            max_timeouts: 2,
            shrink_budget: 400,
            api_mock: None,
        }
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the number of cases.
    pub fn cases(mut self, cases: usize) -> Self {
        self.cases = cases;
        self
    }

    /// Sets the per-request time limit.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    /// Sets the signature header's name.
    pub fn header(mut self, name: impl Into<String>) -> Self {
        self.header = name.into();
        self
    }

    /// Runs an API mock on `addr` (the receiver is configured with `http://ADDR/v2` as its API
    /// base): a delivery answered 2xx then counts as refused when no API request follows it.
    pub fn api_mock_addr(mut self, addr: SocketAddr) -> Self {
        self.api_mock = Some(ApiMockSource::Addr(addr));
        self
    }

    /// The same on a listener already bound (tests bind port 0 first and pass the port on).
    pub fn api_mock_listener(mut self, listener: TcpListener) -> Self {
        self.api_mock = Some(ApiMockSource::Listener(listener));
        self
    }
}

/// Why a check could not start.
#[derive(Debug)]
pub enum RunError {
    /// The API mock's address could not be bound.
    ApiMock(std::io::Error),
    /// The HTTP client could not be built.
    Client(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::ApiMock(e) => write!(f, "cannot start the API mock: {e}"),
            RunError::Client(e) => write!(f, "cannot build the HTTP client: {e}"),
        }
    }
}

impl std::error::Error for RunError {}
