//! The fixture store: every call body, loaded and validated once, kept as the bytes to send.
//!
//! A fixture file is the exact 200 body the live API returns for one call (`calls/<call_id>.json`),
//! so it is served as stored, never re-serialised. Start-up checks every file with the shared
//! contract checks (`synthflow::contract`) and refuses the whole set if any file is bad, naming each
//! bad file with the place and what was expected: a mock serving half a set would fail tests far
//! from the cause. Values outside the spec (unknown enum members) are refused unless
//! [`LoadOptions::allow_out_of_spec`] is set, since recorded live data may run ahead of the spec.
//!
//! The fixture set is never changed in place: a writer (the admin API, hot reload, `POST
//! /v2/calls` publishing a made call) clones it, changes the clone and swaps it in whole
//! ([`crate::AppState`]), so readers never see half a change. So that a clone and a change stay
//! cheap while a lookup stays one probe, a store is the set as loaded (a plain hash table of one
//! cache line per id behind an `Arc`, shared by every clone: `loaded.rs`) plus what changed since,
//! in persistent maps (`imbl`: the calls added or replaced, the loaded ids removed, and the sorted
//! ids; a change copies O(log n) nodes).
//! A lookup asks the change maps only when they hold something. A single persistent map for the
//! whole set (tried) made a random-id lookup among 100,000 calls several dependent cache misses
//! deep (`bench/scale.sh`: 71% of the one-id throughput, against 88% with a plain map); with
//! plain maps alone every clone copied every call, and each `POST /v2/calls` cost O(calls held).

use rustc_hash::FxBuildHasher;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use rayon::prelude::*;
#[cfg(feature = "validate")]
use synthflow::contract::{check_call_body, CheckOptions};
use synthflow::model::{CallStatus, EndCallReason};
use synthflow::violation::{json_violation, Violation, ViolationKind};

use crate::error::{ErrorBodies, Template};

#[cfg(feature = "validate")]
pub mod cache;
#[cfg(feature = "validate")]
pub use cache::CacheFile;
pub use loaded::Chunk;
use loaded::{index, sort_ids, Loaded};
use read::read_dir_files;
mod later;
pub mod list;
mod loaded;
mod read;
pub mod summary;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// How fixtures are loaded.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Accept enum values the vendor's document does not list.
    pub allow_out_of_spec: bool,
}

/// One call, ready to serve.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The call id (the file name without `.json`).
    pub id: String,
    /// The exact body to send.
    pub body: Bytes,
    /// Where it came from (a path, or `embedded:calls/<file>`).
    pub source: String,
    /// The call's status, for listings.
    pub status: Option<CallStatus>,
    /// The call's end reason, for listings.
    pub end_call_reason: Option<EndCallReason>,
}

/// A fixture file that cannot be served, and why.
#[derive(Debug, Clone)]
pub struct BadFile {
    /// The file.
    pub path: String,
    /// What is wrong, each with its place.
    pub problems: Vec<Violation>,
}

impl fmt::Display for BadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {p}", self.path)?;
        }
        Ok(())
    }
}

/// Why a fixture set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// One or more files are bad; all of them are listed.
    #[error("{} bad fixture file(s):\n{}", .0.len(), .0.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("\n"))]
    BadFiles(Vec<BadFile>),
    /// A folder or file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What could not be read.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The folder holds no call fixture.
    #[error("no call fixtures (*.json) found in {0}")]
    Empty(String),
}

/// Calls added or replaced since the set was loaded. FxHash: ids come from the fixture set or the
/// mock itself, not from clients. A persistent map: a clone is O(1), a change copies O(log n) nodes.
type Calls =
    imbl::GenericHashMap<String, Arc<Fixture>, FxBuildHasher, imbl::shared_ptr::DefaultSharedPtr>;

