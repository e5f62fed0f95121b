//! The outcome of a receiver check: the text report (with a signed `curl` replay line for each
//! shrunk failure) and JUnit XML, one `<testcase>` per property.
//!
//! The webhook secret is never in either: the replay line carries the computed signature value
//! only.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::Value;

use super::properties::Property;
use super::run::Probe;
use super::Delivery;

/// A failing request, kept to shrink and replay.
#[derive(Debug, Clone)]
pub struct Example {
    /// The case it came from.
    pub case: usize,
    pub(crate) probe: Probe,
    /// The payload (before the probe spoils or mis-signs it).
    pub payload: Value,
    /// Whether shrinking applies (not for side-effect evidence).
    pub shrinkable: bool,
}

/// A shrunk failing payload and how to replay it.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The minimal payload found.
    pub payload: Value,
    /// Shrink steps taken (each one a smaller payload that still failed).
    pub steps: usize,
    /// Candidates tried (requests sent, two each for a retry property).
    pub tries: usize,
    /// The request that replays it.
    pub delivery: Delivery,
    /// The signature header's value sent with it, if any.
    pub signature: Option<String>,
}

/// The verdict on one property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check held.
    Holds,
    /// At least one check failed.
    Fails,
    /// Never checked (the reason says why).
    NotChecked(String),
}

/// One property's checks.
#[derive(Debug, Clone)]
pub struct PropertyResult {
    /// Which property.
    pub property: Property,
    /// Requests (or pairs) judged.
    pub checked: usize,
    /// Of which failed.
    pub failed: usize,
    /// The failures' messages (`case N: ...`).
    pub failures: Vec<String>,
    /// What the verdict rests on (a 4xx status, side effects...).
    pub evidence: BTreeSet<String>,
    /// The first failing example.
    pub example: Option<Example>,
    /// Its shrunk form.
    pub shrunk: Option<Shrunk>,
    /// The verdict (set when the run ends).
    pub verdict: Verdict,
}

impl PropertyResult {
    pub(crate) fn new(property: Property) -> Self {
        PropertyResult {
            property,
            checked: 0,
            failed: 0,
            failures: Vec::new(),
            evidence: BTreeSet::new(),
            example: None,
            shrunk: None,
            verdict: Verdict::Holds,
        }
    }

    pub(crate) fn finish(&mut self, stopped_early: Option<&str>) {
        self.verdict = if self.failed > 0 {
            Verdict::Fails
        } else if self.checked == 0 {
            Verdict::NotChecked(match stopped_early {
                Some(why) => format!("not checked: the run {why}"),
                None => "not checked: no request gave it anything to judge".to_owned(),
            })
        } else {
            Verdict::Holds
        };
    }

    /// The `curl` line that replays the shrunk failure (signature value shown, secret not).
    pub fn replay(&self, header: &str) -> Option<String> {
        let s = self.shrunk.as_ref()?;
        let mut line = format!(
            "curl -sS -i -X {} {}",
            s.delivery.method,
            quote(&s.delivery.url)
        );
        for (name, value) in &s.delivery.headers {
            let _ = write!(line, " -H {}", quote(&format!("{name}: {value}")));
        }
        let own_type = s
            .delivery
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        if let Some(body) = &s.delivery.body {
            if !own_type {
                line.push_str(" -H 'Content-Type: application/json'");
            }
            if let Some(sig) = &s.signature {
                let _ = write!(line, " -H {}", quote(&format!("{header}: {sig}")));
            }
            let _ = write!(
                line,
                " --data-binary {}",
                quote(&String::from_utf8_lossy(body))
            );
        } else if let Some(sig) = &s.signature {
            let _ = write!(line, " -H {}", quote(&format!("{header}: {sig}")));
        }
        Some(line)
    }
}

/// A shell word in single quotes.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// What a receiver check found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `post-call`, `inbound` or `action`.
    pub endpoint: String,
    /// The receiver's URL.
    pub url: String,
    /// The seed: the same seed sends the same payloads.
    pub seed: u64,
    /// Cases asked for.
    pub cases: usize,
    /// The per-request time limit.
    pub time_limit: Duration,
    /// The signature header's name.
    pub header: String,
    /// The API mock's URL, when one ran.
    pub api_mock: Option<String>,
    /// Requests sent in all (shrinking included).
    pub requests: usize,
    /// One per property.
    pub results: Vec<PropertyResult>,
    /// Why the run stopped before the last case, if it did.
    pub stopped_early: Option<String>,
    /// Wall time.
    pub elapsed: Duration,
}

