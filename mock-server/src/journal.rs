//! The request journal: what clients asked, so a test can verify what its client sent.
//!
//! A bounded ring (the oldest entry goes when it is full: memory stays flat however long the mock
//! runs), bounded in entries and in bytes ([`DEFAULT_MAX_BYTES`]). Each entry holds the method,
//! path, query, headers and the answer's status, with every credential redacted before it is
//! stored: `Authorization` keeps its scheme only (`Bearer [redacted]`); `Cookie`, and every header
//! and query parameter the one redaction table (`redact`) names, are replaced whole. Each stored field is cut to [`FIELD_MAX`] bytes and the headers to [`HEADERS_MAX`], marked
//! where cut, so one fat request cannot fill the journal. A request for an unknown call id carries
//! the nearest known ids (Levenshtein), so a typo is found at once. Admin requests are not
//! journaled.

use http::HeaderMap;
use serde::Serialize;

use crate::ring::{Ring, Weigh};

use crate::redact;
pub use crate::redact::REDACTED;

/// One request and its answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JournalEntry {
    /// Position since start (or the last clear), from 1.
    pub seq: u64,
    /// When it arrived (RFC 3339, UTC).
    pub at: String,
    /// The method, as sent.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, credentials redacted.
    pub query: Option<String>,
    /// Headers in arrival order, credentials redacted.
    pub headers: Vec<(String, String)>,
    /// The answer's status.
    pub status: u16,
    /// The fault the answer got, if any (`code=429, latency=100`...).
    pub fault: Option<String>,
    /// For an unknown call id: the nearest known ids, nearest first.
    pub nearest_ids: Vec<String>,
    /// For a list request: the query parameters the list endpoint ignored (`page`...), as the
    /// live service ignores them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_params: Vec<String>,
}

/// The nearest known ids of a miss, attached to the response by the handler.
#[derive(Debug, Clone)]
pub struct Miss(pub Vec<String>);

/// The query parameters a list request carried that the endpoint ignored, attached to the
/// response by the handler.
#[derive(Debug, Clone)]
pub struct IgnoredParams(pub Vec<String>);

/// Bytes the journal may hold by default (see `ring`): about 2,000 ordinary requests, or
/// ~190 of the fattest (each field cut to [`FIELD_MAX`], headers to [`HEADERS_MAX`]).
pub const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;

/// Bytes kept of one stored field (path, query, a header's name or value); the rest is cut and
/// the cut marked (`…[N bytes cut]`).
pub const FIELD_MAX: usize = 4 * 1024;

/// Bytes kept of one request's headers, names and values together; the headers after it are
/// replaced by one marker pair (`("…", "[N headers cut]")`).
pub const HEADERS_MAX: usize = 16 * 1024;

/// A field as stored: cut to [`FIELD_MAX`], marked when cut.
pub fn field(text: &str) -> String {
    crate::ring::bounded(text, FIELD_MAX)
}

impl Weigh for JournalEntry {
    fn weight(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len() + 48)
            .sum();
        let nearest: usize = self
            .nearest_ids
            .iter()
            .chain(&self.ignored_params)
            .map(|i| i.len() + 24)
            .sum();
        std::mem::size_of::<JournalEntry>()
            + self.at.len()
            + self.method.len()
            + self.path.len()
            + self.query.as_ref().map_or(0, String::len)
            + self.fault.as_ref().map_or(0, String::len)
            + headers
            + nearest
    }
    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}

/// The request journal: a `Ring` of [`JournalEntry`], bounded in entries and bytes.
#[derive(Debug)]
pub struct Journal {
    ring: Ring<JournalEntry>,
}

impl Journal {
    /// A journal of at most `capacity` entries (0 = off) and [`DEFAULT_MAX_BYTES`].
    pub fn new(capacity: usize) -> Journal {
        Journal::with_bytes(capacity, DEFAULT_MAX_BYTES)
    }

    /// A journal of at most `capacity` entries and `max_bytes` bytes (either 0 = off).
    pub fn with_bytes(capacity: usize, max_bytes: usize) -> Journal {
        Journal {
            ring: Ring::new(capacity, max_bytes),
        }
    }

    /// Records anything at all.
    pub fn is_on(&self) -> bool {
        self.ring.is_on()
    }

    /// Its size in entries.
    pub fn capacity(&self) -> usize {
        self.ring.max_entries()
    }

    /// Adds an entry (its `seq` is set here), dropping the oldest when full.
    pub fn push(&self, e: JournalEntry) {
        self.ring.push(e);
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.ring.entries()
    }

    /// The ring itself (usage, paging).
    pub fn ring(&self) -> &Ring<JournalEntry> {
        &self.ring
    }

    /// Empties the journal.
    pub fn clear(&self) {
        self.ring.clear();
    }
}

