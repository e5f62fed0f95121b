//! A bounded, numbered ring of records: the request journal and the webhook delivery journal both
//! keep their entries in one, so both are bounded the same way, in entries and in bytes.
//!
//! Each record says what it weighs ([`Weigh`]); when a push would go over either bound, the oldest
//! records go first. A record gets its sequence number here, counted from 1 since start or the
//! last [`Ring::clear`].

use std::collections::VecDeque;
use std::sync::Mutex;

/// What a record costs to keep, in bytes (an estimate of its heap size is enough).
pub trait Weigh {
    /// Bytes held by this record.
    fn weight(&self) -> usize;
    /// Called once, as the record enters the ring, with its sequence number.
    fn set_seq(&mut self, seq: u64);
}

/// See the module docs.
#[derive(Debug)]
pub struct Ring<T> {
    max_entries: usize,
    max_bytes: usize,
    inner: Mutex<Inner<T>>,
}

#[derive(Debug)]
struct Inner<T> {
    seq: u64,
    bytes: usize,
    records: VecDeque<(usize, T)>,
}

impl<T: Weigh + Clone> Ring<T> {
    /// A ring of at most `max_entries` records and `max_bytes` bytes (either 0 = off).
    pub fn new(max_entries: usize, max_bytes: usize) -> Ring<T> {
        Ring {
            max_entries,
            max_bytes,
            inner: Mutex::new(Inner {
                seq: 0,
                bytes: 0,
                records: VecDeque::new(),
            }),
        }
    }

    /// Keeps anything at all.
    pub fn is_on(&self) -> bool {
        self.max_entries > 0 && self.max_bytes > 0
    }

    /// Its bound in entries.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Its bound in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a record (numbered here), dropping the oldest while either bound would be passed. A
    /// record heavier than the whole byte bound is not kept. Returns its sequence number.
    pub fn push(&self, mut record: T) -> u64 {
        let mut g = self.lock();
        g.seq += 1;
        let seq = g.seq;
        if !self.is_on() {
            return seq;
        }
        record.set_seq(seq);
        let w = record.weight();
        if w > self.max_bytes {
            return seq;
        }
        while g.records.len() >= self.max_entries || g.bytes + w > self.max_bytes {
            match g.records.pop_front() {
                Some((old, _)) => g.bytes -= old,
                None => break,
            }
        }
        g.bytes += w;
        g.records.push_back((w, record));
        seq
    }

    /// Every record, oldest first.
    pub fn entries(&self) -> Vec<T> {
        self.lock().records.iter().map(|(_, r)| r.clone()).collect()
    }

    /// Records after sequence number `after`, oldest first, at most `limit`.
    pub fn page(&self, after: u64, limit: usize, seq_of: impl Fn(&T) -> u64) -> Vec<T> {
        self.lock()
            .records
            .iter()
            .map(|(_, r)| r)
            .filter(|r| seq_of(r) > after)
            .take(limit)
            .cloned()
            .collect()
    }

    /// Records after sequence number `after`, oldest first: at most `limit`, and no more than
    /// `max_bytes` by weight (at least one record when any is after `after`, so a page always
    /// moves). The flag says whether records after the last one returned remain.
    pub fn page_within(
        &self,
        after: u64,
        limit: usize,
        max_bytes: usize,
        seq_of: impl Fn(&T) -> u64,
    ) -> (Vec<T>, bool) {
        let g = self.lock();
        let mut out = Vec::new();
        let mut bytes = 0;
        for (w, r) in g.records.iter().filter(|(_, r)| seq_of(r) > after) {
            if out.len() >= limit || (!out.is_empty() && bytes + w > max_bytes) {
                return (out, true);
            }
            bytes += w;
            out.push(r.clone());
        }
        (out, false)
    }

    /// Records kept and the bytes they weigh.
    pub fn usage(&self) -> (usize, usize) {
        let g = self.lock();
        (g.records.len(), g.bytes)
    }

    /// Empties the ring and restarts the numbering.
    pub fn clear(&self) {
        let mut g = self.lock();
        g.records.clear();
        g.records.shrink_to_fit();
        g.bytes = 0;
        g.seq = 0;
    }
}

/// `text` cut to at most `max` bytes (on a character boundary), marked when cut, so one huge field
/// cannot fill a journal.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes cut]", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct R(u64, usize);
    impl Weigh for R {
        fn weight(&self) -> usize {
            self.1
        }
        fn set_seq(&mut self, seq: u64) {
            self.0 = seq;
        }
    }

    #[test]
    fn the_oldest_go_first_when_entries_are_full() {
        let r = Ring::new(3, 1_000);
        for _ in 0..10 {
            r.push(R(0, 1));
        }
        let seqs: Vec<u64> = r.entries().iter().map(|e| e.0).collect();
        assert_eq!(seqs, [8, 9, 10]);
    }

    #[test]
    fn the_oldest_go_first_when_bytes_are_full() {
        let r = Ring::new(100, 100);
        for _ in 0..10 {
            r.push(R(0, 30));
        }
        assert_eq!(r.usage(), (3, 90));
        r.push(R(0, 101));
        assert_eq!(
            r.usage(),
            (3, 90),
            "a record over the whole budget is not kept"
        );
    }

    #[test]
    fn a_page_starts_after_a_sequence_number() {
        let r = Ring::new(100, 1_000);
        for _ in 0..10 {
            r.push(R(0, 1));
        }
        let page: Vec<u64> = r.page(4, 3, |e| e.0).iter().map(|e| e.0).collect();
        assert_eq!(page, [5, 6, 7]);
    }

    #[test]
    fn a_bounded_page_stops_at_its_byte_budget_and_says_more_remain() {
        let r = Ring::new(100, 10_000);
        for _ in 0..10 {
            r.push(R(0, 100));
        }
        let (page, more) = r.page_within(0, 5, 250, |e| e.0);
        assert_eq!(page.iter().map(|e| e.0).collect::<Vec<_>>(), [1, 2]);
        assert!(more);
        let (page, more) = r.page_within(8, 5, 250, |e| e.0);
        assert_eq!(page.iter().map(|e| e.0).collect::<Vec<_>>(), [9, 10]);
        assert!(!more);
        let (page, _) = r.page_within(0, 5, 10, |e| e.0);
        assert_eq!(
            page.len(),
            1,
            "one record over the budget still makes a page"
        );
    }

    #[test]
    fn bounded_cuts_on_a_character_boundary_and_says_so() {
        assert_eq!(bounded("abc", 5), "abc");
        let cut = bounded("ééé", 3);
        assert!(
            cut.starts_with('é') && cut.ends_with("[4 bytes cut]"),
            "{cut}"
        );
    }
}
