//! Properties every real answer of `GET /v2/calls/{call_id}` has, beyond what the schema can say.
//!
//! | name | rule |
//! |---|---|
//! | `envelope-status` | the envelope's `status` is `"ok"` (or a 2xx code) |
//! | `one-call` | `response.calls` holds exactly one record |
//! | `call-id-matches` | that record's `call_id` is the id that was asked for |
//! | `pagination` | counts are ≥ 0, `offset + len(calls) ≤ total_records`, `len(calls) ≤ limit` when `limit > 0` |
//! | `custom-reason-iff-custom-end` | `custom_end_call_reason` is a non-empty string exactly when `end_call_reason` is `custom_end_call` |
//! | `error-has-message` | `end_call_reason` `error` comes with a non-empty `error_message` |
//! | `times-parse` | `start_time` is unix ms in a string; telephony timestamps are ISO 8601 |
//! | `end-after-start` | `telephony_end ≥ telephony_start` when both are set |
//! | `durations-non-negative` | `duration`, `telephony_duration`, `telephony_ringing_duration` ≥ 0 |
//! | `live-call-not-ended` | a `pending`/`ringing`/`in-progress` call has no `telephony_end` and `duration` 0 |
//!
//! Each rule is phrased so that it holds of every record the live service is known to send; a rule
//! that a real record breaks is a finding (drift), not noise.

use crate::model::{Call, EndCallReason, GetCallResponse};

use super::{Violation, ViolationKind};

fn v(rule: &str, pointer: impl Into<String>, message: impl AsRef<str>) -> Violation {
    Violation::new(
        ViolationKind::Invariant,
        pointer,
        format!("{rule}: {}", message.as_ref()),
    )
}

/// Checks the envelope of `GET /v2/calls/{call_id}` and its one call.
pub fn check_get_call(env: &GetCallResponse, expected_call_id: Option<&str>) -> Vec<Violation> {
    let mut out = Vec::new();
    match &env.status {
        Some(s) if s.is_ok() => {}
        Some(s) => out.push(v(
            "envelope-status",
            "/status",
            format!("expected \"ok\", got {s:?}"),
        )),
        None => out.push(v("envelope-status", "/status", "missing")),
    }
    let calls = env.calls();
    if calls.len() != 1 {
        out.push(v(
            "one-call",
            "/response/calls",
            format!("expected exactly 1 call, got {}", calls.len()),
        ));
    }
    out.extend(check_pagination(env));
    if let (Some(want), Some(call)) = (expected_call_id, calls.first()) {
        if call.call_id.as_deref() != Some(want) {
            out.push(v(
                "call-id-matches",
                "/response/calls/0/call_id",
                format!("asked for {want:?}, got {:?}", call.call_id),
            ));
        }
    }
    for (i, call) in calls.iter().enumerate() {
        out.extend(check_call(call, &format!("/response/calls/{i}")));
    }
    out
}

/// Pagination agrees with the calls array.
pub fn check_pagination(env: &GetCallResponse) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(p) = env.response.as_ref().and_then(|r| r.pagination.as_ref()) else {
        return out;
    };
    let n = env.calls().len() as i64;
    for (name, value) in [
        ("total_records", p.total_records),
        ("limit", p.limit),
        ("offset", p.offset),
    ] {
        if value.is_some_and(|x| x < 0) {
            out.push(v(
                "pagination",
                format!("/response/pagination/{name}"),
                "must be ≥ 0",
            ));
        }
    }
    if let Some(total) = p.total_records {
        let offset = p.offset.unwrap_or(0);
        if offset + n > total {
            out.push(v(
                "pagination",
                "/response/pagination/total_records",
                format!("offset {offset} + {n} returned exceeds total_records {total}"),
            ));
        }
    }
    if let Some(limit) = p.limit.filter(|l| *l > 0) {
        if n > limit {
            out.push(v(
                "pagination",
                "/response/pagination/limit",
                format!("{n} calls returned, more than limit {limit}"),
            ));
        }
    }
    out
}

