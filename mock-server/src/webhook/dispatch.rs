//! The dispatcher task: takes deliveries off the queue, applies the receiver faults, runs the
//! attempts with their backoff and journals each one.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use synthflow::webhook::sign;
use tokio::sync::{mpsc, Semaphore};

use super::{deliver, faults, Delivery, Job, WebhookConfig, Webhooks};

/// Takes deliveries off the queue; holds one for the out-of-order fault.
pub(super) async fn dispatch(hooks: Webhooks, mut rx: mpsc::Receiver<Job>) {
    let sender = deliver::Sender::new();
    let slots = Arc::new(Semaphore::new(hooks.shared.config.max_in_flight));
    let mut held: Option<Job> = None;
    loop {
        let next = if held.is_some() {
            match tokio::time::timeout(faults::HOLD_MAX, rx.recv()).await {
                Ok(j) => j,
                Err(_) => {
                    // No successor came to overtake it: send it alone.
                    let h = held.take().into_iter().collect();
                    spawn_run(&hooks, &sender, &slots, h).await;
                    continue;
                }
            }
        } else {
            rx.recv().await
        };
        let Some(job) = next else { break };
        if let Some(h) = held.take() {
            spawn_run(&hooks, &sender, &slots, vec![job, h]).await;
        } else if job.faults.out_of_order {
            held = Some(job);
        } else {
            spawn_run(&hooks, &sender, &slots, vec![job]).await;
        }
    }
    if let Some(h) = held {
        spawn_run(&hooks, &sender, &slots, vec![h]).await;
    }
}

/// Runs `jobs` one after the other in a task of their own, once a slot is free.
async fn spawn_run(
    hooks: &Webhooks,
    sender: &deliver::Sender,
    slots: &Arc<Semaphore>,
    jobs: Vec<Job>,
) {
    let Ok(permit) = slots.clone().acquire_owned().await else {
        return;
    };
    let (hooks, sender) = (hooks.clone(), sender.clone());
    tokio::spawn(async move {
        for job in jobs {
            run(&hooks, &sender, &job).await;
            hooks.finish(job.id);
        }
        drop(permit);
    });
}

/// One delivery: late if asked, every attempt, then the duplicate if asked.
async fn run(hooks: &Webhooks, sender: &deliver::Sender, job: &Job) {
    if let Some(ms) = job.faults.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let body = Bytes::from(job.faults.body(&job.payload));
    let signature = signature(&hooks.shared.config, job);
    let ok = attempts(hooks, sender, job, &body, signature.as_deref(), false).await;
    if ok {
        hooks.shared.delivered.fetch_add(1, Ordering::Relaxed);
    } else {
        hooks.shared.failed.fetch_add(1, Ordering::Relaxed);
    }
    if job.faults.duplicate {
        attempts(hooks, sender, job, &body, signature.as_deref(), true).await;
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
    sender: &deliver::Sender,
    job: &Job,
    body: &Bytes,
    signature: Option<&str>,
    duplicate: bool,
) -> bool {
    let c = &hooks.shared.config;
    let fault = job.faults.describe();
    for attempt in 1..=c.attempts {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let t0 = Instant::now();
        let r = sender
            .post(
                &job.url,
                &c.signature_header,
                signature,
                body.clone(),
                c.timeout,
            )
            .await;
        let latency_ms = t0.elapsed().as_millis() as u64;
        let last = attempt == c.attempts;
        let (result, outcome) = match &r {
            Ok(reply) if (200..300).contains(&reply.status) => (Ok(reply.status), "delivered"),
            Ok(reply) if !retryable(reply.status) => (Ok(reply.status), "refused"),
            Ok(reply) => (Ok(reply.status), if last { "failed" } else { "retry" }),
            Err(e) => (Err(e.to_string()), if last { "failed" } else { "retry" }),
        };
        let record = Delivery::new(
            &job.call_id,
            &job.url,
            attempt,
            result,
            outcome,
            latency_ms,
            at,
            signature.is_some(),
            fault.as_deref(),
            duplicate,
        );
        match outcome {
            "delivered" => {
                tracing::info!(call_id = %job.call_id, attempt, status = ?record.status, latency_ms, "webhook delivered")
            }
            _ => {
                tracing::warn!(call_id = %job.call_id, attempt, status = ?record.status, error = ?record.error, outcome, "webhook attempt failed")
            }
        }
        hooks.shared.journal.push(record);
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
