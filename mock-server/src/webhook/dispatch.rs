//! The dispatcher task: takes deliveries off the queue, applies the receiver faults, runs the
//! attempts with their backoff through the outgoing door and journals each one.
//!
//! A late delivery (`delay_ms`) waits *before* it takes a sending slot: waiting deliveries are
//! bounded by the queue's size (their own semaphore), and 32 of them never hold the 32 slots
//! a delivery queued after them needs.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use synthflow::webhook::sign;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::{faults, Job, WebhookConfig, Webhooks};
use crate::outgoing::{AttemptOf, Delivery, OutRequest, Sent};

/// The semaphores a delivery goes through: waiting (late deliveries), then sending.
#[derive(Clone)]
struct Slots {
    waiting: Arc<Semaphore>,
    sending: Arc<Semaphore>,
}

/// Takes deliveries off the queue; holds one for the out-of-order fault.
pub(super) async fn dispatch(hooks: Webhooks, mut rx: mpsc::Receiver<Job>) {
    let slots = Slots {
        waiting: Arc::new(Semaphore::new(hooks.shared.config.queue)),
        sending: Arc::new(Semaphore::new(hooks.shared.config.max_in_flight)),
    };
    let mut held: Option<Job> = None;
    loop {
        let next = if held.is_some() {
            match tokio::time::timeout(faults::HOLD_MAX, rx.recv()).await {
                Ok(j) => j,
                Err(_) => {
                    // No successor came to overtake it: send it alone.
                    let h = held.take().into_iter().collect();
                    spawn_run(&hooks, &slots, h).await;
                    continue;
                }
            }
        } else {
            rx.recv().await
        };
        let Some(job) = next else { break };
        if let Some(h) = held.take() {
            spawn_run(&hooks, &slots, vec![job, h]).await;
        } else if job.faults.out_of_order {
            held = Some(job);
        } else {
            spawn_run(&hooks, &slots, vec![job]).await;
        }
    }
    if let Some(h) = held {
        spawn_run(&hooks, &slots, vec![h]).await;
    }
}

/// Runs `jobs` one after the other in a task of their own: a late one first waits (holding a
/// waiting permit only), then each takes a sending slot.
async fn spawn_run(hooks: &Webhooks, slots: &Slots, jobs: Vec<Job>) {
    let delay = jobs.first().and_then(|j| j.faults.delay_ms);
    let waiting: Option<OwnedSemaphorePermit> = match delay {
        Some(_) => match slots.waiting.clone().acquire_owned().await {
            Ok(p) => Some(p),
            Err(_) => return,
        },
        None => match slots.sending.clone().acquire_owned().await {
            Ok(p) => Some(p),
            Err(_) => return,
        },
    };
    let (hooks, slots) = (hooks.clone(), slots.clone());
    tokio::spawn(async move {
        let permit = match delay {
            Some(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                drop(waiting);
                match slots.sending.acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => return,
                }
            }
            None => match waiting {
                Some(p) => p,
                None => return,
            },
        };
        for job in jobs {
            run(&hooks, &job).await;
            hooks.finish(job.id);
        }
        drop(permit);
    });
}

/// One delivery: every attempt, then the duplicate if asked.
async fn run(hooks: &Webhooks, job: &Job) {
    let body = Bytes::from(job.faults.body(&job.payload));
    let signature = signature(&hooks.shared.config, job);
    let ok = attempts(hooks, job, &body, signature.as_deref(), false).await;
    if ok {
        hooks.shared.delivered.fetch_add(1, Ordering::Relaxed);
    } else {
        hooks.shared.failed.fetch_add(1, Ordering::Relaxed);
    }
    if job.faults.duplicate {
        attempts(hooks, job, &body, signature.as_deref(), true).await;
    }
}

/// The signature header's value for `job`, if any.
fn signature(config: &WebhookConfig, job: &Job) -> Option<String> {
    match (&config.secret, job.faults.bad_signature) {
        (Some(s), false) => Some(sign(s.expose(), &job.call_id)),
        // Signed with a secret that is not the one: what a forger would send.
        (Some(s), true) => Some(sign(
            &format!("{}-not-the-secret", s.expose()),
            &job.call_id,
        )),
        (None, true) => Some(sign("not-the-secret", &job.call_id)),
        (None, false) => None,
    }
}

/// Every attempt of one delivery, journaled; true when one got a 2xx.
async fn attempts(
    hooks: &Webhooks,
    job: &Job,
    body: &Bytes,
    signature: Option<&str>,
    duplicate: bool,
) -> bool {
    let c = &hooks.shared.config;
    let fault = job.faults.describe();
    let mut headers = HeaderMap::new();
    if let Some(sig) = signature.and_then(|s| HeaderValue::from_str(s).ok()) {
        headers.insert(c.signature_header.clone(), sig);
    }
    for attempt in 1..=c.attempts {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let t0 = Instant::now();
        let sent = hooks
            .shared
            .outgoing
            .send(OutRequest {
                kind: "webhook",
                url: &job.url,
                method: Method::POST,
                headers: headers.clone(),
                body: body.clone(),
                timeout: c.timeout,
            })
            .await;
        let latency_ms = t0.elapsed().as_millis() as u64;
        let last = attempt == c.attempts;
        let (result, outcome) = match &sent {
            Sent::Answer(a) if (200..300).contains(&a.status) => (Ok(a), "delivered"),
            Sent::Answer(a) if !retryable(a.status) => (Ok(a), "refused"),
            Sent::Answer(a) => (Ok(a), if last { "failed" } else { "retry" }),
            Sent::Refused(r) => (Err(format!("not sent: {r}")), "refused"),
            Sent::Failed(r) => (Err(format!("cannot be sent: {r}")), "failed"),
            Sent::Error(e) => (Err(e.clone()), if last { "failed" } else { "retry" }),
        };
        let of = AttemptOf {
            kind: "webhook",
            call_id: &job.call_id,
            url: &job.url,
            attempt,
            signed: signature.is_some(),
            fault: fault.as_deref(),
            duplicate,
            model_id: job.model_id.as_deref(),
            method: "POST",
            headers: &headers,
            secret_headers: std::slice::from_ref(&c.signature_header),
            body,
        };
        let record = Delivery::new(&of, result, outcome, latency_ms, at);
        match outcome {
            "delivered" => {
                tracing::info!(call_id = %job.call_id, attempt, status = ?record.status, latency_ms, "webhook delivered")
            }
            _ => {
                tracing::warn!(call_id = %job.call_id, url = %record.url, attempt, status = ?record.status, error = ?record.error, outcome, "webhook attempt failed")
            }
        }
        hooks.shared.outgoing.record(record);
        match outcome {
            "delivered" => return true,
            "refused" | "failed" => return false,
            _ => tokio::time::sleep(c.backoff * 2u32.saturating_pow(attempt - 1)).await,
        }
    }
    false
}

/// Worth another attempt: 5xx, 408 (timeout), 429 (slow down).
fn retryable(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy_retries_only_what_may_pass_later() {
        assert!(retryable(500) && retryable(503) && retryable(429) && retryable(408));
        assert!(!retryable(400) && !retryable(401) && !retryable(404) && !retryable(422));
    }
}
