//! Seeded payloads for the integrator's endpoints.
//!
//! Case `i` of seed `s` is a pure function of `(s, i)`: its stream is a ChaCha8 generator keyed by
//! both numbers, so a seed gives byte-identical sequences on any machine, and `--cases 5` gives the
//! same first five cases as `--cases 200`. Nothing reads the clock or a global generator.
//!
//! A post-call payload is built as the typed [`PostCallWebhook`] (so it has the documented shape)
//! and then varied as JSON: the coverage walk gives case `i` the `i`-th call status and end reason
//! (the get-call enums and the webhook page's extra values), every nullable member is `null` in
//! some cases and absent in others, and cases carry unknown extra members, both
//! `collected_variables` shapes (flat and keyed by agent id), extractor and custom-action entries,
//! unicode and very long transcripts, and the number forms seen (integer, float and string
//! `duration`; E.164 and formatted phone numbers).

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use serde_json::{json, Map, Value};
use synthflow::model::{CallStatus, EndCallReason};
use synthflow::webhook::{Lead, PostCallWebhook, WebhookCall};

use super::Endpoint;

mod fields;
use fields::*;

/// Call statuses the webhook page lists that the get-call document does not.
pub const WEBHOOK_ONLY_STATUSES: &[&str] = &[
    "user-canceled",
    "hangup_on_voicemail",
    "left_voicemail",
    "spam",
    "paused",
    "registered",
];

/// End reasons the webhook page lists that the get-call document does not.
pub const WEBHOOK_ONLY_END_REASONS: &[&str] = &[
    "human_goodbye",
    "agent_goodbye",
    "max_duration",
    "user_canceled",
    "undefined",
];

/// Post-call members that are generated `null` (or absent) in some cases.
pub const NULLABLE_POST_CALL: &[&str] = &[
    "/collected_variables",
    "/executed_actions",
    "/analysis",
    "/error_message",
    "/lead",
    "/lead/name",
    "/lead/phone_number",
    "/lead/prompt_variables",
    "/call/end_call_reason",
    "/call/custom_end_call_reason",
    "/call/model_id",
    "/call/timezone",
    "/call/duration",
    "/call/start_time",
    "/call/transcript",
    "/status",
];

/// One generated case: a valid payload and the probes sent beside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Its index in the sequence.
    pub index: usize,
    /// A valid payload (the JSON value; the body is its serialisation).
    pub payload: Value,
    /// The same payload for another, fresh call: what the refusal probes send, so a receiver that
    /// wrongly accepts one acts on an id it never saw validly.
    pub probe: Value,
    /// A third identity: the "signature for another call id" probe is signed over it.
    pub other_identity: String,
    /// The malformed body sent with this case (`None` for a bodiless action).
    pub malformed: Option<MalformedKind>,
}

/// How a malformed body is made from a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MalformedKind {
    /// The serialised payload cut in half: not JSON.
    InvalidJson,
    /// No bytes at all.
    Empty,
    /// A JSON array instead of an object.
    NotAnObject,
    /// The object the endpoint reads (`call`, `call_inbound`) as a string.
    WrongTypes,
}

