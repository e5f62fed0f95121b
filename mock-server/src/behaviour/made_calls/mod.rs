//! Calls made through `POST /v2/calls`: from an order to a call record that plays its lifecycle.
//!
//! A made call is a real call record from the moment it is made:
//! - its final record comes from the fixture factory (`tools::generate::made_call`),
//!   seeded from the call id (the first 8 bytes of its SHA-256), so the same id always gives the
//!   same call; `name`, `phone_number_to`, `model_id`, `phone_number_from` and `prompt_variables`
//!   (from `custom_variables`) come from the request, the rest follows the generate command's
//!   rules, and the record passes the contract checks ([`crate::store::check_fixture`]);
//! - it is served with a scenario whose lifecycle advances by the clock since the call was made
//!   ([`Advance::SinceSet`]): `pending` → `ringing` → (`in-progress` when answered) → final, the
//!   whole lifecycle taking [`MadeCallConfig::duration_ms`] (or the call's own `call-duration`);
//! - its outcome is chosen per call (`Prefer: outcome=busy`) or by a rule on the number called
//!   ([`OutcomeRule`]);
//! - at most [`MadeCallConfig::max_calls`] made calls are kept ([`MadeLog`]), oldest evicted first;
//!   state is per process and in memory (nothing is written to disk).
//!
//! This module holds no state and knows no HTTP: the `POST` handler (`http::make_call`) asks it
//! for the record and scenario, `AppState` stores them, and its [`Lifecycles`] timer runs the
//! `AppState::on_call_final` hooks when the call is final (or is dropped at once when the call is
//! evicted, removed, or the mock stops). It is the only code on the request path
//! that uses the fixture factory.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::behaviour::scenario::Scenario;
use crate::behaviour::scenario::{derive_steps, Advance};
use crate::store::Fixture;
use crate::store::{check_fixture, LoadOptions};
use crate::tools::generate::{encode, made_call, Order};

mod lifecycle;
mod outcome;
mod request;

pub use lifecycle::{Lifecycles, Unfinished};

pub use outcome::{Outcome, OutcomeRule, PerCall, MAX_DURATION_MS};
pub use request::{FieldError, MakeCallRequest};

/// Largest `POST /v2/calls` body read; a larger one is refused with 413 before it is read whole.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How made calls behave (part of [`crate::Config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeCallConfig {
    /// Time from made to final, in milliseconds (default 2000: final within 3 s).
    pub duration_ms: u64,
    /// Most made calls kept; the oldest is evicted beyond it (default 10 000).
    pub max_calls: usize,
    /// Outcome by number called, first match wins (default [`OutcomeRule::defaults`]).
    pub outcome_rules: Vec<OutcomeRule>,
}

impl Default for MadeCallConfig {
    fn default() -> Self {
        MadeCallConfig {
            duration_ms: 2_000,
            max_calls: 10_000,
            outcome_rules: OutcomeRule::defaults(),
        }
    }
}

/// A made call that reached its final state: what the hooks registered with
/// `AppState::on_call_final` are given (the post-call webhook is built from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalCall {
    /// The call id.
    pub call_id: String,
    /// The request's `external_webhook_url`, if it had one.
    pub webhook_url: Option<String>,
    /// The final `GET /v2/calls/{call_id}` body (the envelope, as served).
    pub body: Bytes,
}

/// A call ready to store: its final record, the scenario that plays it, and when it is final.
#[derive(Debug, Clone)]
pub struct Made {
    /// The final record (checked).
    pub fixture: Fixture,
    /// The clock-driven lifecycle.
    pub scenario: Scenario,
    /// The outcome it was made with.
    pub outcome: Outcome,
    /// From made to the final body being served.
    pub final_after: Duration,
    /// The `eta` of the answer: seconds until the call leaves `pending`, at least 1.
    pub eta_secs: u64,
    /// Where the post-call webhook goes, if the request said.
    pub webhook_url: Option<String>,
}

