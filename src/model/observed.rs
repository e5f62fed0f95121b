//! Shapes the live service was seen sending that its document does not show, and the accessors
//! that read them.
//!
//! Integrators who called the live service recorded them (MAKE-CALL-AND-WEBHOOKS.md §2, the "[3P]"
//! lines; issue 15): `duration` as a string (`"25"`) in list items; `executed_actions[*]`'s
//! `return_value` and `parameters_hard_coded` as JSON-encoded strings; two key prefixes for
//! extractor actions (`extract_info_<id>`, `info_extractor_<id>`) with ids that may hold spaces;
//! `judge_results` values as strings (`"true"`, `"partial"`); Bubble-style call ids
//! (`1691579123700x31589864853004400`) beside UUIDs. The model keeps each as it came (so a record
//! re-encodes without loss) and these accessors give the typed value, so a client never fails
//! to decode a record over one of them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Call;

/// An integer the live service sometimes sends as a string (`duration: "25"` in list items). Kept
/// as it came; [`IntOrString::as_i64`] reads both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A JSON integer, as the document declares.
    Int(i64),
    /// A JSON string, as seen on the wire.
    Text(String),
}

impl IntOrString {
    /// The integer: the number, or the string's digits (`None` when the string is not one).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            IntOrString::Int(n) => Some(*n),
            IntOrString::Text(t) => t.trim().parse().ok(),
        }
    }

    /// Whether it came as a string.
    pub fn is_text(&self) -> bool {
        matches!(self, IntOrString::Text(_))
    }
}

impl From<i64> for IntOrString {
    fn from(n: i64) -> Self {
        IntOrString::Int(n)
    }
}

impl PartialEq<i64> for IntOrString {
    fn eq(&self, other: &i64) -> bool {
        self.as_i64() == Some(*other)
    }
}

/// The two key prefixes seen for extractor actions in `executed_actions`: `extract_info_` (older,
/// the 2024 webhook docs' example) and `info_extractor_` (the current API, [3P]).
pub const EXTRACTOR_PREFIXES: [&str; 2] = ["extract_info_", "info_extractor_"];

/// One entry of `executed_actions`: its key and its value, with the JSON-encoded strings decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExecutedAction<'a> {
    /// The key (`extract_info_1`, `info_extractor_Customer name`, `webhook_1`...).
    pub key: &'a str,
    /// The value as it came.
    pub raw: &'a Value,
}

impl<'a> ExecutedAction<'a> {
    /// The extractor's identifier when the key has one of [`EXTRACTOR_PREFIXES`] (spaces kept).
    pub fn extractor_id(&self) -> Option<&'a str> {
        EXTRACTOR_PREFIXES
            .iter()
            .find_map(|p| self.key.strip_prefix(p))
    }

    /// A string member (`name`, `action_type`, `description`, `error_message`).
    pub fn text(&self, member: &str) -> Option<&'a str> {
        self.raw.get(member).and_then(Value::as_str)
    }

    /// `return_value`, decoded when it came as a JSON-encoded string.
    pub fn return_value(&self) -> Option<Cow<'a, Value>> {
        self.raw.get("return_value").map(decode_embedded)
    }

    /// `parameters_hard_coded`, decoded when it came as a JSON-encoded string.
    pub fn parameters_hard_coded(&self) -> Option<Cow<'a, Value>> {
        self.raw.get("parameters_hard_coded").map(decode_embedded)
    }
}

/// A value that may be a JSON-encoded string of an object or array: decoded when it is one, as
/// it came otherwise (a plain string stays a string).
pub fn decode_embedded(v: &Value) -> Cow<'_, Value> {
    match v {
        Value::String(s) if is_embedded_json(s) => serde_json::from_str(s)
            .map(Cow::Owned)
            .unwrap_or(Cow::Borrowed(v)),
        _ => Cow::Borrowed(v),
    }
}

/// Whether `s` is a JSON-encoded object or array (what a JSON-encoded `return_value` holds).
pub fn is_embedded_json(s: &str) -> bool {
    let t = s.trim_start();
    (t.starts_with('{') || t.starts_with('['))
        && serde_json::from_str::<Value>(s).is_ok_and(|v| v.is_object() || v.is_array())
}

/// One value of `judge_results` (or the webhook's `analysis`): booleans, or the strings seen on the
/// wire (`"true"`, `"True"`, `"partial"`, `"not_applicable"`), read case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JudgeVerdict {
    /// `true` / `"true"`.
    True,
    /// `false` / `"false"`.
    False,
    /// `"partial"`.
    Partial,
    /// `"not_applicable"`.
    NotApplicable,
    /// `null`.
    Null,
    /// Anything else, kept (a `<name>_feedback` text, a new verdict).
    Other(Value),
}

