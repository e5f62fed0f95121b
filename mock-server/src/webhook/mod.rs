//! The post-call webhook sender: when a made call is final, POST the signed payload to its
//! `external_webhook_url` (or the default URL), like a real sender.
//!
//! - [`Webhooks::post_call`] never blocks and never waits on a receiver: it builds the payload,
//!   puts it on a bounded queue and returns; a full queue refuses (counted, logged).
//! - A dispatcher task (started on the first call, in the caller's tokio runtime) takes deliveries
//!   off the queue, at most [`WebhookConfig::max_in_flight`] at once.
//! - Each delivery: per-attempt timeout, [`WebhookConfig::attempts`] attempts with a doubling
//!   backoff (the vendor publishes no policy; the default is 3 attempts, 1 s then 2 s apart).
//!   Retried: no answer, 5xx, 408, 429. Not retried: another 4xx (the receiver refused it).
//! - Every attempt goes through the one outgoing door ([`crate::outgoing`]): its target rules
//!   (never the mock itself), timeout, answer bound, redaction and delivery journal
//!   ([`Delivery`], with the receiver's answer); neither the secret nor a signature is ever
//!   journaled or logged. A target refused by rule, or one that can never work (`https://`, a bad
//!   port, a name that does not resolve), gets one attempt, not three.
//! - Receiver faults ([`faults::ReceiverFaults`]): late, twice, out of order, bad signature, bad body.
//! - [`Webhooks::shutdown`] stops taking deliveries, waits for those pending up to a grace period
//!   and reports the ones that did not finish.
//!
//! Submodules: `dispatch` (the task, retries, faults applied), `faults` (receiver faults).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderName;
use synthflow::webhook::{PayloadOptions, PostCallWebhook, WebhookError};
use tokio::sync::{mpsc, Notify};

mod dispatch;
pub mod faults;

pub use crate::outgoing::Delivery;
use crate::outgoing::{Allow, Outgoing};
pub use faults::{BadBody, FaultError, ReceiverFaults};

/// The webhook secret: shown as `[redacted]` by `Debug`, never serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret (the workspace's webhook secret key).
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, to sign with.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How webhooks are sent. The defaults are stated, not the vendor's (it publishes none).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Where a call with no `external_webhook_url` is sent (the agent-level URL); `None`: not sent.
    pub default_url: Option<String>,
    /// The signing secret; `None`: deliveries are sent unsigned (logged once).
    pub secret: Option<Secret>,
    /// The signature header's name (default `Synthflow-Signature`).
    pub signature_header: HeaderName,
    /// Attempts per delivery, the first included (default 3; at least 1).
    pub attempts: u32,
    /// Wait before the first retry, doubled before each next one (default 1 s: 1 s, 2 s).
    pub backoff: Duration,
    /// Timeout of one attempt, connect to last byte of the answer (default 10 s).
    pub timeout: Duration,
    /// Deliveries waiting to be sent, at most (default 1000); more are refused.
    pub queue: usize,
    /// Deliveries being sent at once, at most (default 32).
    pub max_in_flight: usize,
    /// Delivery journal size in attempts (default 1000; 0 = off).
    pub journal_size: usize,
    /// When not empty, the only targets any outgoing request may reach (`--webhook-allow`).
    pub allow: Vec<Allow>,
    /// How the payload is built: the shape of `collected_variables` (`--collected-variables`).
    pub payload: PayloadOptions,
    /// How inbound-call webhooks are played.
    pub inbound: crate::behaviour::calls_you::inbound::InboundConfig,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            default_url: None,
            secret: None,
            signature_header: HeaderName::from_static("synthflow-signature"),
            attempts: 3,
            backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            queue: 1000,
            max_in_flight: 32,
            journal_size: 1000,
            allow: Vec::new(),
            payload: PayloadOptions::default(),
            inbound: Default::default(),
        }
    }
}

