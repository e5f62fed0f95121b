//! The call set as loaded: a hash set of fixtures keyed by their own ids (one probe per lookup),
//! its lowest id, and its ids sorted on a thread of their own.
//!
//! Why a set and not a map by id: the map's keys were 100,000 more allocations at start and
//! 100,000 more strings held. The one copy of an id the set keeps is in the slot itself (see
//! [`ById`]), where the probe reads it anyway.

use std::sync::Arc;

use synthflow::violation::{Violation, ViolationKind};

use super::later::Later;
use super::{BadFile, Fixture};

/// The calls as loaded, by id (a set keyed by each call's own id: no second copy of the id).
pub(super) type Loaded = rustc_hash::FxHashSet<ById>;

/// A fixture that hashes and compares as its id, so that a set of them is a map by id.
///
/// An id of up to [`INLINE_ID`] bytes (a UUID is 36) is also kept in the slot itself, so a
/// lookup compares it where it found the slot: the fixture's own `String` is another allocation,
/// and with ids drawn at random from 100,000 reading it was one more cache miss per request
/// (`perf`: the compare was a third of the lookup's cost).
pub(super) struct ById {
    /// The id's bytes, when it fits (`inline_len` of them).
    inline: [u8; INLINE_ID],
    /// How many bytes of `inline` are the id; `u8::MAX` when the id is longer than `INLINE_ID`.
    inline_len: u8,
    pub(super) fixture: Fixture,
}

/// The longest id kept in the slot.
const INLINE_ID: usize = 47;

impl ById {
    pub(super) fn new(fixture: Fixture) -> ById {
        let mut inline = [0; INLINE_ID];
        let bytes = fixture.id.as_bytes();
        let inline_len = match inline.get_mut(..bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                bytes.len() as u8
            }
            None => u8::MAX,
        };
        ById {
            inline,
            inline_len,
            fixture,
        }
    }

    fn id(&self) -> &str {
        match self.inline.get(..usize::from(self.inline_len)) {
            // SAFETY: `new` copied a whole `String`'s bytes here, and `inline_len` is their
            // length: valid UTF-8. (Not checked again: this runs on every lookup, and the check
            // was ~190 instructions of a request's ~12,200; bench/callgrind.sh.)
            Some(inline) => unsafe { std::str::from_utf8_unchecked(inline) },
            None => &self.fixture.id,
        }
    }
}

impl std::fmt::Debug for ById {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.fixture.fmt(f)
    }
}

impl std::borrow::Borrow<str> for ById {
    fn borrow(&self) -> &str {
        self.id()
    }
}

impl std::hash::Hash for ById {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As `str` hashes: `Borrow<str>` lookups must find it.
        self.id().hash(state);
    }
}

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for ById {}

/// The ids of `map`, sorted: at once for a small set, on a thread of their own for a large one
/// (see [`Store`]'s `base_ids`).
pub(super) fn sort_ids(map: &Arc<Loaded>) -> Arc<Later<imbl::OrdSet<String>>> {
    fn sorted(map: &Loaded) -> imbl::OrdSet<String> {
        let mut ids: Vec<&String> = map.iter().map(|f| &f.fixture.id).collect();
        ids.sort_unstable();
        ids.into_iter().cloned().collect()
    }
    let cell = Arc::new(Later::new());
    if map.len() < 1024 {
        cell.set(sorted(map));
        return cell;
    }
    let (filled, of) = (cell.clone(), map.clone());
    let spawned = std::thread::Builder::new()
        .name("sort-ids".into())
        .spawn(move || {
            filled.set(sorted(&of));
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no thread to sort the call ids on: sorting them before serving");
        cell.set(sorted(map));
    }
    cell
}

/// The checked calls by id, the lowest id, and the files refused: the bad ones, and each second
/// file of an id.
pub(super) fn index(
    results: Vec<Result<Fixture, BadFile>>,
) -> (Loaded, Option<String>, Vec<BadFile>) {
    let mut bad = Vec::new();
    let mut first: Option<String> = None;
    let mut map = Loaded::with_capacity_and_hasher(results.len(), Default::default());
    for result in results {
        match result {
            Ok(f) => {
                if let Some(ById { fixture: first, .. }) = map.get(f.id.as_str()) {
                    bad.push(BadFile {
                        path: f.source.clone(),
                        problems: vec![Violation {
                            kind: ViolationKind::Invariant,
                            pointer: String::new(),
                            message: format!(
                                "call id {} is already served from {}",
                                f.id, first.source
                            ),
                        }],
                    });
                    continue;
                }
                if first.as_ref().map_or(true, |low| f.id < *low) {
                    first = Some(f.id.clone());
                }
                map.insert(ById::new(f));
            }
            Err(b) => bad.push(b),
        }
    }
    (map, first, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(id: &str) -> Fixture {
        Fixture {
            id: id.to_owned(),
            body: bytes::Bytes::from(format!("{{\"call_id\":\"{id}\"}}")),
            source: format!("test:{id}"),
            status: None,
            end_call_reason: None,
        }
    }

    #[test]
    fn ids_that_fit_the_slot_and_ids_longer_than_it_are_found_alike() {
        let short = "3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0".to_owned();
        let exact = "x".repeat(INLINE_ID);
        let long = "y".repeat(INLINE_ID + 1);
        let longer = format!("{long}-and-more-é");
        let ids = [&short, &exact, &long, &longer, &String::new()];
        let (map, first, bad) = index(ids.iter().map(|id| Ok(fixture(id))).collect());
        assert!(bad.is_empty());
        assert_eq!(first.as_deref(), Some(""));
        for id in ids {
            let found = map
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{id} not found"));
            assert_eq!(&found.fixture.id, id);
            assert_eq!(found.id(), id);
        }
        // A prefix or an extension of a kept id is another id.
        assert!(!map.contains(&short[..35]));
        assert!(!map.contains(format!("{exact}x").as_str()));
        assert!(!map.contains(&long[..INLINE_ID]));
        assert!(!map.contains(&format!("{short}0")[..]));
    }

    #[test]
    fn a_second_file_of_an_id_is_refused_whether_or_not_the_id_fits_the_slot() {
        let long = "z".repeat(INLINE_ID + 10);
        let results = ["a", long.as_str(), "a", long.as_str()]
            .iter()
            .map(|id| Ok(fixture(id)))
            .collect();
        let (map, _, bad) = index(results);
        assert_eq!(map.len(), 2);
        assert_eq!(bad.len(), 2);
        assert!(bad[1].problems[0].message.contains(&long));
    }
}
