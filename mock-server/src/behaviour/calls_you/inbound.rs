//! The inbound-call webhook: before an inbound call rings, Synthflow POSTs
//! `{"event": "call_inbound", "call_inbound": {model_id, from_number, to_number}}` to the agent's
//! `inbound_call_webhook_url` and waits for `{"call_inbound": {override_model_id,
//! custom_variables, ...}}`. Played here through the outgoing door (kind `inbound`).
//!
//! As the vendor documents it (shared/reference/SYNTHFLOW-CALLS-YOU.md, section 1):
//! - an answer `{"call_inbound": {...}}` routes the call: `override_model_id` names the agent
//!   (`""` or absent: keep the one called), `custom_variables` go to the call;
//! - an empty object (`{}` or `{"call_inbound": {}}`) **disconnects** the call;
//! - no usable answer in time: the caller is held and up to 3 more requests are sent; if all fail,
//!   the default agent takes the call, else it is disconnected.
//!
//! What counts as "no usable answer" (the vendor is silent): no answer within the timeout, a
//! refused or failed connection, a non-2xx status, a body that is not JSON, or a `call_inbound`
//! of the wrong type (each journaled with its reason). A 2xx with a JSON body is an answer.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::{Map, Value};

use crate::outgoing::{AttemptOf, Delivery, OutRequest, Outgoing, Sent};

/// Requests sent at most: the first and "up to 3 more".
pub const ATTEMPTS: u32 = 4;

/// The default time the mock waits for one inbound answer (`--inbound-timeout-ms`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How inbound calls are played (part of the webhook configuration: what the mock sends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundConfig {
    /// How long one inbound request may take (`--inbound-timeout-ms`, default 10 s).
    pub timeout: Duration,
    /// The agent that takes a call when the endpoint gives no decision (`--inbound-default-agent`;
    /// the vendor's `default_agent`); none: the call is disconnected. Sent as
    /// `call_inbound.model_id`, as the vendor documents it.
    pub default_agent: Option<String>,
    /// Headers every inbound request carries (`--inbound-header NAME:VALUE`), after the
    /// signature; an agent adds its own with `inbound_call_webhook_headers`.
    pub headers: Vec<(String, String)>,
}

impl Default for InboundConfig {
    fn default() -> Self {
        InboundConfig {
            timeout: DEFAULT_TIMEOUT,
            default_agent: None,
            headers: Vec::new(),
        }
    }
}

/// What the integrator's endpoint decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Take the call: with this agent (`None`: the one called) and these variables.
    Route {
        /// `override_model_id`, when not empty.
        model_id: Option<String>,
        /// `custom_variables`.
        custom_variables: Map<String, Value>,
    },
    /// The empty object: hang up.
    Disconnect,
}