/// Why a webhook was not queued.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// The call has no `external_webhook_url` and no default URL is configured: nothing to send.
    #[error("no webhook URL: the call has none and no --webhook-url is set")]
    NoUrl,
    /// The call body cannot make a payload.
    #[error("cannot build the webhook payload: {0}")]
    Payload(#[from] WebhookError),
    /// The queue is full; the delivery is dropped (and counted).
    #[error("webhook queue full ({0} waiting): delivery dropped")]
    QueueFull(usize),
    /// [`Webhooks::shutdown`] was called.
    #[error("the webhook sender is shut down")]
    ShutDown,
    /// [`Webhooks::resend`] of a call that was never sent.
    #[error("no webhook was sent for call {0:?}")]
    NeverSent(String),
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WebhookStats {
    /// Deliveries queued.
    pub queued: u64,
    /// Deliveries refused because the queue was full.
    pub refused_queue_full: u64,
    /// Deliveries that got a 2xx.
    pub delivered: u64,
    /// Deliveries that ran out of attempts or were refused by the receiver.
    pub failed: u64,
    /// Deliveries queued or being sent now.
    pub pending: u64,
}

/// What [`Webhooks::shutdown`] could not deliver in its grace period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Call ids of the deliveries still pending (queued, waiting to retry or in flight).
    pub pending: Vec<String>,
}

/// One queued delivery.
#[derive(Debug, Clone)]
struct Job {
    id: u64,
    call_id: String,
    /// The call's agent, for the journal.
    model_id: Option<String>,
    url: String,
    /// The payload as JSON (before any body fault).
    payload: Bytes,
    faults: ReceiverFaults,
}

/// The webhook sender. Cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    shared: Arc<Shared>,
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhooks")
            .field("config", &self.shared.config)
            .field("stats", &self.stats())
            .finish()
    }
}

struct Shared {
    config: WebhookConfig,
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    /// The receiver end, until the dispatcher starts with it.
    rx: Mutex<Option<mpsc::Receiver<Job>>>,
    outgoing: Outgoing,
    faults: Mutex<ReceiverFaults>,
    /// Job id → call id of every delivery not finished.
    pending: Mutex<BTreeMap<u64, String>>,
    idle: Notify,
    /// The last payload per call id, for resending (bounded: [`LAST_SENT_MAX`]).
    last: Mutex<LastSent>,
    next_id: AtomicU64,
    queued: AtomicU64,
    refused: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    told_unsigned: AtomicBool,
}

/// Payloads kept for [`Webhooks::resend`], oldest dropped first.
const LAST_SENT_MAX: usize = 1000;

#[derive(Default)]
struct LastSent {
    by_id: HashMap<String, (String, Bytes)>,
    order: VecDeque<String>,
}

impl LastSent {
    fn put(&mut self, call_id: &str, url: &str, payload: Bytes) {
        if self
            .by_id
            .insert(call_id.to_owned(), (url.to_owned(), payload))
            .is_none()
        {
            self.order.push_back(call_id.to_owned());
            while self.order.len() > LAST_SENT_MAX {
                if let Some(old) = self.order.pop_front() {
                    self.by_id.remove(&old);
                }
            }
        }
    }
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks::new(WebhookConfig::default())
    }
}

