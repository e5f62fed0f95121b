//! Faults on demand: a forced status, added latency, a dropped connection, a truncated or
//! non-JSON body.
//!
//! One [`Fault`] value describes what to do to one answer, written the way a `Prefer` header says
//! it (Stoplight Prism's `code=429`, plus this mock's own keys):
//!
//! | key | values | effect |
//! |---|---|---|
//! | `code` | 400 401 403 404 429 500 503 | the live service's error body for that status |
//! | `latency` | milliseconds (≤ 60000) | the answer is held back that long |
//! | `fault` | `drop` `truncate` `not-json` | connection closed with no answer / half the body then closed / a gateway's HTML page (502 unless `code` is given) |
//! | `retry-after` | seconds, or `none` | overrides the `Retry-After` of a 429 |
//!
//! The same text serves in the `Prefer` header of one request, in a per-call sequence (the first N
//! requests for an id), as a global fault (`--fault`), and in the random chaos mode
//! ([`RandomFaults`]: a rate and a seed, deterministic for a serial client).
//!
//! Status faults go through [`ApiError`] and the render layer like every other refusal; body faults
//! are applied last, by [`break_body`], to whatever body the answer has.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Longest latency a fault may add.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// The statuses a fault can force.
pub const FORCEABLE_CODES: [u16; 7] = [400, 401, 403, 404, 429, 500, 503];

/// What to do to the body of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyFault {
    /// Close the connection without a complete answer.
    Drop,
    /// Send the headers (with the full `Content-Length`) and half the body, then close.
    Truncate,
    /// Answer with a gateway's HTML error page (`text/html`), 502 unless a code is forced.
    NotJson,
}

impl BodyFault {
    fn as_str(self) -> &'static str {
        match self {
            BodyFault::Drop => "drop",
            BodyFault::Truncate => "truncate",
            BodyFault::NotJson => "not-json",
        }
    }
}

/// `Retry-After` override carried by a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// No header.
    None,
    /// This many seconds.
    Secs(u32),
}

/// What to do to one answer. The empty fault does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fault {
    /// A forced status (one of [`FORCEABLE_CODES`]).
    pub code: Option<u16>,
    /// Added latency, in milliseconds.
    pub latency_ms: Option<u64>,
    /// A broken body or connection.
    pub body: Option<BodyFault>,
    /// `Retry-After` for a forced 429, instead of the configured default.
    pub retry_after: Option<RetryAfter>,
}

/// A `Fault` text that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultParseError(pub String);

impl Fault {
    /// Forces a status.
    pub fn code(code: u16) -> Fault {
        Fault {
            code: Some(code),
            ..Fault::default()
        }
    }

    /// Adds latency.
    pub fn latency(ms: u64) -> Fault {
        Fault {
            latency_ms: Some(ms),
            ..Fault::default()
        }
    }

    /// Breaks the body or connection.
    pub fn body(kind: BodyFault) -> Fault {
        Fault {
            body: Some(kind),
            ..Fault::default()
        }
    }

    /// Does nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Fault::default()
    }

    /// Reads [`PREFER`] headers: each key this mock knows is applied, others are ignored (RFC 7240).
    /// `Ok(None)` when no header names a known key.
    pub fn from_prefer(headers: &HeaderMap) -> Result<Option<Fault>, FaultParseError> {
        let mut fault = Fault::default();
        for value in headers.get_all(&PREFER) {
            let text = value
                .to_str()
                .map_err(|_| FaultParseError("Prefer: not ASCII".into()))?;
            fault.merge(parse(text, true)?);
        }
        Ok((!fault.is_empty()).then_some(fault))
    }

    /// Keys set in `other` override ours.
    pub fn merge(&mut self, other: Fault) {
        self.code = other.code.or(self.code);
        self.latency_ms = other.latency_ms.or(self.latency_ms);
        self.body = other.body.or(self.body);
        self.retry_after = other.retry_after.or(self.retry_after);
    }

    /// The refusal a forced status maps to, with the live service's body.
    pub fn error(&self, default_retry_after: Option<u32>) -> Option<ApiError> {
        let code = self.code?;
        Some(match code {
            400 => ApiError::MalformedCallId,
            401 => ApiError::InvalidToken,
            403 => ApiError::Forbidden,
            404 => ApiError::UnknownCallId { as_404: true },
            429 => ApiError::RateLimited {
                retry_after: match self.retry_after {
                    Some(RetryAfter::None) => None,
                    Some(RetryAfter::Secs(s)) => Some(s),
                    None => default_retry_after,
                },
            },
            500 => ApiError::Internal,
            503 => ApiError::Unavailable,
            _ => return None,
        })
    }

    /// Waits for the latency, if any.
    pub async fn delay(&self) {
        if let Some(ms) = self.latency_ms.filter(|ms| *ms > 0) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
}

