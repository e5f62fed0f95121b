//! `GET /v2/calls`: the list endpoint, over the same fixtures.
//!
//! The index is derived once per fixture set (lazily, on the first list request) from the parsed
//! fixtures: one compact JSON list item per call, newest `start_time` first (ties by call id), so a
//! page is a filter over the sorted items and a concatenation of pre-encoded items. The items are
//! a persistent ordered map (`imbl::OrdMap`): a made call (`POST /v2/calls`) is added to an index
//! already derived with [`ListIndex::changed`] in O(log n) (and the call it evicts removed), so the
//! fixture part is never parsed again for it.
//!
//! A list item is the call record of the fixture plus the list-only fields that can be derived
//! from it (NOTES.md): `call_status` (= `status`), `lead_name` (= `name`), `lead_phone_number` (the
//! caller of an inbound call, the callee otherwise), `agent_phone_number` (the other number),
//! `labels` (`[]`). Fields the fixtures cannot answer (`judge_results`, `agents_used`,
//! `deployment_type`, `recording_duration`) are left out.
//!
//! Query parameters (NOTES.md): `model_id` (required, exact match), `limit` (1..=100, default 20),
//! `offset` (≥ 0, default 0), `from_date` / `to_date` (epoch ms, or an ISO 8601 date or date-time
//! as integrators saw the live service accept; `from_date` inclusive, `to_date` exclusive, on
//! `start_time`), `call_status` (exact; a comma-separated list matches any), `duration_min` /
//! `duration_max` (seconds, inclusive, on `duration`), `lead_phone_number` (E.164, exact).
//! `action_id` and `include_all_actions` are checked for form and not applied (the fixtures'
//! `executed_actions` do not say which action ran). Unknown parameters are ignored, as the live
//! service ignores them; [`unknown_params`] names them so the answer's log can say so.
//!
//! Refusals: where a source shows the live wording and category (only an out-of-range `limit`:
//! "Limit must be between 1 and 100.", category `important`, an integrator's observation in
//! MAKE-CALL-AND-WEBHOOKS.md §1 and §3) the mock says exactly that; the others keep the mock's own
//! wording under the stored 400 (`errors/400-query.json`), since no source shows them
//! (docs/fidelity.md).

use std::cmp::Reverse;
use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::store::{Fixture, Store};

/// Why a list query is refused: the reason its 400 body gives, and the `category` when a source
/// shows the live one (else the stored body's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct BadListQuery {
    /// `detail.description`.
    pub description: String,
    /// `detail.category`, when it is not the stored one.
    pub category: Option<&'static str>,
}

impl From<String> for BadListQuery {
    fn from(description: String) -> Self {
        BadListQuery {
            description,
            category: None,
        }
    }
}

/// The live answer to an out-of-range `limit` (an integrator's observation, MAKE-CALL-AND-WEBHOOKS.md
/// §1 "400 response" and §3).
pub const LIMIT_OUT_OF_RANGE: &str = "Limit must be between 1 and 100.";
/// The `category` of that answer.
pub const LIMIT_CATEGORY: &str = "important";

/// The parameters the list endpoint reads; any other is ignored (and named in the log).
pub const KNOWN_PARAMS: &[&str] = &[
    "model_id",
    "limit",
    "offset",
    "from_date",
    "to_date",
    "call_status",
    "duration_min",
    "duration_max",
    "lead_phone_number",
    "action_id",
    "include_all_actions",
];

/// The distinct parameter names of `pairs` the list endpoint does not read, in order.
pub fn unknown_params(pairs: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (k, _) in pairs {
        if !KNOWN_PARAMS.contains(&k.as_str()) && !out.contains(k) {
            out.push(k.clone());
        }
    }
    out
}

