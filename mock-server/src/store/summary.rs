//! One line per call for the web console's Calls page (`GET /__admin/call-summaries`): id, status,
//! end reason, duration, start and agent, newest first, with the filters and paging of that page.
//!
//! Why its own index rather than the list endpoint's ([`super::list`]): the list answers the
//! vendor's shape and needs `model_id`; the console filters by status and agent at once, counts
//! the matches and offers the values it can filter on. Derived once per fixture set (lazily, on the
//! console's first listing, in parallel), so a page over 100k calls is a filter over sorted rows, not
//! 100k JSON parses. Rows and counts are persistent maps (`imbl`): a made call is added to (and an
//! evicted one removed from) summaries already derived with [`Summaries::changed`] in O(log n);
//! the filter values, sorted by count, are derived from the counts on the first page that needs
//! them.

use std::cmp::Reverse;
use std::sync::OnceLock;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::{Fixture, Store};

/// Most rows one page holds.
pub const MAX_PAGE: usize = 500;
/// Most distinct agents offered as filter values (the most frequent first).
pub const MAX_AGENTS: usize = 200;

/// One call, as the Calls page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The call id.
    pub call_id: String,
    /// `status`, when set (`"None"` counts as unset).
    pub status: Option<String>,
    /// `end_call_reason`, when set.
    pub end_call_reason: Option<String>,
    /// Seconds, when the fixture gives a number.
    pub duration: Option<i64>,
    /// Epoch milliseconds, when the fixture gives a number.
    pub start_time: Option<i64>,
    /// The agent (`model_id`).
    pub agent: Option<String>,
    /// The lead's name (`name`).
    pub name: Option<String>,
}

/// Filter values with their counts, the most frequent first.
type Counted = Vec<(String, usize)>;

/// Where a row sorts: newest `start_time` first (none last), ties by call id.
type Key = (Reverse<Option<i64>>, String);

/// The calls of a fixture set, newest first, and the values the page can filter on.
#[derive(Debug, Clone, Default)]
pub struct Summaries {
    rows: imbl::OrdMap<Key, Summary>,
    status_counts: imbl::OrdMap<String, usize>,
    agent_counts: imbl::OrdMap<String, usize>,
    /// The statuses and agents (at most [`MAX_AGENTS`]) by count, derived on the first page.
    offered: OnceLock<(Counted, Counted)>,
}

/// A filter and a page: `?status=&agent=&id=&offset=&limit=`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// Exact status.
    pub status: Option<String>,
    /// Exact agent (`model_id`).
    pub agent: Option<String>,
    /// Part of the call id.
    pub id: Option<String>,
    /// Matches skipped (paging).
    #[serde(default)]
    pub offset: usize,
    /// Rows in the page (50 by default, at most [`MAX_PAGE`]).
    pub limit: Option<usize>,
}

/// A number the fixtures write as a number or as a string of one.
fn number(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64)),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() && s != "None" => Some(s.clone()),
        _ => None,
    }
}

/// The fields the page shows, read from a call body (the 200 envelope). Only these fields are
/// decoded; the rest (the transcript, the variables) is skipped without being built.
fn summarise(id: &str, body: &[u8]) -> Summary {
    #[derive(Deserialize)]
    struct Envelope {
        response: Response,
    }
    #[derive(Deserialize)]
    struct Response {
        calls: Vec<Call>,
    }
    #[derive(Deserialize, Default)]
    struct Call {
        #[serde(default)]
        status: Option<Value>,
        #[serde(default)]
        end_call_reason: Option<Value>,
        #[serde(default)]
        duration: Option<Value>,
        #[serde(default)]
        start_time: Option<Value>,
        #[serde(default)]
        model_id: Option<Value>,
        #[serde(default)]
        name: Option<Value>,
    }
    let call = serde_json::from_slice::<Envelope>(body)
        .ok()
        .and_then(|e| e.response.calls.into_iter().next())
        .unwrap_or_default();
    Summary {
        call_id: id.to_owned(),
        status: text(call.status.as_ref()),
        end_call_reason: text(call.end_call_reason.as_ref()),
        duration: number(call.duration.as_ref()),
        start_time: number(call.start_time.as_ref()),
        agent: text(call.model_id.as_ref()),
        name: text(call.name.as_ref()),
    }
}