impl Webhooks {
    /// A sender with `config`. Nothing runs until the first delivery is queued.
    pub fn new(mut config: WebhookConfig) -> Webhooks {
        config.attempts = config.attempts.max(1);
        config.queue = config.queue.max(1);
        config.max_in_flight = config.max_in_flight.max(1);
        let (tx, rx) = mpsc::channel(config.queue);
        let outgoing = Outgoing::new(config.allow.clone(), config.journal_size);
        Webhooks {
            shared: Arc::new(Shared {
                config,
                tx: Mutex::new(Some(tx)),
                rx: Mutex::new(Some(rx)),
                outgoing,
                faults: Mutex::new(ReceiverFaults::default()),
                pending: Mutex::new(BTreeMap::new()),
                idle: Notify::new(),
                last: Mutex::new(LastSent::default()),
                next_id: AtomicU64::new(1),
                queued: AtomicU64::new(0),
                refused: AtomicU64::new(0),
                delivered: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                told_unsigned: AtomicBool::new(false),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &WebhookConfig {
        &self.shared.config
    }

    /// Where the post-call webhook of a call whose own URL (the request's, else its agent's) is
    /// `webhook_url` goes: that URL unless it is absent or blank, else the default URL; `None`:
    /// nowhere.
    pub fn destination(&self, webhook_url: Option<&str>) -> Option<String> {
        webhook_url
            .filter(|u| !u.trim().is_empty())
            .map(str::to_owned)
            .or_else(|| self.shared.config.default_url.clone())
    }

    /// Queues the post-call webhook of a final call: `call_envelope` is the final
    /// `GET /v2/calls/{id}` body (the envelope with one call), `webhook_url` the call's
    /// `external_webhook_url` (else the default URL is used). Returns at once; call from within a
    /// tokio runtime (the dispatcher starts on it). Refusals are logged here too.
    pub fn post_call(
        &self,
        webhook_url: Option<&str>,
        call_envelope: &[u8],
    ) -> Result<(), PostError> {
        let url = self.destination(webhook_url).ok_or(PostError::NoUrl)?;
        let payload = PostCallWebhook::from_envelope_with(
            call_envelope,
            self.shared.config.payload,
        )
        .inspect_err(|e| {
            tracing::error!(error = %e, "webhook not sent: the final call body makes no payload");
        })?;
        let call_id = payload.call_id().unwrap_or_default().to_owned();
        let model_id = payload.call.as_ref().and_then(|c| c.model_id.clone());
        self.enqueue(call_id, model_id, url, Bytes::from(payload.to_json()))
    }

    /// Sends the last payload of `call_id` again, to the same URL, under the faults now in force.
    pub fn resend(&self, call_id: &str) -> Result<(), PostError> {
        let (url, payload) = self
            .lock_last()
            .by_id
            .get(call_id)
            .cloned()
            .ok_or_else(|| PostError::NeverSent(call_id.to_owned()))?;
        let model_id = serde_json::from_slice::<serde_json::Value>(&payload)
            .ok()
            .and_then(|v| v["call"]["model_id"].as_str().map(str::to_owned));
        self.enqueue(call_id.to_owned(), model_id, url, payload)
    }

    fn lock_last(&self) -> std::sync::MutexGuard<'_, LastSent> {
        self.shared.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Warns once, when no secret is set, that webhooks go unsigned: called at start when a
    /// default URL is configured, at the first `POST /v2/calls` that carries a webhook URL, and at
    /// the first delivery, whichever comes first.
    pub fn warn_if_unsigned(&self) {
        let s = &self.shared;
        if s.config.secret.is_none() && !s.told_unsigned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "webhooks will be sent unsigned: no --webhook-secret, SYNTHFLOW_MOCK_WEBHOOK_SECRET \
                 or SYNTHFLOW_WEBHOOK_SECRET is set (a receiver that checks signatures will refuse them)"
            );
        }
    }

    fn enqueue(
        &self,
        call_id: String,
        model_id: Option<String>,
        url: String,
        payload: Bytes,
    ) -> Result<(), PostError> {
        let s = &self.shared;
        self.warn_if_unsigned();
        let job = Job {
            id: s.next_id.fetch_add(1, Ordering::Relaxed),
            call_id,
            model_id,
            url,
            payload,
            faults: self.faults(),
        };
        self.lock_last()
            .put(&job.call_id, &job.url, job.payload.clone());
        let tx = s.tx.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(tx) = tx else {
            tracing::warn!(call_id = %job.call_id, "webhook not sent: the sender is shut down");
            return Err(PostError::ShutDown);
        };
        self.lock_pending().insert(job.id, job.call_id.clone());
        let (id, call_id) = (job.id, job.call_id.clone());
        match tx.try_send(job) {
            Ok(()) => {
                s.queued.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(call_id = %call_id, "webhook queued");
                self.ensure_dispatcher();
                Ok(())
            }
            Err(e) => {
                self.finish(id);
                let refused = s.refused.fetch_add(1, Ordering::Relaxed) + 1;
                let full = matches!(e, mpsc::error::TrySendError::Full(_));
                tracing::warn!(call_id = %call_id, refused_so_far = refused,
                    "webhook dropped: the delivery queue is full");
                Err(if full {
                    PostError::QueueFull(s.config.queue)
                } else {
                    PostError::ShutDown
                })
            }
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, String>> {
        self.shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn finish(&self, id: u64) {
        let empty = {
            let mut p = self.lock_pending();
            p.remove(&id);
            p.is_empty()
        };
        if empty {
            self.shared.idle.notify_waiters();
        }
    }

    /// Starts the dispatcher on the current runtime, once.
    fn ensure_dispatcher(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return; // queued; the next call from within a runtime starts it
        };
        let Some(rx) = self
            .shared
            .rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        else {
            return;
        };
        handle.spawn(dispatch::dispatch(self.clone(), rx));
    }

    /// The outgoing door every request the mock sends goes through (its rules and journal).
    pub fn outgoing(&self) -> &Outgoing {
        &self.shared.outgoing
    }

    /// Every delivery attempt journaled, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.outgoing.deliveries()
    }

    /// Empties the delivery journal.
    pub fn clear_deliveries(&self) {
        self.shared.outgoing.clear();
    }

    /// The delivery journal's bound in attempts.
    pub fn journal_capacity(&self) -> usize {
        self.shared.outgoing.journal_capacity()
    }

    /// The receiver faults in force.
    pub fn faults(&self) -> ReceiverFaults {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the receiver faults (for deliveries queued from now on); refuses a `delay_ms`
    /// over the attempt timeout ([`ReceiverFaults::check`]).
    pub fn set_faults(&self, faults: ReceiverFaults) -> Result<(), FaultError> {
        faults.check(self.shared.config.timeout)?;
        *self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
        Ok(())
    }

    /// Counters since start.
    pub fn stats(&self) -> WebhookStats {
        let s = &self.shared;
        WebhookStats {
            queued: s.queued.load(Ordering::Relaxed),
            refused_queue_full: s.refused.load(Ordering::Relaxed),
            delivered: s.delivered.load(Ordering::Relaxed),
            failed: s.failed.load(Ordering::Relaxed),
            pending: self.lock_pending().len() as u64,
        }
    }

    /// Call ids of the deliveries not finished (queued, waiting to retry or in flight).
    pub fn pending(&self) -> Vec<String> {
        self.lock_pending().values().cloned().collect()
    }

    /// Waits until no delivery is pending, up to `timeout`; true if none is.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.idle.notified();
            if self.lock_pending().is_empty() {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.lock_pending().is_empty();
            }
        }
    }

    /// Stops taking deliveries, lets those queued and in flight finish for up to `grace`, then
    /// logs and returns the ones still pending (they are abandoned with the runtime).
    pub async fn shutdown(&self, grace: Duration) -> ShutdownReport {
        self.shared
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        self.ensure_dispatcher(); // a queue filled outside a runtime still drains
        if !self.wait_idle(grace).await {
            let pending = self.pending();
            tracing::warn!(count = pending.len(), call_ids = ?pending,
                "shutting down with webhooks not delivered");
            return ShutdownReport { pending };
        }
        ShutdownReport::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_never_shows_in_debug() {
        let hooks = Webhooks::new(WebhookConfig {
            secret: Some(Secret::new("hunter2-secret")),
            ..Default::default()
        });
        let shown = format!("{hooks:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn no_url_is_a_typed_refusal_and_a_bad_body_too() {
        let hooks = Webhooks::default();
        assert!(matches!(
            hooks.post_call(None, b"{}"),
            Err(PostError::NoUrl)
        ));
        assert!(matches!(
            hooks.post_call(Some("http://127.0.0.1:9/"), b"nope"),
            Err(PostError::Payload(_))
        ));
    }
}
