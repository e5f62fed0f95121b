//! Field values for generated payloads: ids, phone numbers in the forms seen, transcripts
//! (unicode, very long), times, collected variables in both shapes, executed actions, analysis and
//! unknown extra members. Every function draws only from the case's own ChaCha8 stream.

use rand::rngs::ChaCha8Rng;
use rand::RngExt;
use serde_json::{json, Map, Value};

pub(super) fn pick<'a>(rng: &mut ChaCha8Rng, items: &'a [&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

pub(super) fn hex(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.random_range(0..16u32), 16).unwrap_or('0'))
        .collect()
}

/// A call id: a UUID v4 mostly, sometimes a Bubble-style id (`1700000000000x123...`).
pub(super) fn call_id(rng: &mut ChaCha8Rng) -> String {
    if rng.random_bool(0.15) {
        let ms: u64 = rng.random_range(1_600_000_000_000..1_800_000_000_000);
        let tail: u64 = rng.random_range(100_000_000_000_000_000..999_999_999_999_999_999);
        return format!("{ms}x{tail}");
    }
    let variant = ['8', '9', 'a', 'b'][rng.random_range(0..4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// A phone number: E.164 mostly; `form` 1 drops the `+`, 2 formats with spaces.
pub(super) fn phone(rng: &mut ChaCha8Rng, form: u32) -> String {
    let area = rng.random_range(201..990u32);
    let line = rng.random_range(2_000_000..9_999_999u32);
    match form {
        1 => format!("1{area}{line}"),
        2 => format!("+1 {area} {} {}", line / 10_000, line % 10_000),
        _ => format!("+1{area}{line}"),
    }
}

pub(super) fn any_phone(rng: &mut ChaCha8Rng) -> String {
    let form = match rng.random_range(0..10) {
        0 => 1,
        1 => 2,
        _ => 0,
    };
    phone(rng, form)
}

pub(super) const PHRASES: &[&str] = &[
    "Hello, this is Ava from Acme Dental.",
    "Yes, Tuesday at 3 works for me.",
    "Grüß Gott, können Sie mich zurückrufen?",
    "こんにちは、予約を確認したいです。",
    "مرحبا، أريد تغيير موعدي",
    "Thanks! 😀👍🏽 See you then.",
    "He said \"call me back\" \\ later.",
    "e\u{301}te\u{301} — zero\u{200b}width and tab\there",
    "Можно перенести на завтра?",
    "I'd like to cancel order #A-1093.",
    "",
];

pub(super) fn transcript(rng: &mut ChaCha8Rng, long: bool) -> String {
    let turns = if long {
        rng.random_range(2_000..4_000)
    } else {
        rng.random_range(1..12)
    };
    let mut t = String::new();
    for k in 0..turns {
        t.push_str(if k % 2 == 0 { "\nbot: " } else { "\nhuman: " });
        t.push_str(pick(rng, PHRASES));
    }
    t
}

pub(super) fn iso_time(rng: &mut ChaCha8Rng) -> String {
    let (y, mo, d) = (
        rng.random_range(2024..2027),
        rng.random_range(1..13),
        rng.random_range(1..29),
    );
    let (h, mi, s) = (
        rng.random_range(0..24),
        rng.random_range(0..60),
        rng.random_range(0..60),
    );
    match rng.random_range(0..3) {
        0 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
        1 => format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}+00:00",
            rng.random_range(0..1000)
        ),
        _ => format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}{:02}:00",
            if rng.random_bool(0.5) { '+' } else { '-' },
            rng.random_range(0..12)
        ),
    }
}

pub(super) fn variable_value(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..6) {
        0 => json!(rng.random_range(0..10_000)),
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random_range(0..100_000) as f64 / 100.0),
        _ => json!(pick(rng, PHRASES)),
    }
}

pub(super) const VARIABLE_NAMES: &[&str] = &[
    "user_name",
    "order_id",
    "appointment_time",
    "email",
    "zip_code",
    "wants_callback",
];

