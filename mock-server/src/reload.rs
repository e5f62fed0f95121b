//! Hot reload of a fixture folder (`--watch`).
//!
//! A file watcher (`notify`, debounced by `notify-debouncer-mini`) reports changes; once the
//! folder has been quiet for a short pause (so a burst of events is one reload) the call files it
//! named are read again, on the debouncer's thread ([`reload_paths`]; not the whole folder, which
//! may hold 100,000 calls). Each file is checked like at start-up:
//! - a new or changed good file is served from the next request on;
//! - a bad file (broken JSON, a contract violation, a half-written file) is reported in the log and
//!   the last good version of that call keeps being served;
//! - a deleted file's call is no longer served (calls added through the admin API stay).
//!
//! Nothing is served half-written: a call's body is one `Bytes`, and the whole fixture set is
//! swapped at once (see [`AppState::update_store`]), so a request sees either the old body or the
//! new one. Error bodies (`errors/`) are read at start-up only.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use notify::{RecursiveMode, Watcher};
use notify_debouncer_mini::{new_debouncer_opt, DebounceEventResult, Debouncer};

use crate::store::{check_fixture, BadFile};
use crate::AppState;

/// Pause after a change before reading the folder.
pub const SETTLE: Duration = Duration::from_millis(50);

/// What one reload did.
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// Calls added or changed.
    pub updated: Vec<String>,
    /// Calls whose file is gone.
    pub removed: Vec<String>,
    /// Files refused (their call keeps its last good version).
    pub bad: Vec<BadFile>,
    /// Files refused whose call was not served before: nothing is served for it.
    pub bad_new: Vec<BadFile>,
}

impl ReloadReport {
    fn refuse(&mut self, known: bool, bad: BadFile) {
        if known {
            self.bad.push(bad);
        } else {
            self.bad_new.push(bad);
        }
    }
}

/// The folder the call files are in: `DIR/calls` when present, `DIR` otherwise (as
/// [`crate::Store::from_dir`] reads it).
pub fn calls_dir(dir: &Path) -> PathBuf {
    if dir.join("calls").is_dir() {
        dir.join("calls")
    } else {
        dir.to_path_buf()
    }
}

/// Reads the folder again and applies what changed.
pub fn reload_dir(dir: &Path, state: &AppState) -> ReloadReport {
    let calls = calls_dir(dir);
    let mut files: Vec<(PathBuf, Result<Bytes, std::io::Error>)> = Vec::new();
    match std::fs::read_dir(&calls) {
        Ok(rd) => {
            for p in rd.filter_map(Result::ok).map(|e| e.path()) {
                if p.is_file() && p.extension().is_some_and(|e| e == "json") {
                    let bytes = std::fs::read(&p).map(Bytes::from);
                    files.push((p, bytes));
                }
            }
        }
        Err(e) => {
            tracing::error!(dir = %calls.display(), error = %e, "reload: cannot read the folder; keeping every call");
            return ReloadReport::default();
        }
    }
    apply(state, &calls, files, Gone::Unseen)
}

/// Applies the changes of `paths` only (what the watcher reported), without reading the rest of
/// the folder: on a folder of 100,000 calls, one edit reads one file. A path that is not a call
/// file of the folder is left alone; a change to the folder itself (moved, replaced) reads it all
/// again ([`reload_dir`]).
pub fn reload_paths(dir: &Path, paths: &[PathBuf], state: &AppState) -> ReloadReport {
    let calls = calls_dir(dir);
    let folder_changed = paths
        .iter()
        .any(|p| p == dir || p == &calls || (p.parent() == Some(calls.as_path()) && p.is_dir()));
    if folder_changed {
        return reload_dir(dir, state);
    }
    let mut files = Vec::new();
    let mut gone = Vec::new();
    let mut seen = HashSet::new();
    for p in paths {
        let is_call_file =
            p.parent() == Some(calls.as_path()) && p.extension().is_some_and(|e| e == "json");
        if !is_call_file || !seen.insert(p.clone()) {
            continue;
        }
        if p.is_file() {
            files.push((p.clone(), std::fs::read(p).map(Bytes::from)));
        } else if !p.exists() {
            gone.push(p.clone());
        }
    }
    apply(state, &calls, files, Gone::These(gone))
}

/// Which calls of the folder are gone: those whose file was not read (a whole folder was read),
/// or those of these paths.
enum Gone {
    Unseen,
    These(Vec<PathBuf>),
}

