//! Expectations on what a running mock receives, counted as requests arrive and checked on
//! [`crate::MockServer::verify`] and when the mock is dropped (as wiremock-rs' `Mock::expect`).
//!
//! An [`Expectation`] is a matcher on requests (method, path, call id, or any predicate on the
//! [`crate::JournalEntry`] of the request) with how many times it must match ([`Times`]). Each
//! expectation a mock holds has its own counter, incremented by the one request entry
//! (`http::entry`) for every matching request received after the expectation was added, whatever
//! the journal's size: with the journal off, or past its 1,000 entries, the counts are still whole.
//!
//! A failed check panics with every unmet expectation, what it expected and how many requests
//! matched, followed by the requests the journal kept, so the test output says what the client sent
//! instead.
//!
//! This module sits below `state` (the state holds the [`Registry`] the entry counts into), so the
//! entry never imports the in-process API above it.

use std::fmt;
use std::ops::{Bound, RangeBounds};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::journal::JournalEntry;

/// How many matching requests an [`Expectation`] wants: a number or a range, as wiremock-rs'
/// `Times`.
///
/// ```
/// use synthflow_mock::{Expectation, Times};
/// let exactly = Expectation::get_call("abc").times(2);
/// let between = Expectation::get_call("abc").times(2..=3);
/// let some = Expectation::get_call("abc").times(1..);
/// assert_eq!(Times::from(2..=3).to_string(), "between 2 and 3");
/// # let _ = (exactly, between, some);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    min: u64,
    /// Inclusive; `None`: no upper bound.
    max: Option<u64>,
}

impl Times {
    /// Whether `n` matching requests satisfy it.
    pub fn contains(self, n: u64) -> bool {
        n >= self.min && self.max.map_or(true, |m| n <= m)
    }

    fn from_bounds(r: impl RangeBounds<u64>) -> Times {
        let min = match r.start_bound() {
            Bound::Included(&n) => n,
            Bound::Excluded(&n) => n.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let max = match r.end_bound() {
            Bound::Included(&n) => Some(n),
            // `0..0`: no count fits (max below min).
            Bound::Excluded(&0) => {
                return Times {
                    min: min.max(1),
                    max: Some(0),
                }
            }
            Bound::Excluded(&n) => Some(n - 1),
            Bound::Unbounded => None,
        };
        Times { min, max }
    }
}

impl From<u64> for Times {
    fn from(n: u64) -> Times {
        Times {
            min: n,
            max: Some(n),
        }
    }
}

macro_rules! times_from_range {
    ($($r:ty),*) => {$(
        impl From<$r> for Times {
            fn from(r: $r) -> Times {
                Times::from_bounds(r)
            }
        }
    )*};
}
times_from_range!(
    std::ops::Range<u64>,
    std::ops::RangeInclusive<u64>,
    std::ops::RangeFrom<u64>,
    std::ops::RangeTo<u64>,
    std::ops::RangeToInclusive<u64>,
    std::ops::RangeFull
);

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (min, Some(max)) if min == max => write!(f, "exactly {min}"),
            (min, Some(max)) if max < min => write!(f, "an empty range ({min}..={max})"),
            (0, Some(max)) => write!(f, "at most {max}"),
            (min, Some(max)) => write!(f, "between {min} and {max}"),
            (min, None) => write!(f, "at least {min}"),
        }
    }
}

type Matcher = Arc<dyn Fn(&JournalEntry) -> bool + Send + Sync>;

/// What a test expects the mock to receive. Built like a sentence:
///
/// ```
/// use synthflow_mock::Expectation;
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
            times: Times::from(1..),
        }
    }

    /// A request with this method and exactly this path (without the query).
    pub fn method_path(method: &str, path: &str) -> Expectation {
        let (m, p) = (method.to_ascii_uppercase(), path.to_owned());
        let mut e = Expectation::any();
        e.description = format!("{m} {p}");
        e.matchers.push(Arc::new(move |r: &JournalEntry| {
            r.method == m && r.path == p
        }));
        e
    }

    /// `GET /v2/calls/{id}`.
    pub fn get_call(id: &str) -> Expectation {
        Expectation::method_path("GET", &format!("/v2/calls/{id}"))
    }

    /// Also matching `predicate` on the request (status, headers, query, fault...).
    pub fn with(
        mut self,
        predicate: impl Fn(&JournalEntry) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.description.push_str(" (with a predicate)");
        self.matchers.push(Arc::new(predicate));
        self
    }

    /// Names it in failure messages (instead of the generated description).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.description = name.into();
        self
    }

    /// Must match this many requests: a number (`2`) or a range (`2..=3`, `1..`, `..3`).
    pub fn times(mut self, times: impl Into<Times>) -> Self {
        self.times = times.into();
        self
    }

    /// Must match `n` requests or more (`times(n..)`).
    pub fn at_least(self, n: u64) -> Self {
        self.times(n..)
    }

    /// Must match at most `n` requests (`times(..=n)`).
    pub fn at_most(self, n: u64) -> Self {
        self.times(..=n)
    }

    /// Must match no request (`times(0)`).
    pub fn never(self) -> Self {
        self.times(0)
    }

    /// Whether `entry` matches.
    pub fn matches(&self, entry: &JournalEntry) -> bool {
        self.matchers.iter().all(|m| m(entry))
    }
}

