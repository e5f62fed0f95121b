//! `generate --shapes extended`: the generated calls rewritten into the off-document shapes the
//! live service was seen sending (`synthflow::contract::shapes`; issue 15,
//! MAKE-CALL-AND-WEBHOOKS.md §2/§3 "[3P]"), so a client can be tested against what reality sends.
//!
//! A pure function of the generated set: the `i`-th call gets the shapes of `i % 4`, so any four
//! consecutive calls hold every shape, and every call holds at least one shape the contract
//! checks refuse without `--allow-out-of-spec` (a Bubble-style id alone is documented, so it comes
//! with a string `duration`). The default output (`--shapes document`) never passes through here.
//!
//! | `i % 4` | shapes |
//! |---|---|
//! | 0 | Bubble-style call id (`<start ms>x<17 digits>`), `duration` as a string |
//! | 1 | `executed_actions` with both extractor prefixes side by side, an id with a space, `return_value` and `parameters_hard_coded` as JSON-encoded strings |
//! | 2 | `judge_results` with string verdicts (`"true"`, `"True"`, `"partial"`...) |
//! | 3 | `duration` as a string, an `info_extractor_` action with JSON-encoded strings |

use serde_json::{json, Value};
use synthflow::model::IntOrString;
use synthflow::Call;

use super::{encode, GeneratedFile};

/// Rewrites each generated file into its off-document shapes (see the module table).
pub fn extend_shapes(files: Vec<GeneratedFile>) -> Vec<GeneratedFile> {
    files
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            let call = &mut f.call;
            match i % 4 {
                0 => {
                    bubble_id(call);
                    duration_as_text(call);
                }
                1 => {
                    extractor(call, "extract_info_1", "purchase", json!("car"));
                    let name = call.name.clone().unwrap_or_default();
                    extractor(
                        call,
                        "info_extractor_Customer name",
                        "Customer name",
                        json!(name),
                    );
                }
                2 => judge_results(call),
                _ => {
                    duration_as_text(call);
                    let tz = call.timezone.clone().unwrap_or_default();
                    extractor(call, "info_extractor_time zone", "time zone", json!(tz));
                }
            }
            f.id = call.call_id.clone().unwrap_or_default();
            f.body = encode(call);
            f.origin = format!("{} (extended)", f.origin);
            f
        })
        .collect()
}

fn duration_as_text(call: &mut Call) {
    if let Some(d) = call.duration_seconds() {
        call.duration = Some(IntOrString::Text(d.to_string()));
    }
}

/// `<13-digit start ms>x<17 digits>`, the digits drawn from the call's UUID, so the same call
/// always gets the same id; the recording URL follows the id.
fn bubble_id(call: &mut Call) {
    let Some(old) = call.call_id.clone() else {
        return;
    };
    let ms = call.start_time_millis().ok().flatten().unwrap_or(0);
    let hex: String = old.chars().filter(char::is_ascii_hexdigit).collect();
    let n = u128::from_str_radix(&hex, 16).unwrap_or(0) % 100_000_000_000_000_000;
    let new = format!("{ms:013}x{n:017}");
    if let Some(Some(url)) = &mut call.recording_url {
        *url = url.replace(&old, &new);
    }
    call.call_id = Some(new);
}

/// An extractor action as the live service sends it: `parameters_hard_coded` and `return_value`
/// JSON-encoded in strings.
fn extractor(call: &mut Call, key: &str, identifier: &str, value: Value) {
    let params = json!({"identifier": identifier, "condition": "", "choices": [], "examples": []});
    let action = json!({
        "name": key,
        "action_type": "extract_info_action_type",
        "description": format!("Extract: {identifier}"),
        "parameters_hard_coded": params.to_string(),
        "error_message": "",
        "return_value": json!({ identifier: value }).to_string(),
    });
    call.executed_actions
        .get_or_insert_with(Default::default)
        .insert(key.to_owned(), action);
}

/// `judge_results` with the verdicts as strings, each with its empty `<name>_feedback`.
fn judge_results(call: &mut Call) {
    let mut m = serde_json::Map::new();
    for (name, verdict) in [
        ("goal", "true"),
        ("persona", "True"),
        ("style", "partial"),
        ("call_summary", "true"),
        ("answered_by_human", "false"),
    ] {
        m.insert(name.into(), json!(verdict));
        m.insert(format!("{name}_feedback"), json!(""));
    }
    call.extra.insert("judge_results".into(), Value::Object(m));
}
