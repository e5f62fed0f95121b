//! The cache of fixture files already checked, so that a restart on an unchanged folder of 100,000
//! calls does not run the contract checks again (they are most of a cold start: ~30 µs a file).
//!
//! A file is known by the SHA-256 of its name and bytes (the name is the call id the check
//! expects): an edited, renamed or new file is checked again; an unchanged one is served with the
//! status and end reason recorded when it passed. The cache file starts with a header naming the
//! checks' version ([`synthflow::contract::checks_version`]), the caller's own version string (the
//! binary passes its size and modification time, so a rebuilt validator starts afresh) and the
//! options; any difference and the whole cache is ignored. Only files that passed are recorded.
//!
//! Written atomically (a temporary file in the same folder, then a rename), and only when the set
//! changed; a cache that cannot be read or written is no cache (a warning), never an error.

use std::io::Write;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use synthflow::model::{CallStatus, EndCallReason};

use super::{check_fixture, read_dir_files, Fixture, LoadOptions, Store, StoreError};

impl Store {
    /// [`Store::from_dir`], skipping the contract checks of the files `cache` records as passed
    /// (unchanged since), and recording the set that passed now (see [`crate::store::cache`]).
    pub fn from_dir_cached(
        dir: &Path,
        opts: LoadOptions,
        cache: &CacheFile,
    ) -> Result<Store, StoreError> {
        let (calls, errors) = read_dir_files(dir)?;
        let known = Validated::read(&cache.path, &cache.version, opts);
        let passed = std::sync::Mutex::new(Vec::with_capacity(calls.len()));
        let checked = std::sync::atomic::AtomicUsize::new(0);
        let store = Store::load(calls, errors, |(source, name, body)| {
            let key = key(&name, &body);
            let fixture = match known.get(&key) {
                Some(p) => Fixture {
                    id: name.strip_suffix(".json").unwrap_or(&name).to_owned(),
                    status: p.status.as_deref().map(CallStatus::from),
                    end_call_reason: p.end_call_reason.as_deref().map(EndCallReason::from),
                    body,
                    source,
                },
                None => {
                    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    check_fixture(&name, body, &source, opts)?
                }
            };
            let entry = Passed {
                status: fixture.status.as_ref().map(|s| s.as_str().to_owned()),
                end_call_reason: fixture
                    .end_call_reason
                    .as_ref()
                    .map(|s| s.as_str().to_owned()),
            };
            passed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((key, entry));
            Ok(fixture)
        })?;
        let passed = passed.into_inner().unwrap_or_else(|e| e.into_inner());
        let checked = checked.into_inner();
        if checked > 0 || passed.len() != known.len() {
            if let Err(e) = write(&cache.path, &cache.version, opts, &passed) {
                tracing::warn!(cache = %cache.path.display(), error = %e, "cannot write the fixture cache; the next start checks every file again");
            }
        }
        tracing::info!(
            files = store.len(),
            checked,
            cached = store.len() - checked.min(store.len()),
            cache = %cache.path.display(),
            "fixtures loaded"
        );
        Ok(store)
    }
}

/// Where [`Store::from_dir_cached`] keeps its record, and the version it must match.
#[derive(Debug, Clone)]
pub struct CacheFile {
    /// The cache file (see [`file_for`]).
    pub path: PathBuf,
    /// The caller's version: a cache written under another is ignored.
    pub version: String,
}

const FORMAT: &str = "synthflow-mock validated-fixtures 1";

/// The key of one file: SHA-256 of its name, a NUL and its bytes.
pub type Key = [u8; 32];

/// What is kept of a file that passed: its status and end reason, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// `status`, if the call has one.
    pub status: Option<String>,
    /// `end_call_reason`, if the call has one.
    pub end_call_reason: Option<String>,
}

/// The key of a file.
pub fn key(name: &str, bytes: &[u8]) -> Key {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0]);
    h.update(bytes);
    h.finalize().into()
}