/// Values with their counts, the most frequent first (ties by value).
fn by_count(counts: &imbl::OrdMap<String, usize>) -> Counted {
    let mut out: Counted = counts.iter().map(|(k, n)| (k.clone(), *n)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

fn count(counts: &mut imbl::OrdMap<String, usize>, value: Option<&String>, up: bool) {
    let Some(v) = value else { return };
    let n = counts.get(v).copied().unwrap_or(0);
    match (up, n) {
        (true, _) => {
            counts.insert(v.clone(), n + 1);
        }
        (false, 0 | 1) => {
            counts.remove(v);
        }
        (false, _) => {
            counts.insert(v.clone(), n - 1);
        }
    }
}

fn key(r: &Summary) -> Key {
    (Reverse(r.start_time), r.call_id.clone())
}

impl Summaries {
    /// Derives the index from a store (every core).
    pub fn build(store: &Store) -> Summaries {
        let fixtures: Vec<_> = store.fixtures().collect();
        let rows: Vec<Summary> = fixtures
            .par_iter()
            .map(|f| summarise(&f.id, &f.body))
            .collect();
        let mut s = Summaries::default();
        for r in rows {
            s.add(r);
        }
        s
    }

    /// These summaries after `removed` left the store and `added` came in (each as the store held
    /// it): what [`Summaries::build`] gives for the changed store, in O(changes × log n).
    pub fn changed(&self, removed: &[Fixture], added: &[&Fixture]) -> Summaries {
        let mut s = Summaries {
            rows: self.rows.clone(),
            status_counts: self.status_counts.clone(),
            agent_counts: self.agent_counts.clone(),
            offered: OnceLock::new(),
        };
        for f in removed {
            if let Some(r) = s.rows.remove(&key(&summarise(&f.id, &f.body))) {
                count(&mut s.status_counts, r.status.as_ref(), false);
                count(&mut s.agent_counts, r.agent.as_ref(), false);
            }
        }
        for f in added {
            s.add(summarise(&f.id, &f.body));
        }
        s
    }

    fn add(&mut self, r: Summary) {
        count(&mut self.status_counts, r.status.as_ref(), true);
        count(&mut self.agent_counts, r.agent.as_ref(), true);
        if let Some(old) = self.rows.insert(key(&r), r) {
            // The same call twice (a caller's mistake): counted once, as the store holds it once.
            count(&mut self.status_counts, old.status.as_ref(), false);
            count(&mut self.agent_counts, old.agent.as_ref(), false);
        }
    }

    fn offered(&self) -> &(Counted, Counted) {
        self.offered.get_or_init(|| {
            let mut agents = by_count(&self.agent_counts);
            agents.truncate(MAX_AGENTS);
            (by_count(&self.status_counts), agents)
        })
    }

    /// One page of the calls matching `q`, as the admin answer's fields.
    pub fn page(&self, q: &SummaryQuery) -> Value {
        let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let id = q.id.as_deref().map(str::to_ascii_lowercase);
        let matching = self.rows.values().filter(|r| {
            q.status
                .as_ref()
                .map_or(true, |s| r.status.as_ref() == Some(s))
                && q.agent
                    .as_ref()
                    .map_or(true, |a| r.agent.as_ref() == Some(a))
                && id.as_ref().map_or(true, |i| r.call_id.contains(i.as_str()))
        });
        let mut total = 0usize;
        let mut calls = Vec::new();
        for r in matching {
            if total >= q.offset && calls.len() < limit {
                calls.push(r);
            }
            total += 1;
        }
        let (statuses, agents) = self.offered();
        serde_json::json!({
            "total": total,
            "all": self.rows.len(),
            "offset": q.offset,
            "limit": limit,
            "calls": calls,
            "statuses": statuses,
            "agents": agents,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_from_numbers_and_strings() {
        assert_eq!(number(Some(&Value::from("874"))), Some(874));
        assert_eq!(number(Some(&Value::from(12))), Some(12));
        assert_eq!(number(Some(&Value::from("None"))), None);
        assert_eq!(text(Some(&Value::from("None"))), None);
    }

    #[test]
    fn pages_are_newest_first_filtered_and_counted() {
        let s = Summaries::build(&Store::embedded().unwrap());
        let all = s.page(&SummaryQuery::default());
        let n = all["all"].as_u64().unwrap();
        assert!(n > 2);
        let starts: Vec<i64> = all["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["start_time"].as_i64())
            .collect();
        assert!(starts.windows(2).all(|w| w[0] >= w[1]), "{starts:?}");
        let status = all["statuses"][0][0].as_str().unwrap().to_owned();
        let filtered = s.page(&SummaryQuery {
            status: Some(status.clone()),
            limit: Some(1),
            ..SummaryQuery::default()
        });
        assert_eq!(filtered["calls"].as_array().unwrap().len(), 1);
        assert_eq!(filtered["calls"][0]["status"], status.as_str());
        assert_eq!(filtered["total"], all["statuses"][0][1]);
        let past = s.page(&SummaryQuery {
            offset: n as usize,
            ..SummaryQuery::default()
        });
        assert!(past["calls"].as_array().unwrap().is_empty());
    }
}