fn apply(
    state: &AppState,
    calls: &Path,
    files: Vec<(PathBuf, Result<Bytes, std::io::Error>)>,
    gone: Gone,
) -> ReloadReport {
    let mut report = ReloadReport::default();
    state.update_store(|store| {
        let mut seen = HashSet::new();
        for (path, bytes) in files {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let id = name.strip_suffix(".json").unwrap_or(&name).to_owned();
            seen.insert(id.clone());
            let source = path.display().to_string();
            let known = store.get(&id).is_some();
            let bytes = match bytes {
                Ok(b) => b,
                Err(e) => {
                    report.refuse(
                        known,
                        BadFile {
                            path: source,
                            problems: vec![synthflow::contract::json_violation(
                                &serde_json::Error::io(e),
                            )],
                        },
                    );
                    continue;
                }
            };
            if store.get(&id).is_some_and(|f| f.body == bytes) {
                continue;
            }
            match check_fixture(&name, bytes, &source, state.config().load) {
                Ok(f) => {
                    store.insert(f);
                    report.updated.push(id);
                }
                Err(b) => report.refuse(known, b),
            }
        }
        let gone: Vec<String> = match gone {
            Gone::Unseen => store
                .fixtures()
                .filter(|f| Path::new(&f.source).starts_with(calls) && !seen.contains(&f.id))
                .map(|f| f.id.clone())
                .collect(),
            Gone::These(paths) => paths
                .iter()
                .filter_map(|p| {
                    let name = p.file_name()?.to_string_lossy();
                    let id = name.strip_suffix(".json")?;
                    store
                        .get(id)
                        .is_some_and(|f| Path::new(&f.source) == p.as_path())
                        .then(|| id.to_owned())
                })
                .collect(),
        };
        for id in gone {
            store.remove(&id);
            report.removed.push(id);
        }
    });
    for id in &report.updated {
        tracing::info!(call_id = %id, "reload: serving the new version");
    }
    for id in &report.removed {
        tracing::info!(call_id = %id, "reload: file gone, call removed");
    }
    for b in &report.bad {
        tracing::error!(file = %b.path, problems = %b, "reload: bad file, keeping its last good version");
    }
    for b in &report.bad_new {
        tracing::error!(file = %b.path, problems = %b, "reload: bad new file, not served until it is fixed");
    }
    report
}

/// A running watcher; stops when dropped.
pub struct ReloadHandle {
    _debouncer: Debouncer<ChangesOnly>,
}

impl std::fmt::Debug for ReloadHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReloadHandle")
    }
}

/// Watches `dir` and reloads its calls into `state` once a burst of changes has settled
/// ([`SETTLE`]).
pub fn watch(dir: &Path, state: AppState) -> notify::Result<ReloadHandle> {
    let root = dir.to_path_buf();
    let config = notify_debouncer_mini::Config::default().with_timeout(SETTLE);
    let mut debouncer =
        new_debouncer_opt::<_, ChangesOnly>(config, move |r: DebounceEventResult| {
            match r {
                Ok(events) if !events.is_empty() => {
                    let paths: Vec<PathBuf> = events.into_iter().map(|e| e.path).collect();
                    reload_paths(&root, &paths, &state);
                }
                Ok(_) => {}
                // The watcher lost track (an overflowed queue): read the folder again.
                Err(_) => {
                    reload_dir(&root, &state);
                }
            }
        })?;
    debouncer.watcher().watch(dir, RecursiveMode::Recursive)?;
    Ok(ReloadHandle {
        _debouncer: debouncer,
    })
}

/// The platform's watcher, less the access events: a reload opens every file, and on Linux an
/// open is an event, which would start the next reload (the debouncer keeps no event kinds).
struct ChangesOnly(notify::RecommendedWatcher);

impl Watcher for ChangesOnly {
    fn new<F: notify::EventHandler>(
        mut handler: F,
        config: notify::Config,
    ) -> notify::Result<Self> {
        let filter = move |ev: notify::Result<notify::Event>| {
            if !ev.as_ref().is_ok_and(|e| e.kind.is_access()) {
                handler.handle_event(ev);
            }
        };
        notify::RecommendedWatcher::new(filter, config).map(ChangesOnly)
    }

    fn watch(&mut self, path: &Path, mode: RecursiveMode) -> notify::Result<()> {
        self.0.watch(path, mode)
    }

    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        self.0.unwatch(path)
    }

    fn kind() -> notify::WatcherKind {
        notify::RecommendedWatcher::kind()
    }
}