impl JudgeVerdict {
    /// The verdict of one value.
    pub fn of(v: &Value) -> JudgeVerdict {
        match v {
            Value::Bool(true) => JudgeVerdict::True,
            Value::Bool(false) => JudgeVerdict::False,
            Value::Null => JudgeVerdict::Null,
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => JudgeVerdict::True,
                "false" => JudgeVerdict::False,
                "partial" => JudgeVerdict::Partial,
                "not_applicable" | "n/a" => JudgeVerdict::NotApplicable,
                _ => JudgeVerdict::Other(v.clone()),
            },
            _ => JudgeVerdict::Other(v.clone()),
        }
    }
}

/// Which of the two call-id formats an id has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallIdFormat {
    /// A UUID (`1c32a3b0-a45c-4d0c-b2b7-7cffd5d687a8`): newer calls.
    Uuid,
    /// Bubble-style (`1691579123700x31589864853004400`: 13-digit unix ms, `x`, digits): older
    /// calls and the docs' make-call example.
    Bubble,
    /// Neither: treat it as the opaque string it is.
    Other,
}

impl CallIdFormat {
    /// The format of `id`.
    pub fn of(id: &str) -> CallIdFormat {
        if is_bubble_id(id) {
            CallIdFormat::Bubble
        } else if is_uuid(id) {
            CallIdFormat::Uuid
        } else {
            CallIdFormat::Other
        }
    }
}

fn is_bubble_id(id: &str) -> bool {
    match id.split_once('x') {
        Some((ms, rest)) => {
            ms.len() == 13
                && !rest.is_empty()
                && ms.bytes().all(|b| b.is_ascii_digit())
                && rest.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Call {
    /// `duration` in seconds, whether it came as a number or as a string (`"25"`, seen in list
    /// items). `None` when absent or not an integer.
    pub fn duration_seconds(&self) -> Option<i64> {
        self.duration.as_ref().and_then(IntOrString::as_i64)
    }

    /// The entries of `executed_actions`, in order, with their JSON-encoded strings readable through
    /// [`ExecutedAction::return_value`] and [`ExecutedAction::parameters_hard_coded`].
    pub fn executed_actions_iter(&self) -> impl Iterator<Item = ExecutedAction<'_>> {
        self.executed_actions
            .iter()
            .flat_map(|m| m.iter())
            .map(|(key, raw)| ExecutedAction { key, raw })
    }

    /// `judge_results` (a list-item field, kept in `extra`), each value read as a verdict whether
    /// it came as a boolean or a string. `None` when absent or not an object.
    pub fn judge_results(&self) -> Option<Vec<(&str, JudgeVerdict)>> {
        let m = self.extra.get("judge_results")?.as_object()?;
        Some(
            m.iter()
                .map(|(k, v)| (k.as_str(), JudgeVerdict::of(v)))
                .collect(),
        )
    }

    /// The format of `call_id` (UUID or Bubble-style); `None` when absent.
    pub fn call_id_format(&self) -> Option<CallIdFormat> {
        self.call_id.as_deref().map(CallIdFormat::of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_id_formats() {
        assert_eq!(
            CallIdFormat::of("1691579123700x31589864853004400"),
            CallIdFormat::Bubble
        );
        assert_eq!(
            CallIdFormat::of("1c32a3b0-a45c-4d0c-b2b7-7cffd5d687a8"),
            CallIdFormat::Uuid
        );
        assert_eq!(CallIdFormat::of("abc"), CallIdFormat::Other);
        assert_eq!(CallIdFormat::of("169157912370x1"), CallIdFormat::Other);
    }

    #[test]
    fn embedded_json_is_decoded_and_plain_text_kept() {
        let v = Value::String(r#"{"purchase":"car"}"#.into());
        assert_eq!(decode_embedded(&v).into_owned()["purchase"], "car");
        let t = Value::String("{not json".into());
        assert_eq!(decode_embedded(&t).into_owned(), t);
        assert!(!is_embedded_json("\"quoted\""));
    }

    #[test]
    fn verdicts_read_booleans_and_strings_alike() {
        for (v, want) in [
            (Value::Bool(true), JudgeVerdict::True),
            (Value::String("True".into()), JudgeVerdict::True),
            (Value::String("false".into()), JudgeVerdict::False),
            (Value::String("partial".into()), JudgeVerdict::Partial),
            (Value::Null, JudgeVerdict::Null),
        ] {
            assert_eq!(JudgeVerdict::of(&v), want);
        }
    }
}