impl MalformedKind {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            MalformedKind::InvalidJson => "invalid JSON",
            MalformedKind::Empty => "empty body",
            MalformedKind::NotAnObject => "a JSON array",
            MalformedKind::WrongTypes => "wrong types",
        }
    }

    /// The malformed body for `payload` (its delivery's body, spoilt).
    pub fn body(self, endpoint: &Endpoint, body: &[u8]) -> Vec<u8> {
        match self {
            MalformedKind::InvalidJson => body[..body.len() / 2].to_vec(),
            MalformedKind::Empty => Vec::new(),
            MalformedKind::NotAnObject => b"[]".to_vec(),
            MalformedKind::WrongTypes => {
                let mut v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let key = match endpoint {
                    Endpoint::PostCall => "call",
                    Endpoint::Inbound => "call_inbound",
                    Endpoint::Action(_) => "call_id",
                };
                if let Some(o) = v.as_object_mut() {
                    let wrong = match key {
                        "call_id" => json!({"nested": true}),
                        _ => Value::String(key.to_owned()),
                    };
                    o.insert(key.to_owned(), wrong);
                }
                serde_json::to_vec(&v).unwrap_or_default()
            }
        }
    }

    fn for_case(endpoint: &Endpoint, i: usize) -> Option<MalformedKind> {
        let kinds: &[MalformedKind] = match endpoint {
            Endpoint::Action(spec) if !spec.has_body() => return None,
            Endpoint::Action(_) => &[
                MalformedKind::InvalidJson,
                MalformedKind::Empty,
                MalformedKind::NotAnObject,
            ],
            _ => &[
                MalformedKind::InvalidJson,
                MalformedKind::Empty,
                MalformedKind::NotAnObject,
                MalformedKind::WrongTypes,
            ],
        };
        Some(kinds[i % kinds.len()])
    }
}

/// The first `count` cases of `seed` for `endpoint`.
pub fn cases(endpoint: &Endpoint, seed: u64, count: usize) -> Vec<Case> {
    (0..count).map(|i| case(endpoint, seed, i)).collect()
}

/// Case `index` of `seed`.
pub fn case(endpoint: &Endpoint, seed: u64, index: usize) -> Case {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(index as u64).to_le_bytes());
    key[16..24].copy_from_slice(b"receiver");
    let mut rng = ChaCha8Rng::from_seed(key);
    let payload = match endpoint {
        Endpoint::PostCall => post_call(index, &mut rng),
        Endpoint::Inbound => inbound(index, &mut rng),
        Endpoint::Action(spec) => action(index, spec, &mut rng),
    };
    let fresh = |rng: &mut ChaCha8Rng| match endpoint {
        Endpoint::Inbound => phone(rng, 0),
        _ => call_id(rng),
    };
    let probe_id = fresh(&mut rng);
    let other_identity = fresh(&mut rng);
    Case {
        index,
        probe: endpoint.with_identity(&payload, &probe_id),
        payload,
        other_identity,
        malformed: MalformedKind::for_case(endpoint, index),
    }
}

/// Every post-call status the kit sends: the get-call document's, then the webhook page's extras.
pub fn statuses() -> Vec<String> {
    CallStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .chain(WEBHOOK_ONLY_STATUSES.iter().map(|s| (*s).to_owned()))
        .collect()
}

/// Every end reason the kit sends, likewise.
pub fn end_reasons() -> Vec<String> {
    EndCallReason::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .chain(WEBHOOK_ONLY_END_REASONS.iter().map(|s| (*s).to_owned()))
        .collect()
}