/// A date bound: epoch milliseconds, or an ISO 8601 date (`2025-10-14`, midnight UTC) or date-time
/// (`2025-10-14T20:11:36Z`, with an offset, or without one: UTC), as unix milliseconds.
pub fn parse_date(v: &str) -> Option<i64> {
    let v = v.trim();
    if let Ok(n) = v.parse::<i64>() {
        return (n >= 0).then_some(n);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(t.timestamp_millis());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(t) = chrono::DateTime::parse_from_str(v, f) {
            return Some(t.timestamp_millis());
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, f) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

/// Largest `limit`.
pub const MAX_LIMIT: u64 = 100;
/// `limit` when none is given.
pub const DEFAULT_LIMIT: u64 = 20;

/// One call, as the list answers it.
#[derive(Debug, Clone)]
struct Item {
    model_id: String,
    start_ms: i64,
    status: String,
    duration: i64,
    lead_phone: String,
    json: String,
}

/// Where an item sorts: newest `start_time` first, ties by call id.
type Key = (Reverse<i64>, String);

/// Every call of a fixture set, sorted for listing.
#[derive(Debug, Clone, Default)]
pub struct ListIndex {
    items: imbl::OrdMap<Key, Arc<Item>>,
}

impl ListIndex {
    /// Derives the index from a store.
    pub fn build(store: &Store) -> ListIndex {
        ListIndex {
            items: store.fixtures().filter_map(entry).collect(),
        }
    }

    /// This index after `removed` left the store and `added` came in (each as the store held it):
    /// the index [`ListIndex::build`] gives for the changed store, in O(changes × log n).
    pub fn changed(&self, removed: &[Fixture], added: &[&Fixture]) -> ListIndex {
        let mut items = self.items.clone();
        for f in removed {
            if let Some((key, _)) = entry(f) {
                items.remove(&key);
            }
        }
        for f in added {
            if let Some((key, item)) = entry(f) {
                items.insert(key, item);
            }
        }
        ListIndex { items }
    }

    /// The answer to a query: the whole 200 body.
    pub fn page(&self, q: &ListQuery) -> Bytes {
        let matching = self.items.values().filter(|i| q.matches(i));
        let mut total = 0u64;
        let mut calls = String::new();
        for item in matching {
            if total >= q.offset && total < q.offset.saturating_add(q.limit) {
                if !calls.is_empty() {
                    calls.push(',');
                }
                calls.push_str(&item.json);
            }
            total += 1;
        }
        let mut out = String::with_capacity(calls.len() + 128);
        let _ = write!(
            out,
            "{{\"status\":\"ok\",\"response\":{{\"pagination\":{{\"total_records\":{total},\"limit\":{},\"offset\":{}}},\"calls\":[{calls}]}}}}",
            q.limit, q.offset
        );
        Bytes::from(out)
    }
}

/// A fixture's place and item; none when its body holds no call record.
fn entry(f: &Fixture) -> Option<(Key, Arc<Item>)> {
    let env: Value = serde_json::from_slice(&f.body).ok()?;
    let call = env.pointer("/response/calls/0")?.as_object()?;
    let item = item(call);
    Some(((Reverse(item.start_ms), f.id.clone()), Arc::new(item)))
}

fn item(call: &Map<String, Value>) -> Item {
    let s = |k: &str| call.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let inbound = s("type_of_call") == "inbound" || s("campaign_type") == "inbound";
    let (lead, agent) = if inbound {
        (s("phone_number_from"), s("phone_number_to"))
    } else {
        (s("phone_number_to"), s("phone_number_from"))
    };
    let mut record = call.clone();
    record.insert("call_status".into(), Value::from(s("status")));
    record.insert(
        "lead_name".into(),
        call.get("name").cloned().unwrap_or(Value::Null),
    );
    record.insert("lead_phone_number".into(), Value::from(lead.clone()));
    record.insert("agent_phone_number".into(), Value::from(agent));
    record.insert("labels".into(), Value::Array(vec![]));
    Item {
        model_id: s("model_id"),
        start_ms: s("start_time").parse().unwrap_or(0),
        status: s("status"),
        // `duration` as a string ("25") is a shape seen live in list items (extended fixtures).
        duration: match call.get("duration") {
            Some(Value::String(t)) => t.trim().parse().unwrap_or(0),
            d => d.and_then(Value::as_i64).unwrap_or(0),
        },
        lead_phone: lead,
        json: serde_json::to_string(&Value::Object(record)).unwrap_or_else(|_| "{}".into()),
    }
}

/// A checked list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// `model_id` (required): the agent whose calls are listed.
    pub model_id: String,
    /// `limit`: calls per page.
    pub limit: u64,
    /// `offset`: calls skipped.
    pub offset: u64,
    /// `from_date`: starts at or after this (unix ms).
    pub from_date: Option<i64>,
    /// `to_date`: starts before this (unix ms).
    pub to_date: Option<i64>,
    /// `call_status`: the statuses kept.
    pub call_status: Option<Vec<String>>,
    /// `duration_min`: shortest duration (seconds, inclusive).
    pub duration_min: Option<i64>,
    /// `duration_max`: longest duration (seconds, inclusive).
    pub duration_max: Option<i64>,
    /// `lead_phone_number`: the number called.
    pub lead_phone_number: Option<String>,
}

impl ListQuery {
    /// Reads the query pairs; the error is the reason for the 400.
    pub fn parse(pairs: &[(String, String)]) -> Result<ListQuery, BadListQuery> {
        Self::parse_pairs(pairs)
    }

    fn parse_pairs(pairs: &[(String, String)]) -> Result<ListQuery, BadListQuery> {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let int = |k: &str, min: i64, max: i64| -> Result<Option<i64>, String> {
            match get(k) {
                None => Ok(None),
                Some(v) => match v.trim().parse::<i64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                    Ok(n) => Err(format!("{k}={n} is out of range: expected {min} to {max}")),
                    Err(_) => Err(format!("{k}={v:?} is not an integer")),
                },
            }
        };
        let model_id = match get("model_id").map(str::trim) {
            Some(m) if !m.is_empty() => m.to_owned(),
            _ => return Err(String::from("model_id is required").into()),
        };
        let limit = match int("limit", 1, MAX_LIMIT as i64) {
            Ok(l) => l.unwrap_or(DEFAULT_LIMIT as i64) as u64,
            Err(_) => {
                return Err(BadListQuery {
                    description: LIMIT_OUT_OF_RANGE.into(),
                    category: Some(LIMIT_CATEGORY),
                })
            }
        };
        let offset = int("offset", 0, i64::MAX)?.unwrap_or(0) as u64;
        let date = |k: &str| -> Result<Option<i64>, String> {
            match get(k) {
                None => Ok(None),
                Some(v) => parse_date(v).map(Some).ok_or_else(|| {
                    format!("{k}={v:?} is not epoch milliseconds or an ISO 8601 date or date-time")
                }),
            }
        };
        let from_date = date("from_date")?;
        let to_date = date("to_date")?;
        if let (Some(f), Some(t)) = (from_date, to_date) {
            if f > t {
                return Err(format!("from_date={f} is after to_date={t}").into());
            }
        }
        let duration_min = int("duration_min", 0, i64::MAX)?;
        let duration_max = int("duration_max", 0, i64::MAX)?;
        if let (Some(a), Some(b)) = (duration_min, duration_max) {
            if a > b {
                return Err(format!("duration_min={a} is above duration_max={b}").into());
            }
        }
        let call_status = get("call_status").map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
        });
        let lead_phone_number = match get("lead_phone_number") {
            None => None,
            Some(p) => {
                let ok = p.len() >= 8
                    && p.len() <= 16
                    && p.starts_with('+')
                    && p[1..].bytes().all(|b| b.is_ascii_digit());
                if !ok {
                    return Err(format!(
                        "lead_phone_number={p:?} is not E.164 (+ and 7 to 15 digits; send + as %2B)"
                    )
                    .into());
                }
                Some(p.to_owned())
            }
        };
        if let Some(v) = get("include_all_actions") {
            if !matches!(v, "true" | "false") {
                return Err(format!("include_all_actions={v:?}: expected true or false").into());
            }
        }
        Ok(ListQuery {
            model_id,
            limit,
            offset,
            from_date,
            to_date,
            call_status,
            duration_min,
            duration_max,
            lead_phone_number,
        })
    }

    fn matches(&self, i: &Item) -> bool {
        i.model_id == self.model_id
            && self.from_date.map_or(true, |f| i.start_ms >= f)
            && self.to_date.map_or(true, |t| i.start_ms < t)
            && self
                .call_status
                .as_ref()
                .map_or(true, |s| s.is_empty() || s.contains(&i.status))
            && self.duration_min.map_or(true, |d| i.duration >= d)
            && self.duration_max.map_or(true, |d| i.duration <= d)
            && self
                .lead_phone_number
                .as_ref()
                .map_or(true, |p| *p == i.lead_phone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &[(&str, &str)]) -> Result<ListQuery, BadListQuery> {
        let pairs: Vec<(String, String)> = s
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        ListQuery::parse(&pairs)
    }

    #[test]
    fn bad_paging_and_filters_are_refused_with_a_reason() {
        for (case, want) in [
            (vec![], "model_id is required"),
            (vec![("model_id", "m"), ("limit", "-1")], LIMIT_OUT_OF_RANGE),
            (
                vec![("model_id", "m"), ("limit", "101")],
                LIMIT_OUT_OF_RANGE,
            ),
            (vec![("model_id", "m"), ("limit", "0")], LIMIT_OUT_OF_RANGE),
            (
                vec![("model_id", "m"), ("limit", "ten")],
                LIMIT_OUT_OF_RANGE,
            ),
            (
                vec![("model_id", "m"), ("from_date", "yesterday")],
                "ISO 8601",
            ),
            (vec![("model_id", "m"), ("offset", "x")], "offset=\"x\""),
            (
                vec![("model_id", "m"), ("from_date", "5"), ("to_date", "4")],
                "after",
            ),
            (
                vec![("model_id", "m"), ("lead_phone_number", " 14155550100")],
                "E.164",
            ),
        ] {
            let err = q(&case).unwrap_err();
            assert!(err.description.contains(want), "{case:?}: {err}");
            assert_eq!(
                err.category.is_some(),
                want == LIMIT_OUT_OF_RANGE,
                "{case:?}: only the limit refusal has a sourced category"
            );
        }
    }

    #[test]
    fn dates_are_epoch_ms_or_iso_8601_dates_and_date_times() {
        // Source: MAKE-CALL-AND-WEBHOOKS.md §3 ([3P]: ISO/date strings also accepted).
        let day = 1_760_400_000_000; // 2025-10-14T00:00:00Z
        for (v, want) in [
            ("1760400000000", day),
            ("2025-10-14", day),
            ("2025-10-14T00:00:00Z", day),
            ("2025-10-14T02:00:00+02:00", day),
            ("2025-10-14T00:00:00.000+00:00", day),
            ("2025-10-14T00:00:00", day),
            ("2025-10-14T00:00:01.5Z", day + 1_500),
        ] {
            assert_eq!(parse_date(v), Some(want), "{v}");
        }
        for bad in ["", "-5", "14/10/2025", "2025-13-01", "now"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        let p = q(&[
            ("model_id", "m"),
            ("from_date", "2025-10-14"),
            ("to_date", "2025-10-15"),
        ])
        .unwrap();
        assert_eq!(
            (p.from_date, p.to_date),
            (Some(day), Some(day + 86_400_000))
        );
    }

    #[test]
    fn unknown_params_are_named_once_and_known_ones_never() {
        let pairs: Vec<(String, String)> =
            [("page", "2"), ("limit", "5"), ("page", "3"), ("x", "")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        assert_eq!(unknown_params(&pairs), vec!["page", "x"]);
    }

    #[test]
    fn defaults_are_limit_20_offset_0() {
        let p = q(&[("model_id", "m")]).unwrap();
        assert_eq!((p.limit, p.offset), (20, 0));
    }
}