/// The files a cache file records, read at start.
#[derive(Debug, Default)]
pub struct Validated {
    entries: FxHashMap<Key, Passed>,
}

impl Validated {
    /// The cache at `path` if its header matches `version` and `opts`; empty otherwise.
    pub fn read(path: &Path, version: &str, opts: LoadOptions) -> Validated {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Validated::default();
        };
        let mut lines = text.lines();
        if lines.next() != Some(header(version, opts).as_str()) {
            return Validated::default();
        }
        let mut entries = FxHashMap::default();
        entries.reserve(text.len() / 80);
        for line in lines {
            let mut parts = line.split('\t');
            let (Some(hex), Some(status), Some(end)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let Some(key) = unhex(hex) else { continue };
            let field = |s: &str| (!s.is_empty()).then(|| s.to_owned());
            entries.insert(
                key,
                Passed {
                    status: field(status),
                    end_call_reason: field(end),
                },
            );
        }
        Validated { entries }
    }

    /// What was recorded for a file, if it passed before.
    pub fn get(&self, key: &Key) -> Option<&Passed> {
        self.entries.get(key)
    }

    /// Number of files recorded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Writes the cache of exactly `passed` to `path`, atomically.
pub fn write(
    path: &Path,
    version: &str,
    opts: LoadOptions,
    passed: &[(Key, Passed)],
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut text = String::with_capacity(80 * passed.len() + 100);
    text.push_str(&header(version, opts));
    text.push('\n');
    for (key, p) in passed {
        let clean = |s: &Option<String>| !matches!(s, Some(s) if s.contains(['\t', '\n', '\r']));
        if !clean(&p.status) || !clean(&p.end_call_reason) {
            continue; // checked again next time
        }
        for b in key {
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 15)]));
        }
        text.push('\t');
        text.push_str(p.status.as_deref().unwrap_or(""));
        text.push('\t');
        text.push_str(p.end_call_reason.as_deref().unwrap_or(""));
        text.push('\n');
    }
    let mut tmp = tempfile_in(dir, path)?;
    let result = tmp
        .1
        .write_all(text.as_bytes())
        .and_then(|()| tmp.1.sync_all());
    drop(tmp.1);
    if let Err(e) = result.and_then(|()| std::fs::rename(&tmp.0, path)) {
        let _ = std::fs::remove_file(&tmp.0);
        return Err(e);
    }
    Ok(())
}

/// The cache file of the fixture folder `fixtures` inside `cache_dir`: one per folder, named by
/// the hash of the folder's absolute path.
pub fn file_for(cache_dir: &Path, fixtures: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(fixtures).unwrap_or_else(|_| fixtures.to_path_buf());
    let digest = Sha256::digest(abs.to_string_lossy().as_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    cache_dir.join(format!("validated-{name}.tsv"))
}

/// The user's cache folder for the mock: `$XDG_CACHE_HOME/synthflow-mock`, else
/// `~/.cache/synthflow-mock` (`~/Library/Caches/synthflow-mock` on macOS,
/// `%LOCALAPPDATA%\synthflow-mock` on Windows); `None` when there is no home (a bare container).
pub fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        env("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library").join("Caches"))
    } else {
        env("XDG_CACHE_HOME").or_else(|| env("HOME").map(|h| h.join(".cache")))
    };
    base.map(|b| b.join("synthflow-mock"))
}

fn header(version: &str, opts: LoadOptions) -> String {
    format!(
        "{FORMAT}\t{}\t{}\tallow_out_of_spec={}",
        synthflow::contract::checks_version(),
        version.replace(['\t', '\n'], " "),
        opts.allow_out_of_spec
    )
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn unhex(s: &str) -> Option<Key> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// A new file beside `path` (same folder, so the rename is atomic), unique to this process.
fn tempfile_in(dir: &Path, path: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = std::fs::File::create(&tmp)?;
    Ok((tmp, file))
}