fn post_call(i: usize, rng: &mut ChaCha8Rng) -> Value {
    let statuses = statuses();
    let reasons = end_reasons();
    let status = CallStatus::from(statuses[i % statuses.len()].as_str());
    let reason = EndCallReason::from(reasons[i % reasons.len()].as_str());
    let model_id = format!("agent_{}", hex(rng, 10));
    let custom =
        (reason.as_str() == "custom_end_call").then(|| "Customer is being abusive".to_owned());
    let long = rng.random_bool(0.04);
    let mut prompt_variables = Map::new();
    prompt_variables.insert(
        "customer_name".into(),
        json!(pick(rng, &["Ada", "Ōsaka Tarō", "Zoë"])),
    );
    let typed = PostCallWebhook {
        status: Some(status.as_str().to_owned()),
        error_message: Some(if status.as_str() == "failed" {
            "carrier error 503".into()
        } else {
            String::new()
        }),
        lead: Some(Lead {
            name: Some(
                pick(
                    rng,
                    &["Ada Lovelace", "José Núñez", "李雷", "O'Brien \"Bob\""],
                )
                .to_owned(),
            ),
            phone_number: Some(any_phone(rng)),
            prompt_variables: Some(prompt_variables),
            extra: Map::new(),
        }),
        call: Some(WebhookCall {
            status: Some(status),
            end_call_reason: Some(reason),
            custom_end_call_reason: Some(custom),
            model_id: Some(model_id.clone()),
            timezone: Some(
                pick(
                    rng,
                    &[
                        "Europe/Berlin",
                        "America/New_York",
                        "Asia/Tokyo",
                        "UTC",
                        "America/Argentina/Buenos_Aires",
                    ],
                )
                .to_owned(),
            ),
            call_id: Some(call_id(rng)),
            duration: Some(rng.random_range(0..3_600)),
            start_time: Some(iso_time(rng)),
            transcript: Some(transcript(rng, long)),
            extra: Map::new(),
        }),
        executed_actions: Some(Some(executed_actions(rng))),
        collected_variables: Some(Some(collected_variables(rng, (i / 2) % 3, &model_id))),
        analysis: Some(Some(analysis(rng))),
        extra: Map::new(),
    };
    let mut v = serde_json::to_value(&typed).unwrap_or(Value::Null);
    // Duration in the other forms seen: a float and a string of digits.
    if let Some(d) = v.pointer_mut("/call/duration") {
        let n = d.as_i64().unwrap_or(0);
        match rng.random_range(0..8) {
            0 => *d = json!(n.to_string()),
            1 => *d = json!(n as f64 + 0.5),
            _ => {}
        }
    }
    // Coverage: every other case nulls the next nullable member; any may also be null or absent.
    if i % 2 == 1 {
        set_null(
            &mut v,
            NULLABLE_POST_CALL[(i / 2) % NULLABLE_POST_CALL.len()],
        );
    }
    for p in NULLABLE_POST_CALL {
        match rng.random_range(0..100) {
            0..=5 => set_null(&mut v, p),
            6..=9 => remove(&mut v, p),
            _ => {}
        }
    }
    if let Some(o) = v.as_object_mut() {
        add_unknown_members(rng, o, 0.3);
    }
    if let Some(Value::Object(call)) = v.get_mut("call") {
        if rng.random_bool(0.3) {
            call.insert("diversion".into(), Value::Null);
            call.insert("external_id".into(), json!(format!("ext-{}", hex(rng, 6))));
        }
        add_unknown_members(rng, call, 0.2);
    }
    v
}

fn inbound(i: usize, rng: &mut ChaCha8Rng) -> Value {
    let mut ci = Map::new();
    match i % 3 {
        0 => {
            ci.insert("model_id".into(), json!(format!("agent_{}", hex(rng, 10))));
        }
        1 => {
            ci.insert("model_id".into(), Value::Null);
        }
        _ => {}
    }
    ci.insert("from_number".into(), json!(any_phone(rng)));
    ci.insert("to_number".into(), json!(any_phone(rng)));
    add_unknown_members(rng, &mut ci, 0.2);
    let mut top = Map::new();
    top.insert("event".into(), json!("call_inbound"));
    top.insert("call_inbound".into(), Value::Object(ci));
    add_unknown_members(rng, &mut top, 0.2);
    Value::Object(top)
}

fn action(i: usize, spec: &super::ActionSpec, rng: &mut ChaCha8Rng) -> Value {
    let mut m = Map::new();
    m.insert("call_id".into(), json!(call_id(rng)));
    m.insert(
        "twilio_call_sid".into(),
        json!(format!("CA{}", hex(rng, 32))),
    );
    m.insert("to_phone_number".into(), json!(any_phone(rng)));
    m.insert("from_phone_number".into(), json!(any_phone(rng)));
    m.insert("user_phone_number".into(), json!(any_phone(rng)));
    for name in spec.placeholders() {
        if !m.contains_key(&name) {
            let v = match rng.random_range(0..6) {
                0 => json!(""),
                1 => {
                    let long = rng.random_bool(0.1);
                    json!(transcript(rng, long))
                }
                2 => json!(rng.random_range(0..100_000).to_string()),
                _ => json!(pick(rng, PHRASES)),
            };
            m.insert(name, v);
        }
    }
    // Coverage: a variable that was not collected arrives empty (null here).
    let names: Vec<String> = m.keys().filter(|k| *k != "call_id").cloned().collect();
    if i % 2 == 1 && !names.is_empty() {
        m.insert(names[(i / 2) % names.len()].clone(), Value::Null);
    }
    Value::Object(m)
}