/// The loaded fixture set. Cheap to clone (see the module docs).
#[derive(Debug, Clone)]
pub struct Store {
    /// The calls as loaded, by id: the hot path's one probe.
    base: Arc<Loaded>,
    /// Calls added or replaced since (they hide the same id in `base`).
    added: Calls,
    /// Ids of `base` removed since (and not added again).
    removed: imbl::GenericHashSet<String, FxBuildHasher, imbl::shared_ptr::DefaultSharedPtr>,
    /// The ids of `base`, sorted. Sorting 100,000 ids takes ~0.1 s that need not delay the first
    /// answer: a large set's are sorted on a thread of their own after the load, and whatever
    /// needs them first (a listing, a 404's suggestions, a change) waits for them.
    base_ids: Arc<later::Later<imbl::OrdSet<String>>>,
    /// Every id served, sorted, once this store has changed (`base_ids` changed since).
    ids: Option<imbl::OrdSet<String>>,
    /// The lowest id of `base`, found while it was built.
    base_first: Option<String>,
    /// Number of calls served.
    len: usize,
    errors: Arc<ErrorBodies>,
}

impl Store {
    /// The fixtures embedded in the binary at build time: `fixtures/calls` (generated),
    /// `fixtures/handmade/calls` (hand-made edge cases) and `fixtures/errors`.
    pub fn embedded() -> Result<Store, StoreError> {
        // Checked by build.rs with the same contract checks, which also read the status and end
        // reason listings show: no JSON is decoded here.
        let embed = |dir: &'static str, rows: &'static [embedded::CallRow]| {
            rows.iter().map(move |(name, bytes, status, end)| {
                Ok(Fixture {
                    id: name.strip_suffix(".json").unwrap_or(name).to_owned(),
                    body: Bytes::from_static(bytes),
                    source: format!("embedded:{dir}/{name}"),
                    status: status.map(CallStatus::from),
                    end_call_reason: end.map(EndCallReason::from),
                })
            })
        };
        let calls = embed("calls", embedded::CALLS)
            .chain(embed("handmade/calls", embedded::HANDMADE_CALLS))
            .collect();
        Store::from_checked(calls, embedded_errors(), Vec::new())
    }

    /// A fixture folder: `DIR/calls/*.json` (or `DIR/*.json` when there is no `calls/`), plus
    /// `DIR/handmade/calls/*.json` when present, and the error bodies of `DIR/errors/` where
    /// present, the embedded ones otherwise. Files are read and checked on every core; every bad
    /// file is reported, not only the first.
    pub fn from_dir(dir: &Path, opts: LoadOptions) -> Result<Store, StoreError> {
        let (calls, errors, arenas) = read_dir_files(dir, &|(source, name, body)| {
            check_fixture(&name, body, &source, opts)
        })?;
        Store::from_checked(calls, errors, arenas)
    }
}

impl Store {
    /// Builds a store from (source, file name, bytes) triples, checking the calls on every core.
    /// Two files with the same call id are refused, both named.
    pub fn from_sources(
        calls: Vec<(String, String, Bytes)>,
        errors: Vec<(String, String, Bytes)>,
        opts: LoadOptions,
    ) -> Result<Store, StoreError> {
        Store::from_checked(
            map_on_every_core(calls, |(source, name, body)| {
                check_fixture(&name, body, &source, opts)
            }),
            errors,
            Vec::new(),
        )
    }

    /// The store of calls already checked; every bad file is reported, in the order of their
    /// paths. `arenas`: the buffers the calls' files were read into, if any (the bodies are
    /// served as slices of them: `loaded.rs`).
    fn from_checked(
        calls: Vec<Result<Fixture, BadFile>>,
        errors: Vec<(String, String, Bytes)>,
        arenas: Vec<Bytes>,
    ) -> Result<Store, StoreError> {
        let (map, base_first, mut bad) = index(calls, arenas);
        let errors = load_error_bodies(&errors, &mut bad);
        bad.sort_by(|a, b| a.path.cmp(&b.path));
        match errors {
            Some(errors) if bad.is_empty() => {
                let base = Arc::new(map);
                Ok(Store {
                    base_ids: sort_ids(&base),
                    base_first,
                    len: base.len(),
                    base,
                    added: Calls::default(),
                    removed: Default::default(),
                    ids: None,
                    errors: Arc::new(errors),
                })
            }
            _ => Err(StoreError::BadFiles(bad)),
        }
    }

