//! The delivery journal: one record per attempt (URL, attempt, status or error, latency), in a
//! [`Ring`] bounded in entries and bytes like the request journal. It never holds the secret or a
//! signature: a record says only whether the attempt was signed.

use serde::Serialize;

use crate::ring::{bounded, Ring, Weigh};

/// Longest URL, error or fault text kept in a record.
const MAX_FIELD: usize = 512;

/// Bytes the delivery journal may hold by default.
pub const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Position since start (or the last clear), from 1.
    pub seq: u64,
    /// The call the payload is about.
    pub call_id: String,
    /// Where it was sent (user and password of the URL, if any, removed).
    pub url: String,
    /// 1 for the first attempt of a delivery, 2 for its first retry...
    pub attempt: u32,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// Why there is no status (timeout, connection refused, bad URL...).
    pub error: Option<String>,
    /// `delivered` (2xx), `retry` (another attempt follows), `failed` (no more attempts),
    /// `refused` (a 4xx other than 408/429: not retried).
    pub outcome: &'static str,
    /// Milliseconds from sending to the answer (or the error).
    pub latency_ms: u64,
    /// When the attempt started (RFC 3339, UTC).
    pub at: String,
    /// A signature header was sent (its value is never kept).
    pub signed: bool,
    /// The receiver faults this delivery was made with, if any.
    pub fault: Option<String>,
    /// This is the second copy of a delivery (the `duplicate` fault).
    pub duplicate: bool,
}

impl Delivery {
    /// A record with its long fields bounded.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        call_id: &str,
        url: &str,
        attempt: u32,
        result: Result<u16, String>,
        outcome: &'static str,
        latency_ms: u64,
        at: String,
        signed: bool,
        fault: Option<&str>,
        duplicate: bool,
    ) -> Delivery {
        let (status, error) = match result {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(bounded(&e, MAX_FIELD))),
        };
        Delivery {
            seq: 0,
            call_id: bounded(call_id, MAX_FIELD),
            url: bounded(&without_userinfo(url), MAX_FIELD),
            attempt,
            status,
            error,
            outcome,
            latency_ms,
            at,
            signed,
            fault: fault.map(|f| bounded(f, MAX_FIELD)),
            duplicate,
        }
    }
}

impl Weigh for Delivery {
    fn weight(&self) -> usize {
        std::mem::size_of::<Delivery>()
            + self.call_id.len()
            + self.url.len()
            + self.at.len()
            + self.error.as_ref().map_or(0, String::len)
            + self.fault.as_ref().map_or(0, String::len)
    }
    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}

/// The journal of delivery attempts.
pub type DeliveryJournal = Ring<Delivery>;

/// `http://user:pass@host/p` → `http://host/p`: a credential in a receiver URL is not journaled.
pub fn without_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_are_not_kept() {
        assert_eq!(
            without_userinfo("http://u:p@127.0.0.1:9/hook?x=1"),
            "http://127.0.0.1:9/hook?x=1"
        );
        assert_eq!(without_userinfo("http://h/a@b"), "http://h/a@b");
        assert_eq!(without_userinfo("nonsense"), "nonsense");
    }

    #[test]
    fn records_are_bounded_and_numbered_by_the_ring() {
        let ring: DeliveryJournal = Ring::new(10, DEFAULT_MAX_BYTES);
        let long = "e".repeat(10_000);
        ring.push(Delivery::new(
            "c",
            "http://h/",
            1,
            Err(long),
            "failed",
            3,
            "t".into(),
            true,
            None,
            false,
        ));
        let d = &ring.entries()[0];
        assert_eq!(d.seq, 1);
        assert!(d.error.as_ref().unwrap().len() < 600);
    }
}
