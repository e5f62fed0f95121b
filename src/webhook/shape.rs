//! What the post-call payload carries besides the call record, where the vendor's pages disagree
//! or say little: the shape of `collected_variables`, the numbers of the call, and `analysis`.
//!
//! - **`collected_variables`**: the webhooks page shows it **flat**, keyed by variable name, with
//!   only the entries whose `collected` is true (`{"user_name": {"value": "Julian", "collected":
//!   true}}`); the API changelog (2026-02-04) nests it by agent id (`{"<model_id>": {"user_name":
//!   {...}}}`), which is how the `GET` record keeps it. [`CollectedShape::Flat`] is the default
//!   (the page a receiver's author reads); [`CollectedShape::ByAgent`] sends the record's nesting.
//! - **numbers**: `lead.phone_number` is the person called (or calling, inbound), as the docs'
//!   example shows; the call object also carries `from_number` and `to_number` (the inbound
//!   webhook's names), so a receiver that reads either form finds them.
//! - **`analysis`**: the automated quality checks. A record with `judge_results` gives them as
//!   they are; otherwise a *completed* call gets every documented field, each `"true"`,
//!   `"false"`, `"partial"` (only where the docs allow it) or `"not_applicable"`, with its
//!   `_feedback` companion (empty when met or not applicable), chosen from the call id so the same
//!   call always gets the same analysis; any other call gets `null`.

use serde_json::{Map, Value};

use crate::model::JsonObject;

/// The shape of `collected_variables` in the payload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CollectedShape {
    /// By variable name, only the collected ones (the webhooks page).
    #[default]
    Flat,
    /// By agent id, then variable name, as the record keeps them (the API changelog).
    ByAgent,
}

impl std::str::FromStr for CollectedShape {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "flat" => Ok(CollectedShape::Flat),
            "by-agent" | "by_agent" => Ok(CollectedShape::ByAgent),
            other => Err(format!("{other:?}: expected flat or by-agent")),
        }
    }
}

impl std::fmt::Display for CollectedShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CollectedShape::Flat => "flat",
            CollectedShape::ByAgent => "by-agent",
        })
    }
}

/// How a payload is built from a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PayloadOptions {
    /// See [`CollectedShape`].
    pub collected_variables: CollectedShape,
}

/// `collected_variables` of the record (by agent id) in `shape`.
pub fn collected(by_agent: Value, shape: CollectedShape) -> Value {
    match shape {
        CollectedShape::ByAgent => by_agent,
        CollectedShape::Flat => {
            let Value::Object(agents) = by_agent else {
                return by_agent;
            };
            let mut flat = Map::new();
            for (_, vars) in agents {
                let Value::Object(vars) = vars else { continue };
                for (name, v) in vars {
                    if v.get("collected").and_then(Value::as_bool) == Some(true) {
                        flat.insert(name, v);
                    }
                }
            }
            Value::Object(flat)
        }
    }
}

/// The documented analysis fields; `true` where the field may also be `partial`.
pub const ANALYSIS_FIELDS: [(&str, bool); 16] = [
    ("persona", true),
    ("style", true),
    ("steps", true),
    ("no_repetition", false),
    ("objections", true),
    ("objection_not_defined", false),
    ("knowledge", true),
    ("goal", true),
    ("appointment", false),
    ("user_sentiment", false),
    ("agent_sentiment", false),
    ("call_completion", false),
    ("answered_by_human", false),
    ("opted_in", false),
    ("no_opt_out", false),
    ("call_summary", false),
];

/// A completed call's analysis, chosen from its id (FNV-1a: the same id, the same analysis).
pub fn analysis_for(call_id: &str) -> JsonObject {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in call_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = JsonObject::new();
    let mut partial_or_error = false;
    let mut full_error = false;
    let mut feedback_all = Vec::new();
    for (i, (field, may_be_partial)) in ANALYSIS_FIELDS.iter().enumerate() {
        let pick = (h >> ((i * 4) % 60)) & 0xf;
        let value = match pick {
            0..=9 => "true",
            10 | 11 if *may_be_partial => "partial",
            10 | 11 => "true",
            12 | 13 => "false",
            _ => "not_applicable",
        };
        let feedback = match value {
            "partial" => format!("{field}: partly met; the agent missed a step"),
            "false" => format!("{field}: not met"),
            _ => String::new(),
        };
        partial_or_error |= value == "partial" || value == "false";
        full_error |= value == "false";
        if !feedback.is_empty() {
            feedback_all.push(feedback.clone());
        }
        out.insert((*field).to_owned(), Value::String(value.to_owned()));
        out.insert(format!("{field}_feedback"), Value::String(feedback));
    }
    out.insert(
        "judge_found_partial_or_error".into(),
        Value::Bool(partial_or_error),
    );
    out.insert("judge_found_full_error".into(), Value::Bool(full_error));
    out.insert(
        "all_feedback".into(),
        Value::String(feedback_all.join("; ")),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_keeps_only_collected_entries_of_every_agent() {
        let by_agent = json!({"m-1": {"a": {"value": 1, "collected": true},
                                       "b": {"value": null, "collected": false}},
                              "m-2": {"c": {"value": "x", "collected": true}}});
        assert_eq!(
            collected(by_agent.clone(), CollectedShape::Flat),
            json!({"a": {"value": 1, "collected": true}, "c": {"value": "x", "collected": true}})
        );
        assert_eq!(
            collected(by_agent.clone(), CollectedShape::ByAgent),
            by_agent
        );
        assert_eq!(collected(Value::Null, CollectedShape::Flat), Value::Null);
    }

    #[test]
    fn an_analysis_has_every_documented_field_with_its_feedback_and_is_stable() {
        let a = analysis_for("c-1");
        for (f, partial) in ANALYSIS_FIELDS {
            let v = a[f].as_str().unwrap();
            assert!(
                ["true", "false", "not_applicable"].contains(&v) || (partial && v == "partial")
            );
            assert!(a[&format!("{f}_feedback")].is_string());
        }
        assert_eq!(a, analysis_for("c-1"));
        assert!(a["judge_found_full_error"].is_boolean());
    }
}
