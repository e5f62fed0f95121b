//! Expectations on what a running mock received, checked on [`crate::MockServer::verify`] and when
//! the mock is dropped (as wiremock-rs' `Mock::expect`).
//!
//! An [`Expectation`] is a matcher on journal entries (method, path, call id, or any predicate)
//! with how many times it must match ([`Times`]). A failed check panics with every unmet
//! expectation, what it expected and how many requests matched, followed by every request the mock
//! received, so the test output says what the client sent instead.

use std::fmt;
use std::sync::Arc;

use crate::journal::Entry;

/// How many matching requests an [`Expectation`] wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// Exactly this many.
    Exactly(usize),
    /// This many or more.
    AtLeast(usize),
    /// At most this many.
    AtMost(usize),
}

impl Times {
    fn holds(self, n: usize) -> bool {
        match self {
            Times::Exactly(k) => n == k,
            Times::AtLeast(k) => n >= k,
            Times::AtMost(k) => n <= k,
        }
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Times::Exactly(k) => write!(f, "exactly {k}"),
            Times::AtLeast(k) => write!(f, "at least {k}"),
            Times::AtMost(k) => write!(f, "at most {k}"),
        }
    }
}

type Matcher = Arc<dyn Fn(&Entry) -> bool + Send + Sync>;

/// What a test expects the mock to receive. Built like a sentence:
///
/// ```
/// use synthflow_mock::{Expectation, Times};
/// let e = Expectation::get_call("abc").times(1);
/// let retries = Expectation::method_path("GET", "/v2/calls").with(|r| r.status == 429).at_least(1);
/// # let _ = (e, retries);
/// ```
#[derive(Clone)]
pub struct Expectation {
    description: String,
    matchers: Vec<Matcher>,
    times: Times,
}

impl fmt::Debug for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expectation({}, {})", self.description, self.times)
    }
}

impl Expectation {
    /// Any request at all (default: at least once).
    pub fn any() -> Expectation {
        Expectation {
            description: "any request".into(),
            matchers: Vec::new(),
            times: Times::AtLeast(1),
        }
    }

    /// A request with this method and exactly this path (without the query).
    pub fn method_path(method: &str, path: &str) -> Expectation {
        let (m, p) = (method.to_ascii_uppercase(), path.to_owned());
        let mut e = Expectation::any();
        e.description = format!("{m} {p}");
        e.matchers
            .push(Arc::new(move |r: &Entry| r.method == m && r.path == p));
        e
    }

    /// `GET /v2/calls/{id}`.
    pub fn get_call(id: &str) -> Expectation {
        Expectation::method_path("GET", &format!("/v2/calls/{id}"))
    }

    /// Also matching `predicate` on the journal entry (status, headers, query, fault...).
    pub fn with(mut self, predicate: impl Fn(&Entry) -> bool + Send + Sync + 'static) -> Self {
        self.description.push_str(" (with a predicate)");
        self.matchers.push(Arc::new(predicate));
        self
    }

    /// Names it in failure messages (instead of the generated description).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.description = name.into();
        self
    }

    /// Must match exactly `n` requests.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Times::Exactly(n);
        self
    }

    /// Must match `n` requests or more.
    pub fn at_least(mut self, n: usize) -> Self {
        self.times = Times::AtLeast(n);
        self
    }

    /// Must match at most `n` requests.
    pub fn at_most(mut self, n: usize) -> Self {
        self.times = Times::AtMost(n);
        self
    }

    /// Must match no request.
    pub fn never(self) -> Self {
        self.times(0)
    }

    /// Whether `entry` matches.
    pub fn matches(&self, entry: &Entry) -> bool {
        self.matchers.iter().all(|m| m(entry))
    }
}

/// Checks `expectations` against `received`: `Err` holds the message a failed verification shows.
pub(crate) fn check(
    expectations: &[Expectation],
    received: &[Entry],
) -> Result<(), VerificationError> {
    let unmet: Vec<String> = expectations
        .iter()
        .filter_map(|e| {
            let n = received.iter().filter(|r| e.matches(r)).count();
            (!e.times.holds(n)).then(|| {
                format!(
                    "- {}: expected {} matching request(s), received {n}",
                    e.description, e.times
                )
            })
        })
        .collect();
    if unmet.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "synthflow-mock: {} expectation(s) not met:\n{}\nReceived requests ({}):\n",
        unmet.len(),
        unmet.join("\n"),
        received.len()
    );
    if received.is_empty() {
        msg.push_str("  (none)\n");
    }
    for r in received {
        let query = r
            .query
            .as_deref()
            .map_or(String::new(), |q| format!("?{q}"));
        msg.push_str(&format!(
            "  #{} {} {}{query} -> {}",
            r.seq, r.method, r.path, r.status
        ));
        if let Some(f) = &r.fault {
            msg.push_str(&format!(" (fault {f})"));
        }
        if !r.nearest_ids.is_empty() {
            msg.push_str(&format!(" (nearest ids: {})", r.nearest_ids.join(", ")));
        }
        msg.push('\n');
    }
    Err(VerificationError { message: msg })
}

/// Unmet expectations: the message names each, what it expected and how many requests matched,
/// then every request received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct VerificationError {
    /// The whole message.
    pub message: String,
}
