//! The call set as loaded: a hash table of one cache line per call (one probe, one line per
//! lookup), the fixtures themselves, its lowest id, and its ids sorted on a thread of their own.
//!
//! Why this shape: with ids drawn at random from 100,000 calls (`bench/scale.sh`), a lookup's
//! cost is its cache misses. A slot holding the whole fixture (136 bytes) spread one lookup over
//! two or three lines of a 17 MB table, and cloning the body's `Bytes` touched its arena's count
//! on another. Here a slot is 64 bytes, aligned to a line: the id (when it fits: a UUID is 36
//! bytes) and where the body lies, as (arena, start, end). The body is served as a slice of
//! the arena, found in a short list every lookup shares; the rest of the fixture (its source,
//! status, end reason) is read only by the paths that need it.

use std::hash::BuildHasher;
use std::sync::Arc;

use bytes::Bytes;
use rustc_hash::FxBuildHasher;
use synthflow::violation::{Violation, ViolationKind};

use super::later::Later;
use super::{BadFile, Fixture};

/// The calls as loaded: see the module docs. Never changed once built.
pub(super) struct Loaded {
    /// One slot per call, found by the FxHash of its id.
    slots: hashbrown::HashTable<Slot>,
    /// The fixtures, in the order they were loaded; a slot holds its fixture's place here.
    fixtures: Vec<Fixture>,
    /// The buffers the bodies are slices of: the arenas the files were read into
    /// (`read::read_files`), and each body found in none of them (embedded, larger than an arena,
    /// handed in).
    owners: Vec<Bytes>,
}

/// One call in the table: its id, and where its body lies. One cache line.
#[repr(C, align(64))]
struct Slot {
    /// The id's bytes, when it fits (`id_len` of them).
    id: [u8; INLINE_ID],
    /// How many bytes of `id` are the id; [`LONG`] when the id is longer than `INLINE_ID`.
    id_len: u8,
    /// The fixture's place in [`Loaded::fixtures`].
    fixture: u32,
    /// The body's buffer in [`Loaded::owners`]; `u32::MAX` (none) when the body is served from
    /// the fixture itself (a place past 4 GiB, which 32 bits cannot say).
    owner: u32,
    /// Where the body starts in its buffer.
    start: u32,
    /// Where it ends.
    end: u32,
}

/// The longest id kept in a slot.
const INLINE_ID: usize = 47;

/// `Slot::id_len` of an id longer than a slot holds.
const LONG: u8 = u8::MAX;

const _: () = assert!(std::mem::size_of::<Slot>() == 64);

impl Slot {
    /// Whether this is `id`'s slot.
    fn is(&self, id: &str, fixtures: &[Fixture]) -> bool {
        match self.id.get(..usize::from(self.id_len)) {
            Some(inline) => inline == id.as_bytes(),
            None => fixtures[self.fixture as usize].id == id,
        }
    }
}

/// The hash of an id, the same for building the table and looking it up.
fn hash(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

impl Loaded {
    /// The fixture of `id`.
    pub(super) fn get(&self, id: &str) -> Option<&Fixture> {
        let slot = self.find(id)?;
        Some(&self.fixtures[slot.fixture as usize])
    }

    /// The body of `id`, to send (the hot path: only the slot is read; see [`Chunk`]).
    pub(super) fn chunk(set: &Arc<Loaded>, id: &str) -> Option<Chunk> {
        let slot = set.find(id)?;
        Some(match set.owners.get(slot.owner as usize) {
            Some(_) => Chunk(Held::InSet {
                set: set.clone(),
                owner: slot.owner,
                start: slot.start,
                end: slot.end,
            }),
            None => Chunk(Held::Bytes(
                set.fixtures[slot.fixture as usize].body.clone(),
            )),
        })
    }

    /// Whether `id` is loaded.
    pub(super) fn contains(&self, id: &str) -> bool {
        self.find(id).is_some()
    }

    /// Number of calls.
    pub(super) fn len(&self) -> usize {
        self.fixtures.len()
    }

    /// Every fixture, in the order loaded.
    pub(super) fn iter(&self) -> std::slice::Iter<'_, Fixture> {
        self.fixtures.iter()
    }

    fn find(&self, id: &str) -> Option<&Slot> {
        self.slots.find(hash(id), |s| s.is(id, &self.fixtures))
    }
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("calls", &self.fixtures.len())
            .field("owners", &self.owners.len())
            .finish_non_exhaustive()
    }
}

