//! The delivery journal: one record per attempt of every outgoing request (kind, URL, attempt,
//! status or error, latency, and the receiver's answer), in a `Ring` bounded in entries and
//! bytes like the request journal. A record never holds a secret or a signature: the URL is shown
//! through [`crate::redact::url`], the answer's body through [`crate::redact::answer_body`], and a
//! record says only whether the attempt was signed.

use serde::Serialize;

use crate::redact;
use crate::ring::{bounded, Ring, Weigh};

use super::exchange::Answer;

/// Longest URL, error or fault text kept in a record.
const MAX_FIELD: usize = 512;

/// Bytes of a receiver's answer body kept in a record.
pub const ANSWER_BODY_KEPT: usize = 2048;

/// Bytes of the request body kept in a record (for `GET /v2/logs/{id}`'s `request_payload`).
pub const REQUEST_BODY_KEPT: usize = 4096;

/// Bytes the delivery journal may hold by default.
pub const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;

/// What the receiver answered, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerRecord {
    /// Its status.
    pub status: u16,
    /// Its `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The first [`ANSWER_BODY_KEPT`] bytes of its body, secrets redacted.
    pub body: String,
    /// The answer went on past what the mock reads (`outgoing::MAX_ANSWER_BYTES`).
    pub cut: bool,
}

impl AnswerRecord {
    /// The kept form of `a`.
    pub fn of(a: &Answer) -> AnswerRecord {
        AnswerRecord {
            status: a.status,
            content_type: a.content_type.as_deref().map(|c| bounded(c, 128)),
            body: redact::answer_body(&a.body, ANSWER_BODY_KEPT),
            cut: a.cut,
        }
    }
}

/// One attempt of an outgoing request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Position since start (or the last clear), from 1.
    pub seq: u64,
    /// `webhook` (post-call), `inbound` or `action`.
    pub kind: &'static str,
    /// The call the request is about.
    pub call_id: String,
    /// Where it was sent, redacted ([`crate::redact::url`]).
    pub url: String,
    /// 1 for the first attempt of a delivery, 2 for its first retry...
    pub attempt: u32,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// Why there is no status (timeout, connection refused, a refused target...).
    pub error: Option<String>,
    /// `delivered` (2xx), `retry` (another attempt follows), `failed` (no more attempts, or an
    /// error that cannot clear), `refused` (a 4xx other than 408/429, or a target the rules
    /// refuse: not sent).
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
    /// What the receiver answered, when it did.
    pub answer: Option<AnswerRecord>,
    /// The agent of the call, when known.
    pub model_id: Option<String>,
    /// The request's method.
    pub method: String,
    /// The request's headers, redacted (the signature header whatever its name).
    pub request_headers: Vec<(String, String)>,
    /// The first [`REQUEST_BODY_KEPT`] bytes of the request body, redacted like an answer.
    pub request_body: String,
}

/// The parts of a [`Delivery`] the sender knows before the attempt's result.
#[derive(Debug, Clone)]
pub struct AttemptOf<'a> {
    /// See [`Delivery::kind`].
    pub kind: &'static str,
    /// See [`Delivery::call_id`].
    pub call_id: &'a str,
    /// The URL as given (redacted here).
    pub url: &'a str,
    /// See [`Delivery::attempt`].
    pub attempt: u32,
    /// See [`Delivery::signed`].
    pub signed: bool,
    /// See [`Delivery::fault`].
    pub fault: Option<&'a str>,
    /// See [`Delivery::duplicate`].
    pub duplicate: bool,
    /// See [`Delivery::model_id`].
    pub model_id: Option<&'a str>,
    /// The request's method.
    pub method: &'a str,
    /// The request's headers (redacted here).
    pub headers: &'a http::HeaderMap,
    /// Header names redacted whole besides the table (the configured signature header).
    pub secret_headers: &'a [http::HeaderName],
    /// The request's body (cut and redacted here).
    pub body: &'a [u8],
}

