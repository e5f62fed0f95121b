//! What a set of fixtures exercises: every value of every enum, each nullable field both `null` and
//! set, and the edge cases integrators trip on. The fixture suite fails when an item goes missing,
//! and the generator's `--coverage` prints this table.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{
    Call, CallStatus, EndCallReason, TelephonyDisconnectReason, TelephonyHangup, TypeOfCall,
};

pub use crate::model::LONG_TRANSCRIPT_BYTES;

/// Coverage items → the ids of the calls that exercise them (empty: not covered).
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    items: BTreeMap<String, Vec<String>>,
}

impl Coverage {
    /// Every item, none covered yet.
    pub fn new() -> Self {
        let mut items = BTreeMap::new();
        for name in required_items() {
            items.insert(name, Vec::new());
        }
        Coverage { items }
    }

    /// Records what one call exercises.
    pub fn add(&mut self, call: &Call) {
        let id = call.call_id.clone().unwrap_or_default();
        for item in items_of(call) {
            // Values outside the spec are listed too, so the table shows them; they are not required.
            self.items.entry(item).or_default().push(id.clone());
        }
    }

    /// The items no call exercises.
    pub fn missing(&self) -> Vec<&str> {
        let required = required_items();
        self.items
            .iter()
            .filter(|(k, v)| v.is_empty() && required.contains(k))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Item → covering call ids.
    pub fn items(&self) -> &BTreeMap<String, Vec<String>> {
        &self.items
    }

    /// Share of required items covered, in percent.
    pub fn percent(&self) -> f64 {
        let required = required_items().len();
        100.0 * (required - self.missing().len()) as f64 / required as f64
    }
}

/// Every item a complete fixture set covers.
pub fn required_items() -> Vec<String> {
    let mut v = Vec::new();
    v.extend(
        EndCallReason::ALL
            .iter()
            .map(|x| format!("end_call_reason={x}")),
    );
    v.extend(TypeOfCall::ALL.iter().map(|x| format!("type_of_call={x}")));
    v.extend(
        TelephonyHangup::ALL
            .iter()
            .map(|x| format!("telephony_hangup={x}")),
    );
    v.extend(
        TelephonyDisconnectReason::ALL
            .iter()
            .map(|x| format!("telephony_disconnect_reason={x}")),
    );
    v.extend(CallStatus::ALL.iter().map(|x| format!("status={x}")));
    for field in [
        "recording_url",
        "custom_end_call_reason",
        "collected_variables",
        "collected_variables.*.*.value",
    ] {
        v.push(format!("{field}=null"));
        v.push(format!("{field}=set"));
    }
    for item in [
        "error call with error_message",
        "live call without end time",
        "transcript empty",
        "transcript very long",
        "non-ASCII text",
        "executed_actions empty",
        "executed_actions nested",
        "prompt_variables empty",
        "prompt_variables nested",
        "member not in the document",
    ] {
        v.push(item.to_owned());
    }
    v
}

fn items_of(call: &Call) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(x) = &call.end_call_reason {
        out.push(format!("end_call_reason={x}"));
    }
    if let Some(x) = &call.type_of_call {
        out.push(format!("type_of_call={x}"));
    }
    if let Some(x) = &call.telephony_hangup {
        out.push(format!("telephony_hangup={x}"));
    }
    if let Some(x) = &call.telephony_disconnect_reason {
        out.push(format!("telephony_disconnect_reason={x}"));
    }
    if let Some(x) = &call.status {
        out.push(format!("status={x}"));
    }
    let null_or_set = |name: &str, field: &Option<Option<_>>| -> Option<String> {
        field.as_ref().map(|inner: &Option<_>| {
            format!("{name}={}", if inner.is_some() { "set" } else { "null" })
        })
    };
    out.extend(null_or_set(
        "recording_url",
        &call.recording_url.as_ref().map(|o| o.as_ref().map(|_| ())),
    ));
    out.extend(null_or_set(
        "custom_end_call_reason",
        &call
            .custom_end_call_reason
            .as_ref()
            .map(|o| o.as_ref().map(|_| ())),
    ));
    out.extend(null_or_set(
        "collected_variables",
        &call
            .collected_variables
            .as_ref()
            .map(|o| o.as_ref().map(|_| ())),
    ));
    for var in call
        .collected_variables()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|m| m.values())
    {
        out.extend(null_or_set(
            "collected_variables.*.*.value",
            &var.value.as_ref().map(|o| o.as_ref().map(|_| ())),
        ));
    }
    if call.end_call_reason == Some(EndCallReason::Error)
        && call.error_message.as_deref().is_some_and(|m| !m.is_empty())
    {
        out.push("error call with error_message".into());
    }
    if call.status.as_ref().is_some_and(CallStatus::is_live) && call.telephony_end.is_none() {
        out.push("live call without end time".into());
    }
    match call.transcript.as_deref() {
        Some("") => out.push("transcript empty".into()),
        Some(t) if t.len() >= LONG_TRANSCRIPT_BYTES => out.push("transcript very long".into()),
        _ => {}
    }
    let texts = [&call.name, &call.transcript];
    if texts
        .iter()
        .any(|t| t.as_deref().is_some_and(|s| !s.is_ascii()))
    {
        out.push("non-ASCII text".into());
    }
    for (name, obj) in [
        ("executed_actions", &call.executed_actions),
        ("prompt_variables", &call.prompt_variables),
    ] {
        if let Some(o) = obj {
            if o.is_empty() {
                out.push(format!("{name} empty"));
            } else if o
                .values()
                .any(|v| matches!(v, Value::Object(_) | Value::Array(_)))
            {
                out.push(format!("{name} nested"));
            }
        }
    }
    if !call.extra.is_empty() {
        out.push("member not in the document".into());
    }
    out
}