fn split(pointer: &str) -> Option<(&str, &str)> {
    let at = pointer.rfind('/')?;
    Some((&pointer[..at], &pointer[at + 1..]))
}

fn set_null(v: &mut Value, pointer: &str) {
    if let Some(slot) = v.pointer_mut(pointer) {
        *slot = Value::Null;
    }
}

fn remove(v: &mut Value, pointer: &str) {
    if let Some((parent, key)) = split(pointer) {
        if let Some(Value::Object(o)) = v.pointer_mut(parent) {
            o.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_cases_walk_every_status_and_end_reason() {
        let cs = cases(&Endpoint::PostCall, 3, 40);
        for s in statuses() {
            assert!(
                cs.iter().any(|c| c.payload["call"]["status"] == json!(s)),
                "{s}"
            );
        }
        for r in end_reasons() {
            let seen = cs
                .iter()
                .any(|c| c.payload.pointer("/call/end_call_reason") == Some(&json!(r)));
            assert!(seen || r == "undefined" || cs.len() < 40, "{r}");
        }
    }

    #[test]
    fn every_nullable_member_is_null_in_some_case_and_present_in_another() {
        let cs = cases(&Endpoint::PostCall, 9, 200);
        for p in NULLABLE_POST_CALL {
            assert!(
                cs.iter()
                    .any(|c| c.payload.pointer(p) == Some(&Value::Null)),
                "null {p}"
            );
            assert!(
                cs.iter()
                    .any(|c| c.payload.pointer(p).is_some_and(|v| !v.is_null())),
                "present {p}"
            );
        }
    }

    #[test]
    fn payloads_decode_as_the_typed_webhook_and_keep_required_members() {
        let mut off_model_durations = 0;
        for c in cases(&Endpoint::PostCall, 5, 100) {
            // The typed model's `duration` is an integer; the string and float forms seen live
            // are sent on purpose, so take them out before decoding.
            let mut typed = c.payload.clone();
            if typed
                .pointer("/call/duration")
                .is_some_and(|d| !d.is_i64() && !d.is_null())
            {
                off_model_durations += 1;
                remove(&mut typed, "/call/duration");
            }
            let p: PostCallWebhook = serde_json::from_value(typed).expect("typed");
            assert!(p.call_id().is_some_and(|id| !id.is_empty()));
            for r in Endpoint::PostCall.required_fields() {
                assert!(c.payload.pointer(r).is_some_and(|v| !v.is_null()), "{r}");
            }
            assert_ne!(
                Endpoint::PostCall.signed_over(&c.probe),
                Endpoint::PostCall.signed_over(&c.payload)
            );
        }
        assert!(off_model_durations > 0);
    }

    #[test]
    fn both_collected_variables_shapes_and_long_transcripts_occur() {
        let cs = cases(&Endpoint::PostCall, 11, 200);
        let flat = cs.iter().any(|c| {
            c.payload["collected_variables"]
                .as_object()
                .is_some_and(|o| o.values().any(|v| v.get("collected").is_some()))
        });
        let nested = cs.iter().any(|c| {
            c.payload["collected_variables"]
                .as_object()
                .is_some_and(|o| o.keys().any(|k| k.starts_with("agent_")))
        });
        let long = cs.iter().any(|c| {
            c.payload["call"]["transcript"]
                .as_str()
                .is_some_and(|t| t.len() > 50_000)
        });
        assert!(
            flat && nested && long,
            "flat {flat} nested {nested} long {long}"
        );
    }
}
