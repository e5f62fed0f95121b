//! Per-call scenarios: a fault sequence and/or a lifecycle, served to each client in order.
//!
//! A [`Scenario`] for a call id says what its successive requests get:
//! - `faults`: the first N requests get these faults, one each (e.g. `["code=429","code=429"]`:
//!   two rate limits, then the call: the retry loop every client needs);
//! - `lifecycle`: after that, the call is served as a progression `pending` → `ringing` →
//!   (`in-progress` when the call was answered) → the fixture itself, advancing per poll, per
//!   time since the client's first poll, or per time since the scenario was set.
//!
//! The fixture of the id is the final state. Each intermediate body is derived from it once, when
//! the scenario is set, checked with the shared contract checks (a live status has no
//! `telephony_end` and a zero `duration`), and kept as `Bytes`: a poll is a counter step and a
//! clone. Progress is kept per client: the `X-Mock-Client` header names one (absent = one shared
//! client), so parallel tests do not advance each other's calls. The admin API resets progress.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
#[cfg(feature = "validate")]
use synthflow::contract::{check_call_body, CheckOptions};

use crate::behaviour::faults::Fault;
use crate::store::Fixture;

/// The header that keeps scenario progress apart per client.
pub const CLIENT_HEADER: &str = "x-mock-client";

/// What successive requests for one call id get.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// One fault per request, for the first requests.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Then the call as a progression, if set; the fixture as it is otherwise.
    #[serde(default)]
    pub lifecycle: Option<Advance>,
}

impl Scenario {
    /// A lifecycle advancing one step per poll.
    pub fn lifecycle_per_poll() -> Scenario {
        Scenario {
            faults: vec![],
            lifecycle: Some(Advance::PerPoll { polls_per_step: 1 }),
        }
    }

    /// The first `n` requests get `fault`, then the call.
    pub fn first_n(n: usize, fault: Fault) -> Scenario {
        Scenario {
            faults: vec![fault; n],
            lifecycle: None,
        }
    }
}

/// How a lifecycle advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "advance", rename_all = "kebab-case")]
pub enum Advance {
    /// One step every `polls_per_step` polls (default 1).
    PerPoll {
        /// Polls per step (at least 1).
        #[serde(default = "one")]
        polls_per_step: u32,
    },
    /// One step every `step_ms` milliseconds since the client's first poll.
    Elapsed {
        /// Milliseconds per step.
        step_ms: u64,
    },
    /// One step every `step_ms` milliseconds since the scenario was set, the same for every
    /// client: a call that plays out whether or not anyone polls it (a made call).
    SinceSet {
        /// Milliseconds per step.
        step_ms: u64,
    },
}

fn one() -> u32 {
    1
}

/// The bodies of a lifecycle, first to last (the last is the fixture).
#[derive(Debug, Clone)]
pub struct Steps {
    /// Status of each step, for the journal and docs.
    pub statuses: Vec<String>,
    /// Body of each step.
    pub bodies: Vec<Bytes>,
}

/// Why a scenario cannot be set.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// No call has this id.
    #[error("no fixture for call id {0:?}")]
    UnknownCall(String),
    /// A lifecycle was asked for on a call that is not final.
    #[error("call {id}: a lifecycle needs a final call (completed, failed...) as its fixture, not {status:?}")]
    NotFinal {
        /// The call id.
        id: String,
        /// Its status.
        status: String,
    },
    /// A lifecycle step derived from the call breaks the contract.
    #[error("call {id}: derived {status} step breaks the contract: {problems}")]
    BadStep {
        /// The call id.
        id: String,
        /// The step's status.
        status: String,
        /// What the contract checks said.
        problems: String,
    },
    /// The call's body is not the one-call envelope.
    #[error("call {0}: fixture body is not a call envelope")]
    NotACall(String),
}

const LIVE: [&str; 3] = ["pending", "ringing", "in-progress"];