/// Headers with credentials redacted by the one table (`redact`; `extra`: header names
/// redacted whole besides it, the configured webhook signature header), each name and value cut
/// to [`FIELD_MAX`], all of them to [`HEADERS_MAX`].
pub fn redact_headers(headers: &HeaderMap, extra: &[http::HeaderName]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bytes = 0;
    for (i, (name, value)) in headers.iter().enumerate() {
        let v = redact::header_value(name, value, extra)
            .unwrap_or_else(|| field(&String::from_utf8_lossy(value.as_bytes())));
        let n = field(name.as_str());
        if bytes + n.len() + v.len() > HEADERS_MAX {
            let cut = headers.len() - i;
            out.push(("…".to_owned(), format!("[{cut} headers cut]")));
            break;
        }
        bytes += n.len() + v.len();
        out.push((n, v));
    }
    out
}

/// Above this many known ids, only ids sharing the asked id's first [`PREFIX_LEN`] characters are
/// compared: a miss must stay cheap on a 100,000-fixture set (a full scan is ~100k edit distances).
pub const FULL_SCAN_LIMIT: usize = 5_000;
/// See [`FULL_SCAN_LIMIT`].
pub const PREFIX_LEN: usize = 4;

/// The (up to three) known ids closest to `id` by edit distance, for "did you mean"; `known` is
/// the store's sorted ids (`Store::id_set`).
pub fn nearest(id: &str, known: &imbl::OrdSet<String>) -> Vec<String> {
    let candidates: Box<dyn Iterator<Item = &String>> = if known.len() <= FULL_SCAN_LIMIT {
        Box::new(known.iter())
    } else {
        match id.get(..PREFIX_LEN) {
            Some(prefix) => Box::new(
                known
                    .range::<_, str>((
                        std::ops::Bound::Included(prefix),
                        std::ops::Bound::Unbounded,
                    ))
                    .take_while(move |k| k.starts_with(prefix)),
            ),
            None => Box::new(std::iter::empty()),
        }
    };
    let mut scored: Vec<(usize, &String)> = candidates
        .map(|k| (strsim::levenshtein(id, k), k))
        .filter(|(d, _)| *d <= id.len().max(8) / 2)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, k)| k.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn ring_keeps_only_the_newest_entries() {
        let j = Journal::new(3);
        for i in 0..10 {
            j.push(JournalEntry {
                seq: 0,
                at: String::new(),
                method: "GET".into(),
                path: format!("/{i}"),
                query: None,
                headers: vec![],
                status: 200,
                fault: None,
                nearest_ids: vec![],
                ignored_params: vec![],
            });
        }
        let e = j.entries();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].path, "/7");
        assert_eq!(e[2].seq, 10);
    }

    #[test]
    fn credentials_are_redacted_from_headers_and_query() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer s3cret"));
        h.insert("x-api-key", HeaderValue::from_static("s3cret"));
        h.insert("cookie", HeaderValue::from_static("session=s3cret"));
        h.insert("accept", HeaderValue::from_static("application/json"));
        let r = redact_headers(&h, &[]);
        assert!(!format!("{r:?}").contains("s3cret"));
        assert!(r.contains(&("authorization".into(), "Bearer [redacted]".into())));
        assert!(r.contains(&("accept".into(), "application/json".into())));
        assert_eq!(
            redact::query("a=1&api_key=s3cret"),
            "a=1&api_key=[redacted]"
        );
    }

    #[test]
    fn fat_headers_are_cut_per_value_and_in_total() {
        let mut h = HeaderMap::new();
        let fat = HeaderValue::from_str(&"v".repeat(10_000)).unwrap();
        for i in 0..80 {
            h.insert(
                http::HeaderName::from_bytes(format!("x-fat-{i}").as_bytes()).unwrap(),
                fat.clone(),
            );
        }
        let r = redact_headers(&h, &[]);
        let total: usize = r.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(total <= HEADERS_MAX + 64, "{total}");
        assert!(r[0].1.len() < FIELD_MAX + 32 && r[0].1.ends_with("bytes cut]"));
        assert_eq!(r.last().unwrap().0, "…");
    }

    #[test]
    fn nearest_ids_find_a_typo() {
        let known: imbl::OrdSet<String> = ["abcdef-1".to_string(), "zzzzzz-9".to_string()]
            .into_iter()
            .collect();
        assert_eq!(nearest("abcdxf-1", &known), vec!["abcdef-1"]);
    }

    #[test]
    fn a_large_set_is_searched_among_ids_with_the_same_prefix_only() {
        let known: imbl::OrdSet<String> = (0..FULL_SCAN_LIMIT + 1000)
            .map(|i| format!("{i:08x}-call"))
            .collect();
        // A typo after the prefix is still found...
        assert_eq!(nearest("00000abc-cal", &known)[0], "00000abc-call");
        // ...a typo inside the prefix is not looked for, by design.
        assert_eq!(nearest("x0000abc-call", &known), Vec::<String>::new());
    }
}