/// An expectation held by a mock, with its count.
#[derive(Debug)]
struct Counted {
    expectation: Expectation,
    hits: AtomicU64,
}

/// The expectations a mock holds, each counting the requests it matches. The entry calls
/// [`Registry::observe`] once per request; with no expectation held that is one atomic load.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    any: AtomicBool,
    held: RwLock<Vec<Arc<Counted>>>,
}

impl Registry {
    /// Whether any expectation is held (the entry then builds a request's record even with the
    /// journal off).
    pub(crate) fn is_on(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// Counts `entry` in every expectation it matches.
    pub(crate) fn observe(&self, entry: &JournalEntry) {
        if !self.is_on() {
            return;
        }
        for c in self.held.read().unwrap_or_else(|e| e.into_inner()).iter() {
            if c.expectation.matches(entry) {
                c.hits.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Holds `expectation`, counting from now.
    pub(crate) fn add(&self, expectation: Expectation) {
        let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
        held.push(Arc::new(Counted {
            expectation,
            hits: AtomicU64::new(0),
        }));
        self.any.store(true, Ordering::Release);
    }

    /// Forgets every expectation.
    pub(crate) fn clear(&self) {
        let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
        held.clear();
        self.any.store(false, Ordering::Release);
    }

    /// Checks every expectation against its count: `Err` holds the message a failed verification
    /// shows. `received`: the journal's requests, to list (`None`: the journal is off).
    pub(crate) fn check(&self, received: Option<&[JournalEntry]>) -> Result<(), VerificationError> {
        let held = self.held.read().unwrap_or_else(|e| e.into_inner()).clone();
        let unmet: Vec<String> = held
            .iter()
            .filter_map(|c| {
                let n = c.hits.load(Ordering::Relaxed);
                (!c.expectation.times.contains(n)).then(|| {
                    format!(
                        "- {}: expected {} matching request(s), received {n}",
                        c.expectation.description, c.expectation.times
                    )
                })
            })
            .collect();
        if unmet.is_empty() {
            return Ok(());
        }
        Err(VerificationError {
            message: message(&unmet, received),
        })
    }
}

fn message(unmet: &[String], received: Option<&[JournalEntry]>) -> String {
    let mut msg = format!(
        "synthflow-mock: {} expectation(s) not met:\n{}\n",
        unmet.len(),
        unmet.join("\n"),
    );
    let Some(received) = received else {
        msg.push_str(
            "Received requests: not recorded (the journal is off: `.journal(n)` keeps them)\n",
        );
        return msg;
    };
    msg.push_str(&format!(
        "Received requests (the journal's last {}):\n",
        received.len()
    ));
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
    msg
}

/// Unmet expectations: the message names each, what it expected and how many requests matched,
/// then the requests the journal kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct VerificationError {
    /// The whole message.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::Times;

    #[test]
    fn times_take_numbers_and_ranges() {
        let cases: &[(Times, &[u64], &[u64], &str)] = &[
            (Times::from(2), &[2], &[0, 1, 3], "exactly 2"),
            (Times::from(2..=3), &[2, 3], &[1, 4], "between 2 and 3"),
            (Times::from(2..4), &[2, 3], &[1, 4], "between 2 and 3"),
            (Times::from(1..), &[1, 1500], &[0], "at least 1"),
            (Times::from(..3), &[0, 2], &[3], "at most 2"),
            (Times::from(..=3), &[0, 3], &[4], "at most 3"),
            (Times::from(..), &[0, 9], &[], "at least 0"),
            (Times::from(0..0), &[], &[0, 1], "an empty range (1..=0)"),
        ];
        for (t, yes, no, shown) in cases {
            for n in *yes {
                assert!(t.contains(*n), "{t} should hold {n}");
            }
            for n in *no {
                assert!(!t.contains(*n), "{t} should not hold {n}");
            }
            assert_eq!(t.to_string(), *shown);
        }
    }
}