/// The rules on one call record; `at` is its JSON pointer.
pub fn check_call(call: &Call, at: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let is_custom = call.end_call_reason == Some(EndCallReason::CustomEndCall);
    let custom = call.custom_end_call_reason().filter(|s| !s.is_empty());
    if is_custom && custom.is_none() {
        out.push(v(
            "custom-reason-iff-custom-end",
            format!("{at}/custom_end_call_reason"),
            "end_call_reason is custom_end_call but custom_end_call_reason is empty",
        ));
    }
    if !is_custom && custom.is_some() {
        out.push(v(
            "custom-reason-iff-custom-end",
            format!("{at}/custom_end_call_reason"),
            format!(
                "set although end_call_reason is {:?}",
                call.end_call_reason.as_ref().map(|r| r.as_str())
            ),
        ));
    }
    if call.end_call_reason == Some(EndCallReason::Error)
        && call.error_message.as_deref().unwrap_or("").is_empty()
    {
        out.push(v(
            "error-has-message",
            format!("{at}/error_message"),
            "end_call_reason is error but error_message is empty",
        ));
    }
    if let Err(e) = call.start_time_millis() {
        out.push(v("times-parse", format!("{at}/start_time"), e.to_string()));
    }
    let start = call.telephony_start_time();
    let end = call.telephony_end_time();
    if let Err(e) = &start {
        out.push(v(
            "times-parse",
            format!("{at}/telephony_start"),
            e.to_string(),
        ));
    }
    if let Err(e) = &end {
        out.push(v(
            "times-parse",
            format!("{at}/telephony_end"),
            e.to_string(),
        ));
    }
    if let (Ok(Some(s)), Ok(Some(e))) = (&start, &end) {
        if e < s {
            out.push(v(
                "end-after-start",
                format!("{at}/telephony_end"),
                format!("telephony_end {e} is before telephony_start {s}"),
            ));
        }
    }
    for (name, value) in [
        ("duration", call.duration_seconds()),
        ("telephony_duration", call.telephony_duration),
        (
            "telephony_ringing_duration",
            call.telephony_ringing_duration,
        ),
    ] {
        if value.is_some_and(|x| x < 0) {
            out.push(v(
                "durations-non-negative",
                format!("{at}/{name}"),
                "must be ≥ 0",
            ));
        }
    }
    if call.status.as_ref().is_some_and(|s| s.is_live()) {
        if call.telephony_end.as_deref().is_some_and(|s| !s.is_empty()) {
            out.push(v(
                "live-call-not-ended",
                format!("{at}/telephony_end"),
                "a call that is still pending/ringing/in-progress has no end time",
            ));
        }
        if call.duration_seconds().unwrap_or(0) != 0 {
            out.push(v(
                "live-call-not-ended",
                format!("{at}/duration"),
                "a call that is still pending/ringing/in-progress has duration 0",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(json: serde_json::Value) -> Call {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn custom_reason_without_custom_end_is_flagged() {
        let c = call(serde_json::json!({"end_call_reason":"timeout","custom_end_call_reason":"x"}));
        let v = check_call(&c, "/c");
        assert_eq!(v.len(), 1);
        assert!(v[0].message.starts_with("custom-reason-iff-custom-end"));
    }

    #[test]
    fn custom_end_without_reason_is_flagged() {
        let c = call(
            serde_json::json!({"end_call_reason":"custom_end_call","custom_end_call_reason":null}),
        );
        assert_eq!(check_call(&c, "/c").len(), 1);
    }

    #[test]
    fn end_before_start_is_flagged() {
        let c = call(serde_json::json!({
            "telephony_start":"2025-10-09T14:03:21+00:00",
            "telephony_end":"2025-10-09T14:03:20+00:00"}));
        let v = check_call(&c, "/c");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].pointer, "/c/telephony_end");
    }

    #[test]
    fn in_progress_call_with_end_time_is_flagged() {
        let c = call(
            serde_json::json!({"status":"in-progress","telephony_end":"2025-10-09T14:03:20+00:00","duration":0}),
        );
        assert_eq!(check_call(&c, "/c").len(), 1);
    }

    #[test]
    fn consistent_completed_call_passes() {
        let c = call(serde_json::json!({
            "status":"completed","end_call_reason":"human_ended_call","custom_end_call_reason":null,
            "start_time":"1760018601512","duration":12,"telephony_duration":12000,
            "telephony_start":"2025-10-09T14:03:21.512000+00:00",
            "telephony_end":"2025-10-09T14:03:33.512000+00:00"}));
        assert_eq!(check_call(&c, "/c"), vec![]);
    }
}
