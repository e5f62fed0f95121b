//! The properties a receiver must hold, each a named check in the report and in JUnit, and what
//! one answer must satisfy for each.
//!
//! A property is judged from [`Answer`]s: the status, body and time of one request, or why there
//! was none. The functions here are pure; `run` sends the requests and keeps the tally.

use std::time::Duration;

use serde_json::Value;

use super::Endpoint;

/// A property of the integrator's endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    /// A correctly signed delivery gets a 2xx.
    SignedAccepted,
    /// Every request is answered within the time limit.
    WithinTimeLimit,
    /// No valid delivery gets a 5xx, a reset connection or a closed one without an answer.
    NoServerError,
    /// The same delivery twice (a retry) gets the same status both times.
    RetrySameAnswer,
    /// A delivery signed with another secret is refused.
    BadSignatureRefused,
    /// A delivery without the signature header is refused.
    MissingSignatureRefused,
    /// A delivery whose signature is that of another call is refused.
    OtherCallSignatureRefused,
    /// Invalid JSON, wrong types and an empty body get a 4xx.
    MalformedBodyRefused,
    /// Inbound: the 2xx reply is the documented `call_inbound` object or the empty object.
    InboundReplyShape,
    /// Action: the 2xx reply is JSON.
    ActionReplyJson,
}

impl Property {
    /// Every property, in report order.
    pub const ALL: &'static [Property] = &[
        Property::SignedAccepted,
        Property::WithinTimeLimit,
        Property::NoServerError,
        Property::RetrySameAnswer,
        Property::BadSignatureRefused,
        Property::MissingSignatureRefused,
        Property::OtherCallSignatureRefused,
        Property::MalformedBodyRefused,
        Property::InboundReplyShape,
        Property::ActionReplyJson,
    ];

    /// The name in reports and JUnit.
    pub fn name(self) -> &'static str {
        match self {
            Property::SignedAccepted => "signed_delivery_accepted",
            Property::WithinTimeLimit => "answers_within_time_limit",
            Property::NoServerError => "no_server_error",
            Property::RetrySameAnswer => "retry_gets_same_answer",
            Property::BadSignatureRefused => "bad_signature_refused",
            Property::MissingSignatureRefused => "missing_signature_refused",
            Property::OtherCallSignatureRefused => "other_call_signature_refused",
            Property::MalformedBodyRefused => "malformed_body_refused",
            Property::InboundReplyShape => "inbound_reply_is_call_inbound",
            Property::ActionReplyJson => "action_reply_is_json",
        }
    }

    /// Whether the property is about refusing a delivery with a wrong or missing signature.
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            Property::BadSignatureRefused
                | Property::MissingSignatureRefused
                | Property::OtherCallSignatureRefused
        )
    }

    /// The properties checked for `endpoint`; the refusal ones only when deliveries are signed.
    pub fn for_endpoint(endpoint: &Endpoint, signed: bool) -> Vec<Property> {
        Property::ALL
            .iter()
            .copied()
            .filter(|p| match p {
                Property::InboundReplyShape => *endpoint == Endpoint::Inbound,
                Property::ActionReplyJson => matches!(endpoint, Endpoint::Action(_)),
                Property::MalformedBodyRefused => match endpoint {
                    Endpoint::Action(spec) => spec.has_body(),
                    _ => true,
                },
                p if p.is_refusal() => signed,
                _ => true,
            })
            .collect()
    }
}

/// What came back for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A response.
    Status {
        /// Its status code.
        code: u16,
        /// Its body.
        body: Vec<u8>,
        /// Time to the whole response.
        elapsed: Duration,
    },
    /// No response within the time limit.
    TimedOut,
    /// The connection failed: refused, reset, closed without a response.
    Failed(String),
}