/// A call's body on its way out, and the data type of every answer's body
/// ([`crate::http::MockBody`]): a slice of the loaded set's buffers, or bytes of its own.
///
/// Why not a `Bytes` slice of the arena: cloning one counts a reference on the arena's own
/// counter, and with ids drawn at random among 100,000 calls (~560 arenas) that counter's line is
/// seldom in the cache (`perf`: 2% of the mock's time). A chunk counts a reference on the set
/// instead, whose counter every request shares.
pub struct Chunk(Held);

enum Held {
    /// `set.owners[owner][start..end]`.
    InSet {
        set: Arc<Loaded>,
        owner: u32,
        start: u32,
        end: u32,
    },
    Bytes(Bytes),
}

impl Chunk {
    /// The bytes, as `Bytes` (a slice of the same buffer, not a copy).
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Held::InSet {
                set,
                owner,
                start,
                end,
            } => set.owners[owner as usize].slice(start as usize..end as usize),
            Held::Bytes(b) => b,
        }
    }
}

impl From<Bytes> for Chunk {
    fn from(bytes: Bytes) -> Chunk {
        Chunk(Held::Bytes(bytes))
    }
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk")
            .field("len", &bytes::Buf::remaining(self))
            .finish_non_exhaustive()
    }
}

impl bytes::Buf for Chunk {
    fn remaining(&self) -> usize {
        match &self.0 {
            Held::InSet { start, end, .. } => (end - start) as usize,
            Held::Bytes(b) => b.len(),
        }
    }

    fn chunk(&self) -> &[u8] {
        match &self.0 {
            Held::InSet {
                set,
                owner,
                start,
                end,
            } => &set.owners[*owner as usize][*start as usize..*end as usize],
            Held::Bytes(b) => b,
        }
    }

    fn advance(&mut self, cnt: usize) {
        match &mut self.0 {
            Held::InSet { start, end, .. } => {
                let cnt = u32::try_from(cnt)
                    .ok()
                    .filter(|c| *c <= *end - *start)
                    .unwrap_or_else(|| panic!("advance past the end of a chunk"));
                *start += cnt;
            }
            Held::Bytes(b) => b.advance(cnt),
        }
    }

    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        let taken = match &self.0 {
            Held::InSet {
                set, owner, start, ..
            } => {
                assert!(
                    len <= self.remaining(),
                    "copy_to_bytes past the end of a chunk"
                );
                let from = *start as usize;
                set.owners[*owner as usize].slice(from..from + len)
            }
            Held::Bytes(b) => b.slice(..len),
        };
        self.advance(len);
        taken
    }
}

/// Where each body lies: in one of the arenas, or in a buffer of its own. An arena is found by
/// address: a body whose bytes lie inside an arena's is a slice of it (live buffers do not
/// overlap), so the arena's slice is the same bytes.
struct Owners {
    /// The arenas' (first byte's address, end address, place in `list`), by address.
    by_address: Vec<(usize, usize, u32)>,
    list: Vec<Bytes>,
}

impl Owners {
    fn new(arenas: Vec<Bytes>) -> Owners {
        let mut by_address: Vec<(usize, usize, u32)> = arenas
            .iter()
            .enumerate()
            .filter(|(_, a)| !a.is_empty())
            .map(|(i, a)| {
                let at = a.as_ptr() as usize;
                (at, at + a.len(), i as u32)
            })
            .collect();
        by_address.sort_unstable();
        Owners {
            by_address,
            list: arenas,
        }
    }

    /// (owner, start, end) of `body`; the owner is `u32::MAX` (none) when a place past 4 GiB
    /// would be needed.
    fn place(&mut self, body: &Bytes) -> (u32, u32, u32) {
        let at = body.as_ptr() as usize;
        let i = self
            .by_address
            .partition_point(|&(start, _, _)| start <= at);
        if let Some(&(start, end, owner)) = i.checked_sub(1).and_then(|i| self.by_address.get(i)) {
            if at + body.len() <= end {
                if let (Ok(from), Ok(to)) = (
                    u32::try_from(at - start),
                    u32::try_from(at - start + body.len()),
                ) {
                    return (owner, from, to);
                }
            }
        }
        match (u32::try_from(self.list.len()), u32::try_from(body.len())) {
            (Ok(owner), Ok(len)) if owner < u32::MAX => {
                self.list.push(body.clone());
                (owner, 0, len)
            }
            _ => (u32::MAX, 0, 0),
        }
    }
}