impl Delivery {
    /// A record with its long fields bounded and its URL redacted.
    pub fn new(
        of: &AttemptOf<'_>,
        result: Result<&Answer, String>,
        outcome: &'static str,
        latency_ms: u64,
        at: String,
    ) -> Delivery {
        let (status, error, answer) = match result {
            Ok(a) => (Some(a.status), None, Some(AnswerRecord::of(a))),
            Err(e) => (None, Some(bounded(&e, MAX_FIELD)), None),
        };
        Delivery {
            seq: 0,
            kind: of.kind,
            call_id: bounded(of.call_id, MAX_FIELD),
            url: bounded(&redact::url(of.url), MAX_FIELD),
            attempt: of.attempt,
            status,
            error,
            outcome,
            latency_ms,
            at,
            signed: of.signed,
            fault: of.fault.map(|f| bounded(f, MAX_FIELD)),
            duplicate: of.duplicate,
            answer,
            model_id: of.model_id.map(|m| bounded(m, MAX_FIELD)),
            method: of.method.to_owned(),
            request_headers: of
                .headers
                .iter()
                .map(|(n, v)| {
                    let shown =
                        redact::header_value(n, v, of.secret_headers).unwrap_or_else(|| {
                            bounded(&String::from_utf8_lossy(v.as_bytes()), MAX_FIELD)
                        });
                    (n.as_str().to_owned(), shown)
                })
                .collect(),
            request_body: redact::answer_body(of.body, REQUEST_BODY_KEPT),
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
            + self.answer.as_ref().map_or(0, |a| {
                a.body.len() + a.content_type.as_ref().map_or(0, String::len) + 32
            })
            + self.model_id.as_ref().map_or(0, String::len)
            + self.request_body.len()
            + self
                .request_headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 48)
                .sum::<usize>()
    }
    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}

/// The journal of delivery attempts.
pub type DeliveryJournal = Ring<Delivery>;

#[cfg(test)]
mod tests {
    use super::*;

    static NO_HEADERS: std::sync::LazyLock<http::HeaderMap> =
        std::sync::LazyLock::new(http::HeaderMap::new);

    fn of(url: &str) -> AttemptOf<'_> {
        AttemptOf {
            kind: "webhook",
            call_id: "c",
            url,
            attempt: 1,
            signed: true,
            fault: None,
            duplicate: false,
            model_id: None,
            method: "POST",
            headers: &NO_HEADERS,
            secret_headers: &[],
            body: b"{}",
        }
    }

    #[test]
    fn records_are_bounded_and_numbered_by_the_ring() {
        let ring: DeliveryJournal = Ring::new(10, DEFAULT_MAX_BYTES);
        let long = "e".repeat(10_000);
        ring.push(Delivery::new(
            &of("http://h/"),
            Err(long),
            "failed",
            3,
            "t".into(),
        ));
        let d = &ring.entries()[0];
        assert_eq!(d.seq, 1);
        assert!(d.error.as_ref().unwrap().len() < 600);
    }

    #[test]
    fn the_url_and_the_answer_are_kept_without_their_secrets() {
        let answer = Answer {
            status: 200,
            content_type: Some("application/json".into()),
            body: bytes::Bytes::from_static(br#"{"accepted":false,"token":"leak"}"#),
            cut: false,
        };
        let d = Delivery::new(
            &of("http://u:pw@h:9/hook?token=abc&x=1&sig=zz"),
            Ok(&answer),
            "delivered",
            1,
            "t".into(),
        );
        let mut headers = http::HeaderMap::new();
        headers.insert("x-hmac", http::HeaderValue::from_static("sig-leak"));
        let with_request = Delivery::new(
            &AttemptOf {
                headers: &headers,
                secret_headers: &[http::HeaderName::from_static("x-hmac")],
                body: br#"{"api_key":"body-leak","x":1}"#,
                ..of("http://h/")
            },
            Ok(&answer),
            "delivered",
            1,
            "t".into(),
        );
        let shown =
            serde_json::to_string(&d).unwrap() + &serde_json::to_string(&with_request).unwrap();
        assert!(with_request.request_body.contains("\"x\":1"));
        for secret in ["pw", "abc", "zz", "leak"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        let a = d.answer.unwrap();
        assert_eq!(a.status, 200);
        assert!(a.body.contains("\"accepted\":false"));
    }
}