/// The seed of a call id: the first 8 bytes of its SHA-256.
pub fn seed_of(call_id: &str) -> u64 {
    let digest = Sha256::digest(call_id.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// A fresh call id (UUID v4).
pub fn new_call_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Why a call could not be made (a factory or contract bug: the answer is a 500).
#[derive(Debug, thiserror::Error)]
#[error("made call {id}: {problem}")]
pub struct MakeError {
    /// The call id.
    pub id: String,
    /// What went wrong.
    pub problem: String,
}

/// Makes the call `id` of `req`, started at `start_ms` (unix ms).
pub fn make(
    id: &str,
    req: &MakeCallRequest,
    per_call: PerCall,
    config: &MadeCallConfig,
    start_ms: i64,
) -> Result<Made, MakeError> {
    let err = |problem: String| MakeError {
        id: id.to_owned(),
        problem,
    };
    let seed = seed_of(id);
    let outcome = per_call
        .outcome
        .unwrap_or_else(|| OutcomeRule::pick(&config.outcome_rules, &req.phone));
    let call = made_call(
        seed,
        &Order {
            call_id: id,
            kind: outcome.kind(seed),
            start_ms,
            model_id: &req.model_id,
            name: &req.name,
            phone_to: &req.phone,
            phone_from: req.from_phone_number.as_deref(),
            timezone: req.lead_timezone.as_deref(),
            prompt_variables: req.prompt_variables(),
        },
    );
    let body = Bytes::from(encode(&call));
    // Strict: the factory writes only values the vendor's document lists.
    let fixture = check_fixture(id, body, &format!("made:{id}"), LoadOptions::default())
        .map_err(|bad| err(bad.to_string()))?;
    let steps = derive_steps(&fixture).map_err(|e| err(e.to_string()))?;
    let gaps = (steps.bodies.len().max(2) - 1) as u64;
    let duration = per_call.duration_ms.unwrap_or(config.duration_ms);
    let step_ms = duration.div_ceil(gaps).max(1);
    Ok(Made {
        fixture,
        scenario: Scenario {
            faults: vec![],
            lifecycle: Some(Advance::SinceSet { step_ms }),
        },
        outcome,
        final_after: Duration::from_millis(step_ms * gaps),
        eta_secs: step_ms.div_ceil(1000).max(1),
        webhook_url: req.external_webhook_url.clone(),
    })
}

/// The made calls kept, oldest first, at most `cap`.
#[derive(Debug)]
pub struct MadeLog {
    cap: usize,
    ids: VecDeque<String>,
}

impl MadeLog {
    /// An empty log keeping at most `cap` ids (0: keep none beyond the one just made).
    pub fn new(cap: usize) -> MadeLog {
        MadeLog {
            cap,
            ids: VecDeque::new(),
        }
    }

    /// Records a new call; the ids that fall out (oldest first) are returned, each logged.
    pub fn push(&mut self, id: String) -> Vec<String> {
        self.ids.push_back(id);
        let mut evicted = Vec::new();
        while self.ids.len() > self.cap.max(1) {
            if let Some(old) = self.ids.pop_front() {
                tracing::info!(
                    target: "synthflow_mock::made_calls",
                    call_id = %old,
                    max_calls = self.cap,
                    "made call evicted (oldest first): over the bound of made calls kept"
                );
                evicted.push(old);
            }
        }
        evicted
    }

    /// How many made calls are kept.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// No made call is kept.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synthflow::contract::{check_call_body, CheckOptions};

    fn req(phone: &str) -> MakeCallRequest {
        MakeCallRequest {
            model_id: "agent-1".into(),
            phone: phone.into(),
            name: "Ada Lovelace".into(),
            custom_variables: vec![("Company".into(), "Synthflow".into())],
            ..MakeCallRequest::default()
        }
    }

    #[test]
    fn a_made_call_carries_the_request_and_every_outcome_passes_the_contract() {
        for (phone, status, steps) in [
            ("+15555550100", "completed", 4),
            ("+15555550101", "busy", 3),
            ("+15555550102", "no-answer", 3),
            ("+15555550103", "failed", 3),
            ("+15555550104", "completed", 4),
        ] {
            let id = new_call_id();
            let m = make(
                &id,
                &req(phone),
                PerCall::default(),
                &MadeCallConfig::default(),
                1_790_000_000_000,
            )
            .unwrap();
            let r = check_call_body(&m.fixture.body, Some(&id), CheckOptions::default());
            assert!(r.is_ok(), "{phone}: {:?}", r.violations);
            let v: serde_json::Value = serde_json::from_slice(&m.fixture.body).unwrap();
            let c = &v["response"]["calls"][0];
            assert_eq!(c["status"], status, "{phone}");
            assert_eq!(c["name"], "Ada Lovelace");
            assert_eq!(c["phone_number_to"], phone);
            assert_eq!(c["model_id"], "agent-1");
            assert_eq!(c["prompt_variables"]["Company"], "Synthflow");
            assert_eq!(c["start_time"], "1790000000000");
            assert_eq!(derive_steps(&m.fixture).unwrap().bodies.len(), steps);
            assert!(m.final_after <= Duration::from_millis(2_100));
        }
    }

    #[test]
    fn the_same_id_gives_the_same_call() {
        let id = new_call_id();
        let cfg = MadeCallConfig::default();
        let a = make(&id, &req("+1555"), PerCall::default(), &cfg, 1).unwrap();
        let b = make(&id, &req("+1555"), PerCall::default(), &cfg, 1).unwrap();
        assert_eq!(a.fixture.body, b.fixture.body);
    }

    #[test]
    fn the_log_evicts_the_oldest_beyond_its_cap() {
        let mut log = MadeLog::new(2);
        assert!(log.push("a".into()).is_empty());
        assert!(log.push("b".into()).is_empty());
        assert_eq!(log.push("c".into()), ["a"]);
        assert_eq!(log.len(), 2);
    }

    #[test]
    fn odd_but_valid_strings_still_make_a_call() {
        let req = MakeCallRequest {
            model_id: "x".into(),
            phone: "not a number".into(),
            name: "   Zoë \"the\" 🦀 ".into(),
            from_phone_number: Some("".into()),
            lead_timezone: Some("Mars/Olympus".into()),
            lead_email: Some("nope".into()),
            custom_variables: vec![("".into(), "".into())],
            ..MakeCallRequest::default()
        };
        for outcome in Outcome::VALUES {
            let per = PerCall {
                outcome: Some(outcome.parse().unwrap()),
                duration_ms: Some(0),
            };
            let m = make("id-1", &req, per, &MadeCallConfig::default(), 0);
            assert!(m.is_ok(), "{outcome}: {}", m.unwrap_err());
        }
    }
}