/// The ids of `map`, sorted: at once for a small set, on a thread of their own for a large one
/// (see [`Store`]'s `base_ids`).
pub(super) fn sort_ids(map: &Arc<Loaded>) -> Arc<Later<imbl::OrdSet<String>>> {
    fn sorted(map: &Loaded) -> imbl::OrdSet<String> {
        let mut ids: Vec<&String> = map.iter().map(|f| &f.id).collect();
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
/// file of an id. `arenas`: the buffers the files were read into (see [`Loaded::owners`]).
pub(super) fn index(
    results: Vec<Result<Fixture, BadFile>>,
    arenas: Vec<Bytes>,
) -> (Loaded, Option<String>, Vec<BadFile>) {
    let mut bad = Vec::new();
    let mut first: Option<String> = None;
    let mut slots = hashbrown::HashTable::with_capacity(results.len());
    let mut fixtures: Vec<Fixture> = Vec::with_capacity(results.len());
    let mut owners = Owners::new(arenas);
    for result in results {
        let f = match result {
            Ok(f) => f,
            Err(b) => {
                bad.push(b);
                continue;
            }
        };
        let h = hash(&f.id);
        if let Some(slot) = slots.find(h, |s: &Slot| s.is(&f.id, &fixtures)) {
            let first = &fixtures[slot.fixture as usize];
            bad.push(BadFile {
                path: f.source.clone(),
                problems: vec![Violation {
                    kind: ViolationKind::Invariant,
                    pointer: String::new(),
                    message: format!("call id {} is already served from {}", f.id, first.source),
                }],
            });
            continue;
        }
        if first.as_ref().map_or(true, |low| f.id < *low) {
            first = Some(f.id.clone());
        }
        let Ok(place) = u32::try_from(fixtures.len()) else {
            bad.push(BadFile {
                path: f.source.clone(),
                problems: vec![Violation {
                    kind: ViolationKind::Invariant,
                    pointer: String::new(),
                    message: "more than 4,294,967,295 calls in one set".into(),
                }],
            });
            continue;
        };
        let mut id = [0; INLINE_ID];
        let id_len = match id.get_mut(..f.id.len()) {
            Some(room) => {
                room.copy_from_slice(f.id.as_bytes());
                f.id.len() as u8
            }
            None => LONG,
        };
        let (owner, start, end) = owners.place(&f.body);
        let slot = Slot {
            id,
            id_len,
            fixture: place,
            owner,
            start,
            end,
        };
        slots.insert_unique(h, slot, |s| hash(&fixtures[s.fixture as usize].id));
        fixtures.push(f);
    }
    let loaded = Loaded {
        slots,
        fixtures,
        owners: owners.list,
    };
    (loaded, first, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(id: &str) -> Fixture {
        Fixture {
            id: id.to_owned(),
            body: Bytes::from(format!("{{\"call_id\":\"{id}\"}}")),
            source: format!("test:{id}"),
            status: None,
            end_call_reason: None,
        }
    }

    /// The body `Loaded::chunk` serves for `id`, as bytes.
    fn body(map: &Arc<Loaded>, id: &str) -> Option<Bytes> {
        Loaded::chunk(map, id).map(Chunk::into_bytes)
    }

    #[test]
    fn a_slot_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Slot>(), 64);
        assert_eq!(std::mem::align_of::<Slot>(), 64);
    }

    #[test]
    fn ids_that_fit_the_slot_and_ids_longer_than_it_are_found_alike() {
        let short = "3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0".to_owned();
        let exact = "x".repeat(INLINE_ID);
        let long = "y".repeat(INLINE_ID + 1);
        let longer = format!("{long}-and-more-é");
        let ids = [&short, &exact, &long, &longer, &String::new()];
        let (map, first, bad) = index(ids.iter().map(|id| Ok(fixture(id))).collect(), vec![]);
        let map = Arc::new(map);
        assert!(bad.is_empty());
        assert_eq!(first.as_deref(), Some(""));
        for id in ids {
            let found = map.get(id).unwrap_or_else(|| panic!("{id} not found"));
            assert_eq!(&found.id, id);
            assert_eq!(body(&map, id).unwrap(), found.body, "{id}");
        }
        // A prefix or an extension of a kept id is another id.
        assert!(!map.contains(&short[..35]));
        assert!(!map.contains(format!("{exact}x").as_str()));
        assert!(!map.contains(&long[..INLINE_ID]));
        assert!(!map.contains(&format!("{short}0")[..]));
        assert!(body(&map, &long[..INLINE_ID]).is_none());
    }

    #[test]
    fn a_second_file_of_an_id_is_refused_whether_or_not_the_id_fits_the_slot() {
        let long = "z".repeat(INLINE_ID + 10);
        let results = ["a", long.as_str(), "a", long.as_str()]
            .iter()
            .map(|id| Ok(fixture(id)))
            .collect();
        let (map, _, bad) = index(results, vec![]);
        assert_eq!(map.len(), 2);
        assert_eq!(bad.len(), 2);
        assert!(bad[1].problems[0].message.contains(&long));
    }

    #[test]
    fn a_body_inside_an_arena_is_served_as_a_slice_of_it_and_any_other_body_as_itself() {
        // Two arenas, as `read::read_files` hands them over, and bodies sliced from both, from
        // their very first and last bytes, plus bodies that lie in neither.
        let arenas: Vec<Bytes> = (0..2)
            .map(|n| Bytes::from(format!("[arena {n}:{}]", "abcdefgh".repeat(40))))
            .collect();
        let cuts = [
            (0, 0..5),
            (0, 7..90),
            (1, 100..arenas[1].len()),
            (1, 0..arenas[1].len()),
        ];
        let mut fixtures: Vec<Fixture> = cuts
            .iter()
            .enumerate()
            .map(|(i, (a, range))| Fixture {
                body: arenas[*a].slice(range.clone()),
                ..fixture(&format!("in-{i}"))
            })
            .collect();
        fixtures.push(fixture("own"));
        fixtures.push(Fixture {
            body: Bytes::from_static(b"{\"embedded\":true}"),
            ..fixture("static")
        });
        let (map, _, bad) = index(fixtures.iter().cloned().map(Ok).collect(), arenas.clone());
        let map = Arc::new(map);
        assert!(bad.is_empty());
        for f in &fixtures {
            assert_eq!(body(&map, &f.id).unwrap(), f.body, "{}", f.id);
        }
        for (i, (a, range)) in cuts.iter().enumerate() {
            let slot = map.find(&format!("in-{i}")).unwrap();
            assert_eq!(
                (slot.owner as usize, slot.start as usize),
                (*a, range.start)
            );
            // The same memory, not a copy.
            assert_eq!(
                body(&map, &format!("in-{i}")).unwrap().as_ptr(),
                fixtures[i].body.as_ptr()
            );
        }
        // The two bodies in no arena each got a buffer of their own after the arenas.
        assert_eq!(map.owners.len(), arenas.len() + 2);
        assert!(body(&map, "in-9").is_none());
    }

    #[test]
    fn a_chunk_of_the_set_reads_advances_and_splits_like_the_bytes_it_stands_for() {
        use bytes::Buf;
        let arena = Bytes::from_static(b"....{\"call_id\":\"a\",\"n\":12345}....");
        let f = Fixture {
            body: arena.slice(4..arena.len() - 4),
            ..fixture("a")
        };
        let want = f.body.clone();
        let (map, _, _) = index(vec![Ok(f)], vec![arena]);
        let mut chunk = Loaded::chunk(&Arc::new(map), "a").unwrap();
        assert!(matches!(chunk.0, Held::InSet { .. }));
        assert_eq!(chunk.remaining(), want.len());
        assert_eq!(chunk.chunk(), &want[..]);
        chunk.advance(3);
        assert_eq!(chunk.chunk(), &want[3..]);
        assert_eq!(chunk.copy_to_bytes(5), want.slice(3..8));
        assert_eq!(chunk.remaining(), want.len() - 8);
        assert_eq!(chunk.into_bytes(), want.slice(8..));
        let mut plain = Chunk::from(want.clone());
        plain.advance(2);
        assert_eq!(plain.chunk(), &want[2..]);
    }

    #[test]
    #[should_panic(expected = "past the end")]
    fn a_chunk_refuses_to_advance_past_its_end() {
        use bytes::Buf;
        let arena = Bytes::from_static(b"{}{}");
        let f = Fixture {
            body: arena.slice(0..2),
            ..fixture("a")
        };
        let (map, _, _) = index(vec![Ok(f)], vec![arena]);
        let mut chunk = Loaded::chunk(&Arc::new(map), "a").unwrap();
        chunk.advance(3);
    }
}