impl Outcome {
    /// Whether every property holds (the exit status is 0 only then).
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.verdict == Verdict::Holds)
    }

    /// The names of the properties that fail.
    pub fn failed(&self) -> Vec<&'static str> {
        self.results
            .iter()
            .filter(|r| r.verdict == Verdict::Fails)
            .map(|r| r.property.name())
            .collect()
    }

    /// The result for `p`, if it was checked for this endpoint.
    pub fn result(&self, p: Property) -> Option<&PropertyResult> {
        self.results.iter().find(|r| r.property == p)
    }

    /// The human report.
    pub fn text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "synthflow-check receiver {} at {} (seed {}, {} cases, time limit {} ms{})",
            self.endpoint,
            self.url,
            self.seed,
            self.cases,
            self.time_limit.as_millis(),
            self.api_mock
                .as_deref()
                .map(|u| format!(", API mock at {u}"))
                .unwrap_or_default()
        );
        for r in &self.results {
            let name = r.property.name();
            match &r.verdict {
                Verdict::Holds => {
                    let _ = writeln!(t, "PASS {name} ({} checked)", r.checked);
                }
                Verdict::NotChecked(why) => {
                    let _ = writeln!(t, "SKIP {name}: {why}");
                }
                Verdict::Fails => {
                    let _ = writeln!(
                        t,
                        "FAIL {name} ({} of {} checked failed)",
                        r.failed, r.checked
                    );
                    for f in &r.failures {
                        let _ = writeln!(t, "    {f}");
                    }
                }
            }
            if !r.evidence.is_empty() && r.property.is_refusal() {
                let ev: Vec<&str> = r.evidence.iter().map(String::as_str).collect();
                let _ = writeln!(t, "    evidence: {}", ev.join("; "));
            }
            if let Some(s) = &r.shrunk {
                let _ = writeln!(
                    t,
                    "    shrunk in {} steps ({} tries); minimal failing payload:",
                    s.steps, s.tries
                );
                let _ = writeln!(t, "    payload: {}", s.payload);
                if let Some(line) = r.replay(&self.header) {
                    let _ = writeln!(t, "    replay: {line}");
                }
            } else if r.verdict == Verdict::Fails {
                let why = if r.property == Property::WithinTimeLimit {
                    "a timing failure is not shrunk"
                } else if self.stopped_early.is_some() {
                    "not shrunk: the receiver stopped answering in time"
                } else {
                    "not shrunk: the evidence is side effects, which a shrink step cannot observe quickly"
                };
                let _ = writeln!(t, "    ({why})");
                if let Some(ex) = &r.example {
                    let _ = writeln!(t, "    payload of case {}: {}", ex.case, ex.payload);
                }
            }
        }
        let passed = self
            .results
            .iter()
            .filter(|r| r.verdict == Verdict::Holds)
            .count();
        if let Some(why) = &self.stopped_early {
            let _ = writeln!(t, "{why}");
        }
        let _ = writeln!(
            t,
            "{passed} of {} properties hold; {} requests in {:.1} s; repeat with --seed {}",
            self.results.len(),
            self.requests,
            self.elapsed.as_secs_f64(),
            self.seed
        );
        t
    }

    /// JUnit XML: one `<testsuite>` (`receiver-<endpoint>`), one `<testcase>` per property, a
    /// failure's message its first failure, its text the whole report entry (with the replay).
    pub fn junit_xml(&self) -> String {
        let suite_name = format!("receiver-{}", self.endpoint);
        let mut suite = TestSuite::new(suite_name.as_str());
        suite.add_property(quick_junit::Property::new("seed", self.seed.to_string()));
        for r in &self.results {
            let status = match &r.verdict {
                Verdict::Holds => TestCaseStatus::success(),
                Verdict::NotChecked(why) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(why.as_str());
                    s
                }
                Verdict::Fails => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let mut text = r.failures.join("\n");
                    if let Some(sh) = &r.shrunk {
                        let _ = write!(text, "\nshrunk payload: {}", sh.payload);
                        if let Some(line) = r.replay(&self.header) {
                            let _ = write!(text, "\nreplay: {line}");
                        }
                    }
                    let _ = write!(text, "\nrepeat with --seed {}", self.seed);
                    s.set_message(r.failures.first().map(String::as_str).unwrap_or("failed"))
                        .set_type("receiver-property")
                        .set_description(text);
                    s
                }
            };
            let mut case = TestCase::new(r.property.name(), status);
            case.set_classname(format!("synthflow.receiver.{}", self.endpoint));
            suite.add_test_case(case);
        }
        let mut report = Report::new("synthflow-receiver");
        report.add_test_suite(suite);
        report
            .to_string()
            .expect("a report in memory serializes to XML")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_line_quotes_for_the_shell_and_shows_the_signature_only() {
        let mut r = PropertyResult::new(Property::NoServerError);
        r.shrunk = Some(Shrunk {
            payload: serde_json::json!({"lead": {"name": "O'Brien"}}),
            steps: 1,
            tries: 1,
            delivery: Delivery {
                method: "POST".into(),
                url: "http://127.0.0.1:1/hook".into(),
                body: Some(br#"{"lead":{"name":"O'Brien"}}"#.to_vec()),
                headers: Vec::new(),
                signed_over: "c-1".into(),
            },
            signature: Some("c2ln".into()),
        });
        let line = r.replay("Synthflow-Signature").unwrap();
        assert_eq!(
            line,
            r#"curl -sS -i -X POST 'http://127.0.0.1:1/hook' -H 'Content-Type: application/json' -H 'Synthflow-Signature: c2ln' --data-binary '{"lead":{"name":"O'\''Brien"}}'"#
        );
    }

    #[test]
    fn a_property_never_checked_is_not_a_pass() {
        let mut r = PropertyResult::new(Property::RetrySameAnswer);
        r.finish(Some(
            "stopped after 2 requests got no answer within 10000 ms",
        ));
        assert!(
            matches!(r.verdict, Verdict::NotChecked(ref why) if why.contains("stopped after 2"))
        );
    }
}