    /// The fixture of a call id.
    pub fn get(&self, id: &str) -> Option<&Fixture> {
        match self.changed(id) {
            Some(changed) => changed,
            None => self.base.get(id),
        }
    }

    /// The body of a call id, to send: what [`Store::get`] finds, as stored. For a loaded call
    /// this reads one slot of the loaded set, not the whole fixture (see [`Chunk`]).
    pub fn body(&self, id: &str) -> Option<Chunk> {
        match self.changed(id) {
            Some(changed) => changed.map(|f| Chunk::from(f.body.clone())),
            None => Loaded::chunk(&self.base, id),
        }
    }

    /// What the changes since the load say of `id`: `Some(Some(_))` added or replaced,
    /// `Some(None)` removed, `None` as loaded (the change maps are asked only when they hold
    /// something).
    fn changed(&self, id: &str) -> Option<Option<&Fixture>> {
        if !self.added.is_empty() {
            if let Some(f) = self.added.get(id) {
                return Some(Some(f));
            }
        }
        if !self.removed.is_empty() && self.removed.contains(id) {
            return Some(None);
        }
        None
    }

    /// Every call id, sorted (a copy: O(calls); [`Store::id_set`] lends them without copying).
    pub fn ids(&self) -> Vec<String> {
        self.id_set().iter().cloned().collect()
    }

    /// Every call id, sorted, as held (ordered lookups: a range of ids from a prefix). Right after
    /// a large set is loaded, waits for the ids to be sorted.
    pub fn id_set(&self) -> &imbl::OrdSet<String> {
        match &self.ids {
            Some(ids) => ids,
            None => self.base_ids.wait(),
        }
    }

    /// The lowest call id, without waiting for the sorted ids.
    pub fn first_id(&self) -> Option<&str> {
        match &self.ids {
            Some(ids) => ids.get_min().map(String::as_str),
            None => self.base_first.as_deref(),
        }
    }

    /// Every fixture, in id order.
    pub fn fixtures(&self) -> impl Iterator<Item = &Fixture> {
        self.id_set().iter().filter_map(|id| self.get(id))
    }

    /// Number of calls.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No calls at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sorted ids, to change (a copy of the loaded ones on the first change: O(1)).
    fn ids_mut(&mut self) -> &mut imbl::OrdSet<String> {
        let base = &self.base_ids;
        self.ids.get_or_insert_with(|| base.wait().clone())
    }

    /// The error bodies.
    pub fn errors(&self) -> &ErrorBodies {
        &self.errors
    }

    /// Adds or replaces one call (admin API, hot reload, a made call); the old one, if any, is
    /// returned. O(log calls).
    pub fn insert(&mut self, fixture: Fixture) -> Option<Fixture> {
        let id = fixture.id.clone();
        let old = self.get(&id).cloned();
        self.removed.remove(&id);
        self.added.insert(id.clone(), Arc::new(fixture));
        if old.is_none() {
            self.ids_mut().insert(id);
            self.len += 1;
        }
        old
    }

    /// Removes one call. O(log calls).
    pub fn remove(&mut self, id: &str) -> Option<Fixture> {
        let old = self.get(id).cloned()?;
        self.added.remove(id);
        if self.base.contains(id) {
            self.removed.insert(id.to_owned());
        }
        self.ids_mut().remove(id);
        self.len -= 1;
        Some(old)
    }
}

