//! Information extractors (`INFORMATION_EXTRACTOR` actions: `YES_NO`, `SINGLE_CHOICE`,
//! `OPEN_QUESTION`) as the post-call payload shows them: `executed_actions.{identifier}` with
//! `action_type: "extract_info_action_type"`, `parameters_hard_coded` and `return_value`
//! (the vendor's example: `"extract_info_1": {..., "return_value": {"purchase": "car"}}`).
//!
//! The values follow the call's transcript, so a receiver's extraction code sees answers that
//! agree with what was said: a `SINGLE_CHOICE` answers the first choice the transcript mentions
//! (else the first choice), an `OPEN_QUESTION` the first example it mentions (else the first
//! example, else the caller's first words), a `YES_NO` `true` when the call was answered by a
//! person and the transcript has a "yes", else `false`. A call nobody answered extracts nothing:
//! each entry has `return_value: null` and `error_message` saying so.

use serde_json::{json, Map, Value};

/// The `executed_actions` entries of the extractor `config` (the `INFORMATION_EXTRACTOR` object)
/// for a call whose transcript is `transcript` (`None`: not answered).
pub fn entries(config: &Value, transcript: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(obj) = config.as_object() else {
        return out;
    };
    for (kind, spec) in obj {
        let Some(identifier) = spec.get("identifier").and_then(Value::as_str) else {
            continue;
        };
        let description = spec
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let strings = |k: &str| -> Vec<String> {
            spec.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (choices, examples) = (strings("choices"), strings("examples"));
        let (value, error) = match transcript {
            None => (
                Value::Null,
                Some("the call was not answered: nothing to extract".to_owned()),
            ),
            Some(t) => (value_for(kind, t, &choices, &examples), None),
        };
        out.insert(
            identifier.to_owned(),
            json!({
                "name": identifier,
                "action_type": "extract_info_action_type",
                "description": description,
                "parameters_hard_coded": {
                    "identifier": identifier,
                    "condition": description,
                    "choices": choices,
                    "examples": examples,
                },
                "error_message": error,
                "return_value": if value.is_null() { Value::Null } else { json!({ identifier: value }) },
            }),
        );
    }
    out
}

fn value_for(kind: &str, transcript: &str, choices: &[String], examples: &[String]) -> Value {
    let lower = transcript.to_lowercase();
    let mentioned = |options: &[String]| {
        options
            .iter()
            .find(|o| !o.is_empty() && lower.contains(&o.to_lowercase()))
            .cloned()
    };
    match kind {
        "YES_NO" => Value::Bool(
            lower
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| matches!(w, "yes" | "yeah" | "sure" | "correct")),
        ),
        "SINGLE_CHOICE" => mentioned(choices)
            .or_else(|| choices.first().cloned())
            .map_or(Value::Null, Value::String),
        _ => mentioned(examples)
            .or_else(|| examples.first().cloned())
            .or_else(|| first_user_words(transcript))
            .map_or(Value::Null, Value::String),
    }
}

/// The caller's first line, a few words of it.
fn first_user_words(transcript: &str) -> Option<String> {
    let line = transcript
        .lines()
        .find_map(|l| l.strip_prefix("user:").or_else(|| l.strip_prefix("User:")))?;
    let words: Vec<&str> = line.split_whitespace().take(8).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extractor_entries_agree_with_the_transcript() {
        let config = json!({
            "SINGLE_CHOICE": {"identifier": "purchase", "description": "What do they buy?", "choices": ["bike", "car"]},
            "YES_NO": {"identifier": "wants_callback", "description": "Callback?"},
            "OPEN_QUESTION": {"identifier": "city", "examples": ["Berlin", "Paris"]}
        });
        let t = "assistant: Hello!\nuser: Yes, I want to buy a car in Paris.";
        let e = entries(&config, Some(t));
        assert_eq!(e["purchase"]["return_value"], json!({"purchase": "car"}));
        assert_eq!(e["purchase"]["action_type"], "extract_info_action_type");
        assert_eq!(
            e["purchase"]["parameters_hard_coded"]["choices"],
            json!(["bike", "car"])
        );
        assert_eq!(
            e["wants_callback"]["return_value"],
            json!({"wants_callback": true})
        );
        assert_eq!(e["city"]["return_value"], json!({"city": "Paris"}));
        assert!(e["city"]["error_message"].is_null());
        let none = entries(&config, None);
        assert!(none["purchase"]["return_value"].is_null());
        assert!(none["purchase"]["error_message"].is_string());
    }
}