fn parse(text: &str, lenient: bool) -> Result<Fault, FaultParseError> {
    let mut fault = Fault::default();
    for item in text
        .split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim().trim_matches('"')),
            None => (item, ""),
        };
        match key.to_ascii_lowercase().as_str() {
            "code" => {
                let code: u16 = value
                    .parse()
                    .ok()
                    .filter(|c| FORCEABLE_CODES.contains(c))
                    .ok_or_else(|| {
                        FaultParseError(format!(
                            "code={value}: supported codes are {FORCEABLE_CODES:?}"
                        ))
                    })?;
                fault.code = Some(code);
            }
            "latency" => {
                let ms: u64 = value
                    .parse()
                    .ok()
                    .filter(|ms| *ms <= MAX_LATENCY_MS)
                    .ok_or_else(|| {
                        FaultParseError(format!(
                            "latency={value}: expected milliseconds, 0 to {MAX_LATENCY_MS}"
                        ))
                    })?;
                fault.latency_ms = Some(ms);
            }
            "fault" => {
                fault.body = Some(match value {
                    "drop" => BodyFault::Drop,
                    "truncate" => BodyFault::Truncate,
                    "not-json" => BodyFault::NotJson,
                    _ => {
                        return Err(FaultParseError(format!(
                            "fault={value}: expected drop, truncate or not-json"
                        )))
                    }
                });
            }
            "retry-after" => {
                fault.retry_after = Some(if value.eq_ignore_ascii_case("none") {
                    RetryAfter::None
                } else {
                    RetryAfter::Secs(value.parse().map_err(|_| {
                        FaultParseError(format!("retry-after={value}: expected seconds or none"))
                    })?)
                });
            }
            _ if lenient => {}
            other => {
                return Err(FaultParseError(format!(
                    "unknown fault key {other:?}: expected code, latency, fault or retry-after"
                )))
            }
        }
    }
    Ok(fault)
}

impl FromStr for Fault {
    type Err = FaultParseError;

    /// Strict: unknown keys are an error (CLI, admin API, scenario files).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let f = parse(s, false)?;
        if f.is_empty() {
            return Err(FaultParseError(format!("empty fault {s:?}")));
        }
        Ok(f)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(c) = self.code {
            parts.push(format!("code={c}"));
        }
        if let Some(ms) = self.latency_ms {
            parts.push(format!("latency={ms}"));
        }
        if let Some(b) = self.body {
            parts.push(format!("fault={}", b.as_str()));
        }
        match self.retry_after {
            Some(RetryAfter::None) => parts.push("retry-after=none".into()),
            Some(RetryAfter::Secs(s)) => parts.push(format!("retry-after={s}")),
            None => {}
        }
        f.write_str(&parts.join(", "))
    }
}