/// Validates one call body; its file name (less `.json`) must be the call id it holds. With the
/// `validate` feature: the full contract checks (schema, lossless decoding, invariants).
#[cfg(feature = "validate")]
pub fn check_fixture(
    name: &str,
    body: Bytes,
    source: &str,
    opts: LoadOptions,
) -> Result<Fixture, BadFile> {
    let id = name.strip_suffix(".json").unwrap_or(name).to_owned();
    let report = check_call_body(
        &body,
        Some(&id),
        CheckOptions {
            allow_out_of_spec: opts.allow_out_of_spec,
        },
    );
    if !report.is_ok() {
        return Err(BadFile {
            path: source.to_owned(),
            problems: report.violations,
        });
    }
    let call = report.envelope.as_ref().and_then(|e| e.call());
    Ok(Fixture {
        status: call.and_then(|c| c.status.clone()),
        end_call_reason: call.and_then(|c| c.end_call_reason.clone()),
        id,
        body,
        source: source.to_owned(),
    })
}

/// Checks one call body without the `validate` feature: it must decode into the typed model and
/// hold one call whose id is the file name (less `.json`).
#[cfg(not(feature = "validate"))]
pub fn check_fixture(
    name: &str,
    body: Bytes,
    source: &str,
    _opts: LoadOptions,
) -> Result<Fixture, BadFile> {
    let fixture = decoded_fixture(name, body, source)?;
    let envelope: synthflow::model::GetCallResponse =
        serde_json::from_slice(&fixture.body).map_err(|e| bad(source, json_violation(&e)))?;
    let found = envelope.call().and_then(|c| c.call_id.clone());
    if found.as_deref() != Some(fixture.id.as_str()) {
        return Err(bad(
            source,
            Violation {
                kind: ViolationKind::Invariant,
                pointer: "/response/calls/0/call_id".into(),
                message: format!("expected the call id {:?} (the file name)", fixture.id),
            },
        ));
    }
    Ok(fixture)
}

#[cfg(not(feature = "validate"))]
fn bad(source: &str, v: Violation) -> BadFile {
    BadFile {
        path: source.to_owned(),
        problems: vec![v],
    }
}

/// The embedded error bodies, as (source, file name, bytes).
fn embedded_errors() -> Vec<(String, String, Bytes)> {
    embedded::ERRORS
        .iter()
        .map(|(name, bytes)| {
            (
                format!("embedded:errors/{name}"),
                name.to_string(),
                Bytes::from_static(bytes),
            )
        })
        .collect()
}

/// A call body decoded with the typed model, for its id, status and end reason.
#[cfg(not(feature = "validate"))]
fn decoded_fixture(name: &str, body: Bytes, source: &str) -> Result<Fixture, BadFile> {
    let envelope: synthflow::model::GetCallResponse =
        serde_json::from_slice(&body).map_err(|e| BadFile {
            path: source.to_owned(),
            problems: vec![json_violation(&e)],
        })?;
    let call = envelope.call();
    Ok(Fixture {
        status: call.and_then(|c| c.status.clone()),
        end_call_reason: call.and_then(|c| c.end_call_reason.clone()),
        id: name.strip_suffix(".json").unwrap_or(name).to_owned(),
        source: source.to_owned(),
        body,
    })
}

fn load_error_bodies(
    files: &[(String, String, Bytes)],
    bad: &mut Vec<BadFile>,
) -> Option<ErrorBodies> {
    let mut get = |name: &str| -> Option<Template> {
        let found = files.iter().find(|f| f.1 == name);
        let problem = match found {
            None => Violation {
                kind: ViolationKind::Json,
                pointer: String::new(),
                message: "missing: every fixture set needs this error body".into(),
            },
            Some((_, _, bytes)) => match Template::new(bytes.clone()) {
                Ok(t) => return Some(t),
                Err(e) => json_violation(&e),
            },
        };
        let path = found.map_or_else(|| format!("errors/{name}"), |f| f.0.clone());
        bad.push(BadFile {
            path,
            problems: vec![problem],
        });
        None
    };
    let [a, b, c, d, e, f, g, h, i, j, k, l] = ErrorBodies::FILES.map(&mut get);
    Some(ErrorBodies {
        bad_request: a?,
        not_found: b?,
        missing_auth: c?,
        invalid_token: d?,
        route_not_found: e?,
        method_not_allowed: f?,
        forbidden: g?,
        rate_limited: h?,
        internal: i?,
        unavailable: j?,
        bad_query: k?,
        payload_too_large: l?,
    })
}