impl Answer {
    /// `500`, `no answer within 10000 ms`, `connection failed: ...`.
    pub fn describe(&self, limit: Duration) -> String {
        match self {
            Answer::Status { code, .. } => format!("answered {code}"),
            Answer::TimedOut => format!("no answer within {} ms", limit.as_millis()),
            Answer::Failed(e) => format!("connection failed: {e}"),
        }
    }

    /// The status code, if there was a response.
    pub fn code(&self) -> Option<u16> {
        match self {
            Answer::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A verdict on one request for one property: `Ok(())` holds, `Err(message)` does not.
pub type Judgement = (Property, Result<(), String>);

/// The properties a correctly signed, valid delivery informs, and their verdicts.
pub fn judge_valid(endpoint: &Endpoint, answer: &Answer, limit: Duration) -> Vec<Judgement> {
    let mut out = vec![(Property::WithinTimeLimit, judge_time(answer, limit))];
    match answer {
        Answer::TimedOut => {}
        Answer::Failed(_) => {
            let msg = answer.describe(limit);
            out.push((Property::SignedAccepted, Err(msg.clone())));
            out.push((Property::NoServerError, Err(msg)));
        }
        Answer::Status { code, body, .. } => {
            let accepted = (200..300).contains(code);
            out.push((
                Property::SignedAccepted,
                if accepted {
                    Ok(())
                } else {
                    Err(format!(
                        "a valid delivery was not accepted: {}",
                        answer.describe(limit)
                    ))
                },
            ));
            out.push((
                Property::NoServerError,
                if *code >= 500 {
                    Err(format!("a valid delivery {}", answer.describe(limit)))
                } else {
                    Ok(())
                },
            ));
            if accepted {
                match endpoint {
                    Endpoint::Inbound => {
                        out.push((Property::InboundReplyShape, inbound_reply(body)));
                    }
                    Endpoint::Action(_) => out.push((
                        Property::ActionReplyJson,
                        serde_json::from_slice::<Value>(body)
                            .map(|_| ())
                            .map_err(|e| format!("the reply is not JSON ({e})")),
                    )),
                    Endpoint::PostCall => {}
                }
            }
        }
    }
    out
}

/// Whether the answer came within the limit (a timeout or a late response does not).
pub fn judge_time(answer: &Answer, limit: Duration) -> Result<(), String> {
    match answer {
        Answer::TimedOut => Err(answer.describe(limit)),
        Answer::Status { elapsed, .. } if *elapsed > limit => Err(format!(
            "answered after {} ms (limit {} ms)",
            elapsed.as_millis(),
            limit.as_millis()
        )),
        _ => Ok(()),
    }
}

/// The same delivery twice: the same status both times.
pub fn judge_retry(first: &Answer, second: &Answer, limit: Duration) -> Option<Result<(), String>> {
    match (first.code(), second.code()) {
        (Some(a), Some(b)) if a == b => Some(Ok(())),
        (Some(a), Some(b)) => Some(Err(format!(
            "the same delivery answered {a}, then {b} when sent again"
        ))),
        // A timeout is the time limit's to report.
        _ if *first == Answer::TimedOut || *second == Answer::TimedOut => None,
        _ => Some(Err(format!(
            "the same delivery: first {}, then {}",
            first.describe(limit),
            second.describe(limit)
        ))),
    }
}

/// How a refusal probe was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A 4xx: refused.
    Refused,
    /// A 2xx: refused only if the receiver does nothing with it (needs the API mock to tell).
    Accepted,
    /// Anything else (3xx, 5xx, no connection): not a refusal.
    Wrong(String),
    /// No answer in time: the time limit's to report.
    TimedOut,
}

/// How a delivery with a wrong or missing signature was answered.
pub fn judge_refusal(answer: &Answer, limit: Duration) -> Refusal {
    match answer {
        Answer::Status {
            code: 400..=499, ..
        } => Refusal::Refused,
        Answer::Status {
            code: 200..=299, ..
        } => Refusal::Accepted,
        Answer::TimedOut => Refusal::TimedOut,
        other => Refusal::Wrong(format!("{} (a refusal is a 4xx)", other.describe(limit))),
    }
}

/// A malformed body: a 4xx.
pub fn judge_malformed(answer: &Answer, limit: Duration) -> Option<Result<(), String>> {
    match answer {
        Answer::Status {
            code: 400..=499, ..
        } => Some(Ok(())),
        Answer::TimedOut => None,
        other => Some(Err(format!(
            "{}; a malformed body must get a 4xx",
            other.describe(limit)
        ))),
    }
}

/// The inbound reply: `{}`, or `{"call_inbound": {...}}` whose `override_model_id` (if any) is a
/// string and `custom_variables` (if any) an object. An empty body is not the empty object.
pub fn inbound_reply(body: &[u8]) -> Result<(), String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the inbound reply is not JSON ({e})"))?;
    let o = v
        .as_object()
        .ok_or("the inbound reply is not a JSON object")?;
    if o.is_empty() {
        return Ok(());
    }
    let ci = o
        .get("call_inbound")
        .ok_or("the inbound reply has no call_inbound member (and is not {})")?
        .as_object()
        .ok_or("call_inbound in the reply is not an object")?;
    if let Some(m) = ci.get("override_model_id") {
        if !m.is_string() {
            return Err(format!(
                "call_inbound.override_model_id is not a string: {m}"
            ));
        }
    }
    if let Some(c) = ci.get("custom_variables") {
        if !c.is_object() {
            return Err(format!(
                "call_inbound.custom_variables is not an object: {c}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, body: &str) -> Answer {
        Answer::Status {
            code,
            body: body.as_bytes().to_vec(),
            elapsed: Duration::from_millis(5),
        }
    }

    const LIMIT: Duration = Duration::from_secs(10);

    #[test]
    fn a_500_fails_acceptance_and_server_error_but_not_the_time_limit() {
        let j = judge_valid(&Endpoint::PostCall, &status(500, ""), LIMIT);
        let failed: Vec<_> = j
            .iter()
            .filter(|(_, r)| r.is_err())
            .map(|(p, _)| *p)
            .collect();
        assert_eq!(failed, [Property::SignedAccepted, Property::NoServerError]);
    }

    #[test]
    fn a_timeout_fails_the_time_limit_only() {
        let j = judge_valid(&Endpoint::PostCall, &Answer::TimedOut, LIMIT);
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].0, Property::WithinTimeLimit);
        assert!(j[0].1.is_err());
    }

    #[test]
    fn inbound_replies_in_and_out_of_the_documented_shape() {
        assert!(inbound_reply(b"{}").is_ok());
        assert!(inbound_reply(br#"{"call_inbound": {}}"#).is_ok());
        assert!(inbound_reply(
            br#"{"call_inbound": {"override_model_id": "", "custom_variables": {"a": 1}}}"#
        )
        .is_ok());
        assert!(inbound_reply(b"").is_err());
        assert!(inbound_reply(br#"{"ok": true}"#).is_err());
        assert!(inbound_reply(br#"{"call_inbound": {"override_model_id": 7}}"#).is_err());
        assert!(inbound_reply(br#"{"call_inbound": {"custom_variables": []}}"#).is_err());
    }

    #[test]
    fn refusals_are_4xx_and_a_2xx_needs_other_evidence() {
        assert_eq!(judge_refusal(&status(401, ""), LIMIT), Refusal::Refused);
        assert_eq!(judge_refusal(&status(204, ""), LIMIT), Refusal::Accepted);
        assert!(matches!(
            judge_refusal(&status(500, ""), LIMIT),
            Refusal::Wrong(_)
        ));
        assert_eq!(
            judge_retry(&status(200, "a"), &status(409, ""), LIMIT).map(|r| r.is_ok()),
            Some(false)
        );
        assert_eq!(
            judge_retry(&status(200, "a"), &status(200, "b"), LIMIT),
            Some(Ok(()))
        );
    }
}