impl Serialize for Fault {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Clone for RandomFaults {
    fn clone(&self) -> Self {
        RandomFaults {
            rate: self.rate,
            seed: self.seed,
            faults: self.faults.clone(),
            drawn: AtomicU64::new(self.drawn.load(Ordering::Relaxed)),
        }
    }
}

/// Random faults for chaos testing: each request draws from a seeded sequence; with probability
/// `rate` it gets one of `faults` (uniformly). The n-th request (server-wide) always draws the same
/// number, so a serial client sees the same faults on every run with the same seed.
#[derive(Debug, Serialize, Deserialize)]
pub struct RandomFaults {
    /// Probability of a fault, 0.0 to 1.0.
    pub rate: f64,
    /// Seed of the sequence.
    #[serde(default)]
    pub seed: u64,
    /// The faults to draw from (default: 429, 500, 503).
    #[serde(default = "default_random_faults")]
    pub faults: Vec<Fault>,
    #[serde(skip)]
    drawn: AtomicU64,
}

fn default_random_faults() -> Vec<Fault> {
    vec![Fault::code(429), Fault::code(500), Fault::code(503)]
}

impl RandomFaults {
    /// Faults at `rate` with `seed`, drawn from `faults` (empty = 429, 500, 503).
    pub fn new(rate: f64, seed: u64, faults: Vec<Fault>) -> Result<RandomFaults, FaultParseError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(FaultParseError(format!(
                "fault rate {rate}: expected 0.0 to 1.0"
            )));
        }
        Ok(RandomFaults {
            rate,
            seed,
            faults: if faults.is_empty() {
                default_random_faults()
            } else {
                faults
            },
            drawn: AtomicU64::new(0),
        })
    }

    /// The fault of the next request, if it draws one.
    pub fn draw(&self) -> Option<Fault> {
        let n = self.drawn.fetch_add(1, Ordering::Relaxed);
        let x = splitmix64(self.seed ^ splitmix64(n));
        let unit = (x >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= self.rate || self.faults.is_empty() {
            return None;
        }
        let pick = splitmix64(x) % self.faults.len() as u64;
        self.faults.get(pick as usize).copied()
    }

    /// Starts the sequence again.
    pub fn reset(&self) {
        self.drawn.store(0, Ordering::Relaxed);
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Faults that apply to every request for a call (unless a `Prefer` header or a per-call
/// sequence says otherwise).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GlobalFaults {
    /// Applied to every request.
    #[serde(default)]
    pub always: Option<Fault>,
    /// Drawn per request.
    #[serde(default)]
    pub random: Option<RandomFaults>,
}

impl GlobalFaults {
    /// Nothing configured.
    pub fn is_empty(&self) -> bool {
        self.always.is_none() && self.random.is_none()
    }
}

/// Marks a response whose body must be broken; read by [`break_body`].
#[derive(Debug, Clone, Copy)]
pub struct BodyFaultMark {
    /// How the body is broken.
    pub kind: BodyFault,
    /// A status was forced as well (a not-json page then keeps it).
    pub forced_status: bool,
}

/// `Prefer`, the header a request asks for a fault (and a made call its outcome) with: one name
/// for every reader, made once (a `&str` key is parsed into a header name on every lookup).
pub static PREFER: http::HeaderName = http::HeaderName::from_static("prefer");

/// Which fault an answer got, for the journal and the `Preference-Applied` header.
#[derive(Debug, Clone)]
pub struct AppliedFault(pub Fault);

/// Marks `resp` with the fault's body part and `Preference-Applied`.
pub fn mark(resp: &mut Response, fault: &Fault, from_prefer: bool) {
    if let Some(kind) = fault.body {
        resp.extensions_mut().insert(BodyFaultMark {
            kind,
            forced_status: fault.code.is_some(),
        });
    }
    if from_prefer {
        if let Ok(v) = HeaderValue::from_str(&fault.to_string()) {
            resp.headers_mut().insert("preference-applied", v);
        }
    }
    resp.extensions_mut().insert(AppliedFault(*fault));
}

/// What a gateway in front of the service sends when the service is down: not JSON (the 502 page;
/// a forced status gets its own, [`gateway_html`]).
pub const GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";

/// The gateway's HTML page for `status`, titled with its code and reason (`503 Service Temporarily
/// Unavailable`... as nginx-style gateways word it), so the page never contradicts the status line.
pub fn gateway_html(status: StatusCode) -> String {
    let reason = match status.as_u16() {
        // nginx's wording, which the 502 page above follows.
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    let title = format!("{} {reason}", status.as_u16());
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// The outermost layer: breaks the body of a response marked with a [`BodyFaultMark`].
pub fn break_body(resp: Response) -> Response {
    let Some(mark) = resp.extensions().get::<BodyFaultMark>().copied() else {
        return resp;
    };
    let (mut parts, body) = resp.into_parts();
    match mark.kind {
        BodyFault::NotJson => {
            if !mark.forced_status {
                parts.status = StatusCode::BAD_GATEWAY;
            }
            parts.headers.remove(header::RETRY_AFTER);
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            parts.headers.remove(header::CONTENT_LENGTH);
            let page = if parts.status == StatusCode::BAD_GATEWAY {
                GATEWAY_HTML.to_owned()
            } else {
                gateway_html(parts.status)
            };
            Response::from_parts(parts, Body::from(page))
        }
        BodyFault::Drop | BodyFault::Truncate => {
            use futures_util::StreamExt;
            let kind = mark.kind;
            // The whole body is read first (the full length is announced), then a part is sent,
            // then the stream fails: hyper closes the connection and the client sees an
            // incomplete message. The length header cannot be known before the body is read, so
            // it is announced from the stored body size where the body says it.
            let full = axum::body::HttpBody::size_hint(&body).exact();
            if let Some(len) = full {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(len.max(1)));
            }
            let stream = futures_util::stream::once(async move {
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let keep = if kind == BodyFault::Drop {
                    Bytes::new()
                } else {
                    bytes.slice(..bytes.len() / 2)
                };
                futures_util::stream::iter([Ok::<Bytes, std::io::Error>(keep)])
            })
            .flatten()
            .chain(futures_util::stream::once(async {
                // The part is flushed first (a short pause lets hyper write it), then the failure.
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err::<Bytes, std::io::Error>(std::io::Error::other(
                    "fault injected: connection dropped",
                ))
            }));
            Response::from_parts(parts, Body::from_stream(stream))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prism_code_and_own_keys_parse_in_one_header() {
        let f: Fault = "code=429, latency=200; fault=truncate, retry-after=none"
            .parse()
            .unwrap();
        assert_eq!(f.code, Some(429));
        assert_eq!(f.latency_ms, Some(200));
        assert_eq!(f.body, Some(BodyFault::Truncate));
        assert_eq!(f.retry_after, Some(RetryAfter::None));
        assert_eq!(f.to_string().parse::<Fault>().unwrap(), f);
    }

    #[test]
    fn unsupported_code_and_unknown_key_are_refused_in_strict_form() {
        assert!("code=418".parse::<Fault>().is_err());
        assert!("colour=blue".parse::<Fault>().is_err());
        assert!("latency=999999".parse::<Fault>().is_err());
        assert!("".parse::<Fault>().is_err());
    }

    #[test]
    fn prefer_ignores_keys_it_does_not_know() {
        let mut h = HeaderMap::new();
        h.insert("prefer", HeaderValue::from_static("respond-async, wait=5"));
        assert_eq!(Fault::from_prefer(&h), Ok(None));
        h.append("prefer", HeaderValue::from_static("code=503"));
        assert_eq!(Fault::from_prefer(&h).unwrap().unwrap().code, Some(503));
    }

    #[test]
    fn random_faults_repeat_with_the_same_seed_and_follow_the_rate() {
        let draw = |seed| {
            let r = RandomFaults::new(0.3, seed, vec![]).unwrap();
            (0..1000).map(|_| r.draw()).collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7));
        assert_ne!(a, draw(8));
        let hits = a.iter().filter(|f| f.is_some()).count();
        assert!((200..400).contains(&hits), "{hits}");
        assert!(RandomFaults::new(1.5, 0, vec![]).is_err());
    }

    #[test]
    fn retry_after_defaults_and_overrides() {
        assert_eq!(
            Fault::code(429).error(Some(3)),
            Some(ApiError::RateLimited {
                retry_after: Some(3)
            })
        );
        let f: Fault = "code=429, retry-after=none".parse().unwrap();
        assert_eq!(
            f.error(Some(3)),
            Some(ApiError::RateLimited { retry_after: None })
        );
    }
}