pub(super) fn variables(rng: &mut ChaCha8Rng) -> Map<String, Value> {
    let mut m = Map::new();
    for _ in 0..rng.random_range(0..4) {
        let name = pick(rng, VARIABLE_NAMES).to_owned();
        m.insert(
            name,
            json!({"value": variable_value(rng), "collected": true}),
        );
    }
    m
}

/// `collected_variables` in one of the documented shapes: 0 flat, 1 keyed by agent id, 2 empty.
pub(super) fn collected_variables(rng: &mut ChaCha8Rng, shape: usize, model_id: &str) -> Value {
    match shape {
        0 => Value::Object(variables(rng)),
        1 => {
            let mut by_agent = Map::new();
            by_agent.insert(model_id.to_owned(), Value::Object(variables(rng)));
            if rng.random_bool(0.2) {
                by_agent.insert(
                    format!("agent_{}", hex(rng, 6)),
                    Value::Object(variables(rng)),
                );
            }
            Value::Object(by_agent)
        }
        _ => json!({}),
    }
}

pub(super) fn executed_actions(rng: &mut ChaCha8Rng) -> Map<String, Value> {
    let mut m = Map::new();
    if rng.random_bool(0.6) {
        let failed = rng.random_bool(0.2);
        m.insert(
            "extract_info_1".into(),
            json!({
                "name": "extract_info_1",
                "action_type": "extract_info_action_type",
                "description": "What does the caller want to buy?",
                "parameters_hard_coded": {
                    "identifier": "purchase",
                    "condition": "The caller names a product",
                    "choices": ["car", "bike", "boat"],
                    "examples": ["I want a car"]
                },
                "error_message": if failed { json!("extraction failed") } else { json!("") },
                "return_value": if failed { json!({}) } else { json!({"purchase": pick(rng, &["car", "bike", "boat"])}) }
            }),
        );
    }
    if rng.random_bool(0.5) {
        let name = format!("check_order_{}", rng.random_range(1..4));
        m.insert(
            name.clone(),
            json!({
                "name": name,
                "action_type": "custom_action",
                "description": "Look up an order's status",
                "error_message": if rng.random_bool(0.2) { json!("timeout after 10s") } else { Value::Null },
                "return_value": {"status": pick(rng, &["shipped", "pending", "lost"]), "eta_days": rng.random_range(0..9)}
            }),
        );
    }
    m
}

pub(super) const ANALYSIS_FIELDS: &[&str] = &[
    "persona",
    "style",
    "steps",
    "goal",
    "user_sentiment",
    "call_completion",
    "answered_by_human",
    "call_summary",
];

pub(super) fn analysis(rng: &mut ChaCha8Rng) -> Map<String, Value> {
    let mut m = Map::new();
    for f in ANALYSIS_FIELDS {
        let v = match rng.random_range(0..5) {
            0 => json!(true),
            1 => json!(false),
            2 => json!("partial"),
            3 => json!("not_applicable"),
            _ => Value::Null,
        };
        let fb = if v == json!(true) || v.is_null() {
            String::new()
        } else {
            pick(rng, PHRASES).to_owned()
        };
        m.insert((*f).to_owned(), v);
        m.insert(format!("{f}_feedback"), json!(fb));
    }
    m
}

pub(super) fn unknown_value(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..5) {
        0 => Value::Null,
        1 => json!(rng.random_range(-5..1_000_000)),
        2 => json!({"nested": {"deeper": [1, "two", null]}}),
        3 => json!([pick(rng, PHRASES)]),
        _ => json!(pick(rng, PHRASES)),
    }
}

pub(super) fn add_unknown_members(rng: &mut ChaCha8Rng, o: &mut Map<String, Value>, p: f64) {
    while rng.random_bool(p) {
        let key = format!("x_{}", hex(rng, 5));
        let value = unknown_value(rng);
        o.insert(key, value);
    }
}
