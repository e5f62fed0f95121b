//! Off-document shapes: values the live service was seen sending in a shape its document does not
//! show (issue 15; MAKE-CALL-AND-WEBHOOKS.md §2 and §3, the "[3P]" lines), each recognised by name.
//!
//! The contract checks report each as [`ViolationKind::OutOfSpec`](super::ViolationKind) (so
//! `--allow-out-of-spec` accepts them and nothing else), and the drift report names each
//! (`off-document-shape`). The typed model decodes them all ([`crate::model::IntOrString`],
//! [`crate::model::ExecutedAction`], [`crate::model::JudgeVerdict`]).
//!
//! | shape | where | refused without the flag |
//! |---|---|---|
//! | `duration-as-string` | `calls/*/duration` is a string of an integer, `"25"` (`"n/a"` stays a schema error) | yes (the schema says integer) |
//! | `return-value-as-json-string` | `executed_actions/*/return_value` is a JSON-encoded object or array | yes |
//! | `parameters-hard-coded-as-json-string` | `executed_actions/*/parameters_hard_coded` likewise | yes |
//! | `extractor-key-extract_info` | an `executed_actions` key `extract_info_<id>` | yes |
//! | `extractor-key-info_extractor` | an `executed_actions` key `info_extractor_<id>` | yes |
//! | `action-key-with-spaces` | an `executed_actions` key with a space (`info_extractor_Customer name`) | yes |
//! | `judge-results-as-strings` | `judge_results` values `"true"`, `"partial"`... | yes |
//! | `bubble-call-id` | `call_id` `1691579123700x31589864853004400` | no: the vendor documents both id formats (make-call docs) and the schema says string |

use serde_json::Value;

use super::pointer_token;
use crate::model::{is_embedded_json, CallIdFormat};

/// One off-document shape found in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Its name (the table above).
    pub name: &'static str,
    /// JSON pointer into the body.
    pub pointer: String,
    /// Schema path: the pointer with `*` for array items and map keys.
    pub path: String,
    /// Whether the contract checks refuse it without `--allow-out-of-spec`.
    pub refused: bool,
}

impl Shape {
    /// What the contract checks and the drift report say of it.
    pub fn describe(&self) -> String {
        let what = match self.name {
            "duration-as-string" => "duration as a string, seen live in list items",
            "return-value-as-json-string" => "return_value as a JSON-encoded string, seen live",
            "parameters-hard-coded-as-json-string" => {
                "parameters_hard_coded as a JSON-encoded string, seen live"
            }
            "extractor-key-extract_info" => "extractor action key extract_info_<id> (older prefix)",
            "extractor-key-info_extractor" => {
                "extractor action key info_extractor_<id> (current prefix)"
            }
            "action-key-with-spaces" => "action key with spaces in its id",
            "judge-results-as-strings" => "judge_results values as strings, seen live",
            "bubble-call-id" => "Bubble-style call id, beside UUIDs",
            _ => "off-document shape",
        };
        format!("{}: {what}", self.name)
    }
}

/// Every off-document shape of a 200 body (`{status, response: {calls: [..]}}`).
pub fn detect(body: &Value) -> Vec<Shape> {
    let mut out = Vec::new();
    let Some(calls) = body.pointer("/response/calls").and_then(Value::as_array) else {
        return out;
    };
    for (i, call) in calls.iter().enumerate() {
        let at = format!("/response/calls/{i}");
        let star = "/response/calls/*";
        let mut add = |name, pointer: String, path: String, refused| {
            out.push(Shape {
                name,
                pointer,
                path,
                refused,
            })
        };
        // Only a string of an integer ("25"): any other string stays a plain schema error.
        if call
            .get("duration")
            .and_then(Value::as_str)
            .is_some_and(|d| d.trim().parse::<i64>().is_ok())
        {
            add(
                "duration-as-string",
                format!("{at}/duration"),
                format!("{star}/duration"),
                true,
            );
        }
        if call
            .get("call_id")
            .and_then(Value::as_str)
            .is_some_and(|id| CallIdFormat::of(id) == CallIdFormat::Bubble)
        {
            add(
                "bubble-call-id",
                format!("{at}/call_id"),
                format!("{star}/call_id"),
                false,
            );
        }
        if let Some(actions) = call.get("executed_actions").and_then(Value::as_object) {
            for (key, action) in actions {
                let p = format!("{at}/executed_actions/{}", pointer_token(key));
                let s = format!("{star}/executed_actions/*");
                for (prefix, name) in [
                    ("extract_info_", "extractor-key-extract_info"),
                    ("info_extractor_", "extractor-key-info_extractor"),
                ] {
                    if key.starts_with(prefix) {
                        add(name, p.clone(), s.clone(), true);
                    }
                }
                if key.contains(' ') {
                    add("action-key-with-spaces", p.clone(), s.clone(), true);
                }
                for (member, name) in [
                    ("return_value", "return-value-as-json-string"),
                    (
                        "parameters_hard_coded",
                        "parameters-hard-coded-as-json-string",
                    ),
                ] {
                    if action
                        .get(member)
                        .and_then(Value::as_str)
                        .is_some_and(is_embedded_json)
                    {
                        add(name, format!("{p}/{member}"), format!("{s}/{member}"), true);
                    }
                }
            }
        }
        if let Some(judge) = call.get("judge_results").and_then(Value::as_object) {
            let strings = judge.iter().any(|(k, v)| {
                !k.ends_with("_feedback")
                    && v.as_str().is_some_and(|s| {
                        matches!(
                            s.trim().to_ascii_lowercase().as_str(),
                            "true" | "false" | "partial" | "not_applicable"
                        )
                    })
            });
            if strings {
                add(
                    "judge-results-as-strings",
                    format!("{at}/judge_results"),
                    format!("{star}/judge_results"),
                    true,
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_shape_is_named_once_where_it_is() {
        let body = json!({"status":"ok","response":{"calls":[{
            "call_id":"1691579123700x31589864853004400",
            "duration":"25",
            "executed_actions":{
                "info_extractor_Customer name":{"return_value":"{\"name\":\"Ann\"}",
                    "parameters_hard_coded":"{\"identifier\":\"Customer name\"}"},
                "extract_info_1":{"return_value":{"purchase":"car"}}
            },
            "judge_results":{"goal":"true","style":"partial","goal_feedback":""}
        }]}});
        let names: Vec<&str> = detect(&body).iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "duration-as-string",
                "bubble-call-id",
                "extractor-key-info_extractor",
                "action-key-with-spaces",
                "return-value-as-json-string",
                "parameters-hard-coded-as-json-string",
                "extractor-key-extract_info",
                "judge-results-as-strings",
            ]
        );
    }

    #[test]
    fn document_shapes_are_not_named() {
        let body = json!({"status":"ok","response":{"calls":[{
            "call_id":"1c32a3b0-a45c-4d0c-b2b7-7cffd5d687a8","duration":25,
            "executed_actions":{"webhook_1":{"return_value":"ok"}},
            "telephony_duration":"n/a",
            "judge_results":{"goal":true}
        }]}});
        assert_eq!(detect(&body), vec![]);
    }
}
