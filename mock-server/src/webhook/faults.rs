//! Faults for webhook receivers: what a real sender may do to them, on request, so an integrator
//! can test idempotency, ordering and signature checks.
//!
//! Set through the admin API (`PUT /__admin/webhooks/faults`) or in process
//! ([`crate::webhook::Webhooks::set_faults`]); they apply to every delivery queued while they are
//! set (a delivery keeps the faults it was queued with).
//!
//! ```json
//! {"delay_ms": 1500, "duplicate": true, "out_of_order": true, "bad_signature": true, "bad_body": "malformed_json"}
//! ```

use serde::{Deserialize, Serialize};

/// The receiver faults in force. Every field is off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverFaults {
    /// Late: wait this long before the first attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Twice: once the delivery is over (delivered or given up), deliver the same payload, with
    /// the same signature, again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub duplicate: bool,
    /// Out of order: hold the delivery until the next one is queued, send that one first, then
    /// this one. A held delivery with no successor goes alone after `HOLD_MAX`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub out_of_order: bool,
    /// Sign with a secret that is not the configured one (or, unsigned, send a signature anyway).
    #[serde(default, skip_serializing_if = "is_false")]
    pub bad_signature: bool,
    /// A body the receiver must refuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_body: Option<BadBody>,
}

/// How long an out-of-order delivery waits for a successor to overtake it.
pub const HOLD_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// A body the receiver must refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadBody {
    /// The JSON payload cut in half: not JSON.
    MalformedJson,
    /// The payload without `call.call_id` (the value the signature covers).
    MissingCallId,
}

/// Why receiver faults were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// `delay_ms` longer than one attempt may take: a delivery held that long is one a real
    /// sender would have given up on, and the faults would hold deliveries for ever.
    #[error("delay_ms: {given} is over the limit of {limit} ms (the webhook attempt timeout, --webhook-timeout-ms)")]
    DelayTooLong {
        /// The value given.
        given: u64,
        /// The attempt timeout in milliseconds.
        limit: u64,
    },
}

impl ReceiverFaults {
    /// Refuses faults a sender with attempts of `attempt_timeout` could not play.
    pub fn check(&self, attempt_timeout: std::time::Duration) -> Result<(), FaultError> {
        let limit = u64::try_from(attempt_timeout.as_millis()).unwrap_or(u64::MAX);
        match self.delay_ms {
            Some(given) if given > limit => Err(FaultError::DelayTooLong { given, limit }),
            _ => Ok(()),
        }
    }

    /// Reads one `--webhook-fault` value: `delay_ms=MS`, `duplicate`, `out_of_order`,
    /// `bad_signature`, `bad_body=malformed_json|missing_call_id`, added to `self`.
    pub fn add_flag(&mut self, flag: &str) -> Result<(), String> {
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (flag.trim(), None),
        };
        match (name, value) {
            ("delay_ms", Some(v)) => {
                self.delay_ms = Some(
                    v.parse()
                        .map_err(|_| format!("delay_ms={v}: expected milliseconds"))?,
                )
            }
            ("duplicate", None) => self.duplicate = true,
            ("out_of_order", None) => self.out_of_order = true,
            ("bad_signature", None) => self.bad_signature = true,
            ("bad_body", Some("malformed_json")) => self.bad_body = Some(BadBody::MalformedJson),
            ("bad_body", Some("missing_call_id")) => self.bad_body = Some(BadBody::MissingCallId),
            _ => {
                return Err(format!(
                    "{flag:?}: expected delay_ms=MS, duplicate, out_of_order, bad_signature, \
                     bad_body=malformed_json or bad_body=missing_call_id"
                ))
            }
        }
        Ok(())
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ReceiverFaults {
    /// No fault set.
    pub fn is_empty(&self) -> bool {
        *self == ReceiverFaults::default()
    }

    /// The faults as one short text for the delivery journal (`delay_ms=100, duplicate`).
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(d) = self.delay_ms {
            parts.push(format!("delay_ms={d}"));
        }
        if self.duplicate {
            parts.push("duplicate".to_owned());
        }
        if self.out_of_order {
            parts.push("out_of_order".to_owned());
        }
        if self.bad_signature {
            parts.push("bad_signature".to_owned());
        }
        match self.bad_body {
            Some(BadBody::MalformedJson) => parts.push("bad_body=malformed_json".to_owned()),
            Some(BadBody::MissingCallId) => parts.push("bad_body=missing_call_id".to_owned()),
            None => {}
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// The body to send for `payload` (the JSON of the post-call webhook).
    pub(crate) fn body(&self, payload: &[u8]) -> Vec<u8> {
        match self.bad_body {
            None => payload.to_vec(),
            Some(BadBody::MalformedJson) => payload[..payload.len() / 2].to_vec(),
            Some(BadBody::MissingCallId) => {
                let mut v: serde_json::Value = match serde_json::from_slice(payload) {
                    Ok(v) => v,
                    Err(_) => return payload.to_vec(),
                };
                if let Some(call) = v.get_mut("call").and_then(|c| c.as_object_mut()) {
                    call.remove("call_id");
                }
                serde_json::to_vec(&v).unwrap_or_else(|_| payload.to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_read_from_json_and_describe_themselves() {
        let f: ReceiverFaults =
            serde_json::from_str(r#"{"delay_ms":5,"duplicate":true,"bad_body":"missing_call_id"}"#)
                .unwrap();
        assert_eq!(
            f.describe().as_deref(),
            Some("delay_ms=5, duplicate, bad_body=missing_call_id")
        );
        assert!(serde_json::from_str::<ReceiverFaults>(r#"{"late":1}"#).is_err());
        assert!(ReceiverFaults::default().is_empty());
    }

    #[test]
    fn bad_bodies_are_refusable() {
        let payload = br#"{"status":"completed","call":{"call_id":"c1","duration":3}}"#;
        let cut = ReceiverFaults {
            bad_body: Some(BadBody::MalformedJson),
            ..Default::default()
        }
        .body(payload);
        assert!(serde_json::from_slice::<serde_json::Value>(&cut).is_err());
        let missing = ReceiverFaults {
            bad_body: Some(BadBody::MissingCallId),
            ..Default::default()
        }
        .body(payload);
        let v: serde_json::Value = serde_json::from_slice(&missing).unwrap();
        assert!(v["call"].get("call_id").is_none());
        assert_eq!(v["call"]["duration"], 3);
    }
}