/// Derives the lifecycle of a final call.
pub fn derive_steps(fixture: &Fixture) -> Result<Steps, ScenarioError> {
    let id = fixture.id.clone();
    let env: Value =
        serde_json::from_slice(&fixture.body).map_err(|_| ScenarioError::NotACall(id.clone()))?;
    let call = env
        .pointer("/response/calls/0")
        .and_then(Value::as_object)
        .ok_or_else(|| ScenarioError::NotACall(id.clone()))?;
    let status = call
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if status.is_empty() || LIVE.contains(&status.as_str()) {
        return Err(ScenarioError::NotFinal { id, status });
    }
    let transcript = call.get("transcript").and_then(Value::as_str).unwrap_or("");
    let answered = status == "completed" || !transcript.is_empty();
    let mut statuses: Vec<&str> = vec!["pending", "ringing"];
    if answered {
        statuses.push("in-progress");
    }
    let mut out = Steps {
        statuses: Vec::new(),
        bodies: Vec::new(),
    };
    for s in statuses {
        let step = live_step(call, s, transcript);
        let mut env = env.clone();
        if let Some(slot) = env.pointer_mut("/response/calls/0") {
            *slot = Value::Object(step);
        }
        let body =
            Bytes::from(serde_json::to_vec(&env).map_err(|_| ScenarioError::NotACall(id.clone()))?);
        // Derived from a valid fixture; with `validate`, checked again as a fixture file is.
        #[cfg(feature = "validate")]
        let report = check_call_body(
            &body,
            Some(&id),
            CheckOptions {
                allow_out_of_spec: true,
            },
        );
        #[cfg(feature = "validate")]
        if !report.is_ok() {
            return Err(ScenarioError::BadStep {
                id,
                status: s.to_owned(),
                problems: report
                    .violations
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        out.statuses.push(s.to_owned());
        out.bodies.push(body);
    }
    out.statuses.push(status);
    out.bodies.push(fixture.body.clone());
    Ok(out)
}

/// One live step of a final call: no end, durations 0, the transcript so far; the placeholders the
/// fixture set uses for "not ended yet" (`agent_ended_call`, `unknown`, see fixtures/README.md).
fn live_step(call: &Map<String, Value>, status: &str, transcript: &str) -> Map<String, Value> {
    let mut c = call.clone();
    c.remove("telephony_end");
    let set = |c: &mut Map<String, Value>, k: &str, v: Value| {
        if c.contains_key(k) {
            c.insert(k.to_owned(), v);
        }
    };
    set(&mut c, "status", Value::from(status));
    set(&mut c, "duration", Value::from(0));
    set(&mut c, "telephony_duration", Value::from(0));
    set(&mut c, "recording_url", Value::Null);
    set(&mut c, "end_call_reason", Value::from("agent_ended_call"));
    set(&mut c, "custom_end_call_reason", Value::Null);
    set(&mut c, "error_message", Value::from(""));
    set(
        &mut c,
        "telephony_disconnect_reason",
        Value::from("unknown"),
    );
    set(&mut c, "executed_actions", Value::Object(Map::new()));
    if status == "in-progress" {
        // The conversation so far: the first half of its lines.
        let lines: Vec<&str> = transcript.lines().collect();
        let half = lines.len().div_ceil(2);
        set(&mut c, "transcript", Value::from(lines[..half].join("\n")));
    } else {
        set(&mut c, "transcript", Value::from(""));
        set(&mut c, "telephony_ringing_duration", Value::from(0));
        set(&mut c, "collected_variables", Value::Null);
    }
    c
}

/// A scenario set on a call, with its derived bodies and each client's progress.
#[derive(Debug)]
pub struct Active {
    /// The scenario as set.
    pub scenario: Scenario,
    /// Its lifecycle's bodies, when it has one.
    pub steps: Option<Steps>,
    progress: Mutex<HashMap<String, Progress>>,
    set_at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Progress {
    requests: u64,
    lifecycle_started: Option<Instant>,
}

/// One client's place in a scenario ([`Active::progress`]).
#[derive(Debug, Clone, Serialize)]
pub struct ClientProgress {
    /// The client (the `x-mock-client` header; empty for none).
    pub client: String,
    /// Requests it made for the call.
    pub requests: u64,
    /// The lifecycle step it is at (by its polls, or by the time since its first poll).
    pub step: Option<usize>,
}

/// What one request for a call with a scenario gets.
#[derive(Debug, Clone)]
pub enum Turn {
    /// This fault.
    Fault(Fault),
    /// This body, the `step`-th of the lifecycle.
    Step {
        /// The step's index.
        step: usize,
        /// Its body.
        body: Bytes,
    },
    /// The fixture as it is.
    Fixture,
}

impl Active {
    /// Compiles a scenario against the call's fixture.
    pub fn new(scenario: Scenario, fixture: &Fixture) -> Result<Active, ScenarioError> {
        let steps = match scenario.lifecycle {
            Some(_) => Some(derive_steps(fixture)?),
            None => None,
        };
        Ok(Active {
            scenario,
            steps,
            progress: Mutex::new(HashMap::new()),
            set_at: Instant::now(),
        })
    }

    /// The turn of the next request of `client`.
    pub fn next(&self, client: &str) -> Turn {
        let now = Instant::now();
        let (n, started) = {
            let mut map = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            let p = map.entry(client.to_owned()).or_insert(Progress {
                requests: 0,
                lifecycle_started: None,
            });
            let n = p.requests;
            p.requests += 1;
            if n >= self.scenario.faults.len() as u64 && p.lifecycle_started.is_none() {
                p.lifecycle_started = Some(now);
            }
            (n, p.lifecycle_started)
        };
        if let Some(f) = self.scenario.faults.get(n as usize) {
            return Turn::Fault(*f);
        }
        let Some(step) = self.step_of(n - self.scenario.faults.len() as u64, started, now) else {
            return Turn::Fixture;
        };
        match self.steps.as_ref().and_then(|s| s.bodies.get(step)) {
            Some(body) => Turn::Step {
                step,
                body: body.clone(),
            },
            None => Turn::Fixture,
        }
    }

    /// The lifecycle step of a client's `poll`-th poll after its faults (from 0), `None` without
    /// a lifecycle.
    fn step_of(&self, poll: u64, started: Option<Instant>, now: Instant) -> Option<usize> {
        let (Some(steps), Some(advance)) = (&self.steps, self.scenario.lifecycle) else {
            return None;
        };
        let last = steps.bodies.len().saturating_sub(1);
        let step = match advance {
            Advance::PerPoll { polls_per_step } => poll / u64::from(polls_per_step.max(1)),
            Advance::Elapsed { step_ms } => {
                let elapsed = started.map_or(Duration::ZERO, |s| now.duration_since(s));
                (elapsed.as_millis() / u128::from(step_ms.max(1))) as u64
            }
            Advance::SinceSet { step_ms } => {
                (now.duration_since(self.set_at).as_millis() / u128::from(step_ms.max(1))) as u64
            }
        };
        Some((step as usize).min(last))
    }

    /// Where each client is, without moving it: its requests so far and its lifecycle step (for
    /// the web console). Read-only: a look never advances a scenario.
    pub fn progress(&self) -> Vec<ClientProgress> {
        let now = Instant::now();
        let map = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<ClientProgress> = map
            .iter()
            .map(|(client, p)| {
                let faults = self.scenario.faults.len() as u64;
                let step = (p.requests > faults)
                    .then(|| self.step_of(p.requests - 1 - faults, p.lifecycle_started, now))
                    .flatten();
                ClientProgress {
                    client: client.clone(),
                    requests: p.requests,
                    step,
                }
            })
            .collect();
        out.sort_by(|a, b| a.client.cmp(&b.client));
        out
    }

    /// The step a request would get now for a lifecycle that does not depend on the client
    /// (`since-set`), else `None`.
    pub fn step_now(&self) -> Option<usize> {
        match self.scenario.lifecycle {
            Some(Advance::SinceSet { .. }) => self.step_of(0, None, Instant::now()),
            _ => None,
        }
    }

    /// Forgets every client's progress.
    pub fn reset(&self) {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// A scenario file (`scenarios.json` in a fixture folder): call id → scenario.
pub type ScenarioFile = HashMap<String, Scenario>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn fixture(id_prefix: &str) -> Fixture {
        let store = Store::embedded().unwrap();
        let found = store
            .fixtures()
            .find(|f| f.id.starts_with(id_prefix))
            .unwrap()
            .clone();
        found
    }

    #[cfg(feature = "validate")]
    #[test]
    fn answered_call_steps_through_every_live_status_and_each_passes_the_contract() {
        let steps = derive_steps(&fixture("2c94e7b1")).unwrap();
        assert_eq!(
            steps.statuses,
            ["pending", "ringing", "in-progress", "completed"]
        );
        for b in &steps.bodies {
            let r = check_call_body(b, None, CheckOptions::default());
            assert!(r.is_ok(), "{:?}", r.violations);
        }
    }

    #[test]
    fn unanswered_call_skips_in_progress() {
        let steps = derive_steps(&fixture("b3f9c0a7")).unwrap();
        assert_eq!(steps.statuses, ["pending", "ringing", "no-answer"]);
    }

    #[test]
    fn live_fixture_cannot_be_a_lifecycle_end() {
        assert!(matches!(
            derive_steps(&fixture("e1b8d6a3")),
            Err(ScenarioError::NotFinal { .. })
        ));
    }

    #[test]
    fn faults_come_first_then_steps_per_client() {
        let s = Scenario {
            faults: vec![Fault::code(429)],
            lifecycle: Some(Advance::PerPoll { polls_per_step: 1 }),
        };
        let a = Active::new(s, &fixture("2c94e7b1")).unwrap();
        assert!(matches!(a.next("x"), Turn::Fault(_)));
        assert!(matches!(a.next("x"), Turn::Step { step: 0, .. }));
        assert!(matches!(a.next("y"), Turn::Fault(_)));
        assert!(matches!(a.next("x"), Turn::Step { step: 1, .. }));
        a.reset();
        assert!(matches!(a.next("x"), Turn::Fault(_)));
    }

    #[test]
    fn elapsed_lifecycle_advances_with_time_since_the_first_poll() {
        let slow = Scenario {
            faults: vec![],
            lifecycle: Some(Advance::Elapsed { step_ms: 3_600_000 }),
        };
        let a = Active::new(slow, &fixture("2c94e7b1")).unwrap();
        assert!(matches!(a.next("c"), Turn::Step { step: 0, .. }));
        assert!(matches!(a.next("c"), Turn::Step { step: 0, .. }));
        let fast = Scenario {
            faults: vec![],
            lifecycle: Some(Advance::Elapsed { step_ms: 1 }),
        };
        let a = Active::new(fast, &fixture("2c94e7b1")).unwrap();
        assert!(matches!(a.next("c"), Turn::Step { step: 0, .. }));
        // Elapsed time only grows: after 10 ms at 1 ms a step, the last step (3) is reached.
        std::thread::sleep(Duration::from_millis(10));
        assert!(matches!(a.next("c"), Turn::Step { step: 3, .. }));
    }

    #[test]
    fn since_set_lifecycle_is_the_same_for_every_client() {
        let s = Scenario {
            faults: vec![],
            lifecycle: Some(Advance::SinceSet { step_ms: 1 }),
        };
        let a = Active::new(s, &fixture("2c94e7b1")).unwrap();
        std::thread::sleep(Duration::from_millis(10));
        // A client polling for the first time sees the last step: the clock started when set.
        assert!(matches!(a.next("new"), Turn::Step { step: 3, .. }));
        let s: Scenario =
            serde_json::from_str(r#"{"lifecycle":{"advance":"since-set","step_ms":5}}"#).unwrap();
        assert_eq!(s.lifecycle, Some(Advance::SinceSet { step_ms: 5 }));
    }

    #[test]
    fn scenario_json_reads_faults_and_lifecycle() {
        let s: Scenario = serde_json::from_str(
            r#"{"faults":["code=429","code=429"],"lifecycle":{"advance":"elapsed","step_ms":500}}"#,
        )
        .unwrap();
        assert_eq!(s.faults.len(), 2);
        assert_eq!(s.lifecycle, Some(Advance::Elapsed { step_ms: 500 }));
    }
}
