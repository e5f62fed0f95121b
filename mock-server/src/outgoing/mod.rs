//! Every request the mock sends (post-call webhooks now; inbound-call webhooks and custom actions
//! use the same door) goes through one policy, here:
//!
//! - **target rules** ([`target`]): `http://` only, numeric hosts normalised, an optional allow
//!   list, link-local and metadata addresses refused, the mock's own address never reached; the
//!   connection goes to the address that was checked;
//! - **timeouts**: the whole exchange, connect to last answer byte, within the caller's timeout;
//! - **size limits**: at most [`exchange::MAX_ANSWER_BYTES`] of an answer are read;
//! - **redaction** ([`crate::redact`], the same table as the request journal) of URLs and answers;
//! - **a journal** ([`journal::Delivery`]) of every attempt with the receiver's answer.
//!
//! [`Outgoing::send`] gives one of three results: an answer, a refusal by rule (never sent), or
//! an error; [`Sent::can_clear`] tells a retry worth making from one that cannot succeed.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::ring::Ring;

pub mod exchange;
pub mod journal;
pub mod target;

pub use exchange::{Answer, MAX_ANSWER_BYTES, SENT_BY_HEADER};
pub use journal::{AnswerRecord, AttemptOf, Delivery};
pub use target::{Allow, Rules, Verdict};

/// One request to send.
#[derive(Debug, Clone)]
pub struct OutRequest<'a> {
    /// `webhook`, `inbound` or `action` (journaled, and sent in [`SENT_BY_HEADER`]).
    pub kind: &'static str,
    /// The URL as configured.
    pub url: &'a str,
    /// The method.
    pub method: Method,
    /// Headers to send (the signature among them).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The whole exchange's timeout.
    pub timeout: Duration,
}

/// What one send gave.
#[derive(Debug, Clone)]
pub enum Sent {
    /// The receiver answered.
    Answer(Answer),
    /// Not sent: the rules refuse the target (the reason).
    Refused(String),
    /// Not sent, and it never can be: bad URL, unsupported scheme, invalid port, a name that does
    /// not resolve (the reason).
    Failed(String),
    /// Sent, no answer: timeout, connection refused or reset (the reason). May clear later.
    Error(String),
}

impl Sent {
    /// Whether trying again later may give another result.
    pub fn can_clear(&self) -> bool {
        matches!(self, Sent::Error(_))
    }
}

/// The outgoing door. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Outgoing {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    rules: RwLock<Rules>,
    client: OnceLock<exchange::Client1>,
    journal: Ring<Delivery>,
}

impl Outgoing {
    /// A door with the allow list `allow` (empty: any http host) and a journal of
    /// `journal_size` attempts (0 = off).
    pub fn new(allow: Vec<Allow>, journal_size: usize) -> Outgoing {
        Outgoing {
            inner: Arc::new(Inner {
                rules: RwLock::new(Rules { allow, own: vec![] }),
                client: OnceLock::new(),
                journal: Ring::new(journal_size, journal::DEFAULT_MAX_BYTES),
            }),
        }
    }

    /// Tells the door the mock listens on `addr`: requests to it are refused from now on.
    pub fn add_own_address(&self, addr: SocketAddr) {
        let mut rules = self.inner.rules.write().unwrap_or_else(|e| e.into_inner());
        if !rules.own.contains(&addr) {
            rules.own.push(addr);
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> Rules {
        self.inner
            .rules
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The decision on `url`, looking its host up (within `timeout`) when it is a name.
    pub async fn check(
        &self,
        url: &str,
        timeout: Duration,
    ) -> Result<(target::Target, SocketAddr), Sent> {
        let t = target::Target::parse(url).map_err(|e| Sent::Failed(e.to_string()))?;
        let rules = self.rules();
        if let Some(Verdict::Refuse(r)) = rules.pre_check(&t) {
            return Err(Sent::Refused(r));
        }
        let resolved: Vec<IpAddr> = match &t.host {
            target::Host::Ip(ip) => vec![*ip],
            target::Host::Name(name) => {
                let lookup = tokio::net::lookup_host((name.as_str(), t.port));
                match tokio::time::timeout(timeout, lookup).await {
                    Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
                    Ok(Err(e)) => return Err(Sent::Failed(format!("cannot resolve {name}: {e}"))),
                    Err(_) => {
                        return Err(Sent::Failed(format!(
                            "cannot resolve {name}: no answer in {} ms",
                            timeout.as_millis()
                        )))
                    }
                }
            }
        };
        match rules.decide(&t, &resolved, target::is_local_address) {
            Verdict::Go(addr) => Ok((t, addr)),
            Verdict::Refuse(r) => Err(Sent::Refused(r)),
            Verdict::Fail(r) => Err(Sent::Failed(r)),
        }
    }

    /// Checks and sends `req`. Call inside a tokio runtime.
    pub async fn send(&self, req: OutRequest<'_>) -> Sent {
        let (t, addr) = match self.check(req.url, req.timeout).await {
            Ok(ok) => ok,
            Err(stop) => return stop,
        };
        let client = self.inner.client.get_or_init(exchange::Client1::new);
        let call = exchange::Call {
            kind: req.kind,
            method: req.method,
            addr,
            authority: &t.authority,
            path_and_query: &t.path_and_query,
            headers: req.headers,
            body: req.body,
            timeout: req.timeout,
        };
        match client.send(call).await {
            Ok(a) => Sent::Answer(a),
            Err(exchange::ExchangeError::Build(e)) => Sent::Failed(format!("invalid request: {e}")),
            Err(e) => Sent::Error(e.to_string()),
        }
    }

    /// Journals one attempt.
    pub fn record(&self, d: Delivery) {
        self.inner.journal.push(d);
    }

    /// Every attempt journaled, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.journal.entries()
    }

    /// Empties the journal.
    pub fn clear(&self) {
        self.inner.journal.clear();
    }

    /// The journal's bound in attempts.
    pub fn journal_capacity(&self) -> usize {
        self.inner.journal.max_entries()
    }
}