/// `f` over `items` on every core (rayon; results in input order); a small set (the embedded one)
/// stays on the calling thread, so a mock that loads only that starts no thread pool.
fn map_on_every_core<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    if items.len() < 64 {
        return items.into_iter().map(f).collect();
    }
    items.into_par_iter().map(f).collect()
}

/// A call id can be one: 1 to 128 characters of letters, digits and `-_.:~`.
pub fn is_well_formed(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(id: &str, body: &'static str) -> Fixture {
        Fixture {
            id: id.to_owned(),
            body: Bytes::from_static(body.as_bytes()),
            source: format!("test:{id}"),
            status: None,
            end_call_reason: None,
        }
    }

    /// The status and end reason build.rs reads into the embedded table are the typed model's.
    #[test]
    fn the_embedded_calls_list_the_status_and_end_reason_their_bodies_hold() {
        let store = Store::embedded().unwrap();
        assert!(store.len() > 10);
        for f in store.fixtures() {
            let envelope: synthflow::model::GetCallResponse =
                serde_json::from_slice(&f.body).unwrap();
            let call = envelope.call().unwrap();
            assert_eq!(f.status, call.status, "{}", f.source);
            assert_eq!(f.end_call_reason, call.end_call_reason, "{}", f.source);
            assert_eq!(call.call_id.as_deref(), Some(f.id.as_str()));
        }
        // Not all alike: the table is read, not defaulted.
        assert!(store.fixtures().any(|f| f.status.is_some()));
        assert!(store.fixtures().any(|f| f.end_call_reason.is_some()));
    }

    /// Every way the loaded set and the changes since can meet: the store must read like one map.
    #[test]
    fn changes_over_the_loaded_set_read_like_one_map() {
        let mut store = Store::embedded().unwrap();
        let loaded = store.ids();
        let (a, b) = (loaded[0].clone(), loaded[1].clone());
        let before = store.clone();

        // Replace a loaded call, then remove it: the loaded version must not come back.
        let old = store.insert(fixture(&a, "{\"v\":2}")).unwrap();
        assert_eq!(old.body, before.get(&a).unwrap().body);
        assert_eq!(&store.get(&a).unwrap().body[..], b"{\"v\":2}");
        assert_eq!(store.len(), loaded.len());
        assert_eq!(&store.remove(&a).unwrap().body[..], b"{\"v\":2}");
        assert!(store.get(&a).is_none());

        // Remove a loaded call, then add it again: the new one is served.
        store.remove(&b).unwrap();
        assert!(store.get(&b).is_none() && store.remove(&b).is_none());
        assert!(store.insert(fixture(&b, "{\"v\":3}")).is_none());
        assert_eq!(&store.get(&b).unwrap().body[..], b"{\"v\":3}");

        // A new id.
        assert!(store.insert(fixture("made-1", "{}")).is_none());
        assert_eq!(store.len(), loaded.len());
        let mut expected: Vec<String> = loaded.iter().filter(|id| **id != a).cloned().collect();
        expected.push("made-1".to_owned());
        expected.sort();
        assert_eq!(store.ids(), expected);
        assert_eq!(store.fixtures().count(), expected.len());

        // The clone taken before is untouched.
        assert_eq!(before.ids(), loaded);
        assert_eq!(before.get(&a).unwrap().body, old.body);
        assert!(before.get("made-1").is_none());
    }
}