/// Reads an answer's body as the documented reply; `Err`: why it is not one.
pub fn parse_reply(body: &[u8]) -> Result<Decision, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let Value::Object(top) = v else {
        return Err("the answer is not a JSON object".into());
    };
    if top.is_empty() {
        return Ok(Decision::Disconnect);
    }
    let inner = match top.get("call_inbound") {
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(format!(
                "call_inbound: expected an object, got {}",
                kind_of(other)
            ))
        }
        None => return Err("the answer has no call_inbound object".into()),
    };
    if inner.is_empty() {
        return Ok(Decision::Disconnect);
    }
    let model_id = match inner.get("override_model_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(format!(
                "call_inbound.override_model_id: expected a string, got {}",
                kind_of(other)
            ))
        }
    };
    let custom_variables = match inner.get("custom_variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(other) => {
            return Err(format!(
                "call_inbound.custom_variables: expected an object, got {}",
                kind_of(other)
            ))
        }
    };
    Ok(Decision::Route {
        model_id,
        custom_variables,
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The documented request body.
pub fn request_body(model_id: Option<&str>, from_number: &str, to_number: &str) -> Value {
    let mut inner = Map::new();
    if let Some(m) = model_id {
        inner.insert("model_id".into(), Value::String(m.to_owned()));
    }
    inner.insert("from_number".into(), Value::String(from_number.to_owned()));
    inner.insert("to_number".into(), Value::String(to_number.to_owned()));
    serde_json::json!({"event": "call_inbound", "call_inbound": inner})
}

/// How the inbound webhook went.
#[derive(Debug, Clone, PartialEq)]
pub struct Played {
    /// The endpoint's decision, `None` when no attempt gave one.
    pub decision: Option<Decision>,
    /// Requests sent (or refused).
    pub attempts: u32,
    /// Why the last attempt gave no decision, if it did not.
    pub last_error: Option<String>,
}

/// Sends the inbound webhook of call `call_id` to `url` with `headers` (the signature among
/// them, named in `secret_headers` for the journal's redaction), up to [`ATTEMPTS`] times while no decision comes, each within `timeout`; every attempt
/// journaled with the receiver's answer. A target refused by rule, or one that can never work,
/// is not tried again.
pub async fn play(
    out: &Outgoing,
    call_id: &str,
    url: &str,
    headers: HeaderMap,
    secret_headers: &[http::HeaderName],
    body: &Value,
    timeout: Duration,
) -> Played {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    let mut last_error = None;
    for attempt in 1..=ATTEMPTS {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let t0 = Instant::now();
        let sent = out
            .send(OutRequest {
                kind: "inbound",
                url,
                method: Method::POST,
                headers: headers.clone(),
                body: bytes.clone(),
                timeout,
            })
            .await;
        let latency_ms = t0.elapsed().as_millis() as u64;
        let last = attempt == ATTEMPTS;
        let (result, outcome, decided) = match &sent {
            Sent::Answer(a) if (200..300).contains(&a.status) && !a.cut => {
                match parse_reply(&a.body) {
                    Ok(d) => (Ok(a), "delivered", Ok(d)),
                    Err(e) => (Ok(a), if last { "failed" } else { "retry" }, Err(e)),
                }
            }
            Sent::Answer(a) => {
                let why = if a.cut {
                    format!(
                        "the answer is over {} bytes: cut, not used",
                        crate::outgoing::MAX_ANSWER_BYTES
                    )
                } else {
                    format!("HTTP {}", a.status)
                };
                (Ok(a), if last { "failed" } else { "retry" }, Err(why))
            }
            Sent::Refused(r) => (Err(format!("not sent: {r}")), "refused", Err(r.clone())),
            Sent::Failed(r) => (
                Err(format!("cannot be sent: {r}")),
                "failed",
                Err(r.clone()),
            ),
            Sent::Error(e) => (
                Err(e.clone()),
                if last { "failed" } else { "retry" },
                Err(e.clone()),
            ),
        };
        let of = AttemptOf {
            kind: "inbound",
            call_id,
            url,
            attempt,
            signed: secret_headers.iter().any(|h| headers.contains_key(h)),
            fault: None,
            duplicate: false,
            model_id: body["call_inbound"]["model_id"].as_str(),
            method: "POST",
            headers: &headers,
            secret_headers,
            body: &bytes,
        };
        let mut record = Delivery::new(&of, result, outcome, latency_ms, at);
        if let (Err(why), Some(_)) = (&decided, &record.answer) {
            record.error = Some(crate::ring::bounded(why, 512));
        }
        out.record(record);
        match decided {
            Ok(d) => {
                return Played {
                    decision: Some(d),
                    attempts: attempt,
                    last_error: None,
                }
            }
            Err(e) => {
                tracing::warn!(call_id, attempt, error = %e, "inbound webhook gave no decision");
                last_error = Some(e);
                if matches!(sent, Sent::Refused(_) | Sent::Failed(_)) {
                    return Played {
                        decision: None,
                        attempts: attempt,
                        last_error,
                    };
                }
            }
        }
    }
    Played {
        decision: None,
        attempts: ATTEMPTS,
        last_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_documented_replies_are_read() {
        assert_eq!(parse_reply(b"{}").unwrap(), Decision::Disconnect);
        assert_eq!(
            parse_reply(br#"{"call_inbound":{}}"#).unwrap(),
            Decision::Disconnect
        );
        assert_eq!(
            parse_reply(br#"{"call_inbound":{"override_model_id":"","custom_variables":{"a":1}}}"#)
                .unwrap(),
            Decision::Route {
                model_id: None,
                custom_variables: json!({"a": 1}).as_object().unwrap().clone()
            }
        );
        assert_eq!(
            parse_reply(br#"{"call_inbound":{"override_model_id":"m-2"}}"#).unwrap(),
            Decision::Route {
                model_id: Some("m-2".into()),
                custom_variables: Map::new()
            }
        );
    }

    #[test]
    fn bad_replies_say_why() {
        for (body, why) in [
            (&b"nope"[..], "not JSON"),
            (b"[1]", "not a JSON object"),
            (br#"{"x":1}"#, "no call_inbound"),
            (
                br#"{"call_inbound":"m"}"#,
                "call_inbound: expected an object",
            ),
            (
                br#"{"call_inbound":{"override_model_id":5}}"#,
                "override_model_id: expected a string",
            ),
            (
                br#"{"call_inbound":{"custom_variables":[]}}"#,
                "custom_variables: expected an object",
            ),
        ] {
            let e = parse_reply(body).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn the_request_body_is_the_documented_one() {
        let b = request_body(Some("m-1"), "+1213", "+1214");
        assert_eq!(
            b,
            json!({"event": "call_inbound", "call_inbound": {"model_id": "m-1", "from_number": "+1213", "to_number": "+1214"}})
        );
    }
}
