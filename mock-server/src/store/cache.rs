//! The cache of fixture files already checked, so that a restart on an unchanged folder of 100,000
//! calls does not run the contract checks again (they are most of a cold start: ~30 µs a file).
//!
//! A file is known by the 128-bit XXH3 hash of its name and bytes (the name is the call id the
//! check expects): an edited, renamed or new file is checked again; an unchanged one is served
//! with the status and end reason recorded when it passed. The cache file starts with a header naming the
//! checks' version ([`synthflow::contract::checks_version`]), the caller's own version string (the
//! binary passes its size and modification time, so a rebuilt validator starts afresh) and the
//! options; any difference and the whole cache is ignored. Only files that passed are recorded.
//!
//! Written atomically (a temporary file in the same folder, then a rename), and only when the set
//! changed; a cache that cannot be read or written is no cache (a warning), never an error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use synthflow::model::{CallStatus, EndCallReason};

use super::later::Later;
use super::{check_fixture, read_dir_files, Fixture, LoadOptions, Store, StoreError};

impl Store {
    /// [`Store::from_dir`], skipping the contract checks of the files `cache` records as passed
    /// (unchanged since), and recording the set that passed now (see [`crate::store::cache`]).
    pub fn from_dir_cached(
        dir: &Path,
        opts: LoadOptions,
        cache: &CacheFile,
    ) -> Result<Store, StoreError> {
        // The record (~3 MB for 100,000 files) is read on a thread of its own while the folder is
        // listed and read; a file waits for it only to be looked up.
        let record: Later<Validated> = Later::new();
        let checked = AtomicUsize::new(0);
        let (calls, errors, arenas) = std::thread::scope(|scope| {
            let reader = std::thread::Builder::new()
                .name("fixture-cache".into())
                .spawn_scoped(scope, || {
                    record.set(Validated::read(&cache.path, &cache.version, opts));
                });
            if reader.is_err() {
                record.set(Validated::read(&cache.path, &cache.version, opts));
            }
            read_dir_files(dir, &|(source, name, body)| {
                let key = key(&name, &body);
                match record.wait().get(&key) {
                    Some(p) => Ok(Fixture {
                        id: name.strip_suffix(".json").unwrap_or(&name).to_owned(),
                        status: p.status.map(CallStatus::from),
                        end_call_reason: p.end_call_reason.map(EndCallReason::from),
                        body,
                        source,
                    }),
                    None => {
                        checked.fetch_add(1, Ordering::Relaxed);
                        check_fixture(&name, body, &source, opts)
                    }
                }
            })
        })?;
        let known = record.wait();
        let store = Store::from_checked(calls, errors, arenas)?;
        let checked = checked.into_inner();
        if checked > 0 || store.len() != known.len() {
            // Only when the set changed: the keys are computed again rather than kept for every
            // start that does not write.
            let fixtures: Vec<&Fixture> = store.fixtures().collect();
            let passed: Vec<(Key, Passed<'_>)> = fixtures
                .par_iter()
                .map(|f| {
                    let passed = Passed {
                        status: f.status.as_ref().map(|s| s.as_str()),
                        end_call_reason: f.end_call_reason.as_ref().map(|s| s.as_str()),
                    };
                    (key(&format!("{}.json", f.id), &f.body), passed)
                })
                .collect();
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

const FORMAT: &str = "synthflow-mock validated-fixtures 2";

/// The key of one file: XXH3-128 of its name, a NUL and its bytes. Why not a cryptographic hash:
/// the cache is the user's own record of their own files, so only an accidental collision could
/// matter (below 10^-28 for 100,000 files), and SHA-256 made two thirds of a warm start's work
/// after the reading (136 MB hashed for 100,000 files, `perf`).
pub type Key = [u8; 16];

/// What is kept of a file that passed: its status and end reason, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passed<'a> {
    /// `status`, if the call has one.
    pub status: Option<&'a str>,
    /// `end_call_reason`, if the call has one.
    pub end_call_reason: Option<&'a str>,
}

/// The key of a file.
pub fn key(name: &str, bytes: &[u8]) -> Key {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(name.as_bytes());
    h.update(&[0]);
    h.update(bytes);
    h.digest128().to_le_bytes()
}

/// The files a cache file records, read at start: the file's text, and by key where the key's
/// line goes on (no allocation per file: a warm start of 100,000 files reads 100,000 lines).
#[derive(Debug, Default)]
pub struct Validated {
    text: String,
    entries: FxHashMap<Key, usize>,
}

impl Validated {
    /// The cache at `path` if its header matches `version` and `opts`; empty otherwise.
    pub fn read(path: &Path, version: &str, opts: LoadOptions) -> Validated {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Validated::default();
        };
        let Some((first, _)) = text.split_once('\n') else {
            return Validated::default();
        };
        if first != header(version, opts) {
            return Validated::default();
        }
        // By bytes (a warm start of 100,000 files reads 100,000 lines before the first file is
        // looked up): a line is 32 hex digits, a tab, the status, a tab, the end reason.
        let body = &text.as_bytes()[first.len() + 1..];
        let mut entries = FxHashMap::default();
        entries.reserve(memchr::memchr_iter(b'\n', body).count() + 1);
        let mut at = first.len() + 1;
        for line in body.split_inclusive(|&b| b == b'\n') {
            let start = at;
            at += line.len();
            let hex_len = 2 * std::mem::size_of::<Key>();
            let (Some(hex), Some(b'\t')) = (line.get(..hex_len), line.get(hex_len)) else {
                continue;
            };
            let Some(key) = unhex(hex) else { continue };
            let fields = &line[hex_len + 1..];
            let fields = fields.strip_suffix(b"\n").unwrap_or(fields);
            if memchr::memchr_iter(b'\t', fields).count() != 1 || fields.contains(&b'\r') {
                continue;
            }
            entries.insert(key, start + hex_len + 1);
        }
        Validated { text, entries }
    }

    /// What was recorded for a file, if it passed before.
    pub fn get(&self, key: &Key) -> Option<Passed<'_>> {
        let rest = &self.text[*self.entries.get(key)?..];
        let rest = &rest[..memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len())];
        let (status, end) = rest.split_once('\t')?;
        Some(Passed {
            status: field(status),
            end_call_reason: field(end),
        })
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
    passed: &[(Key, Passed<'_>)],
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut text = String::with_capacity(80 * passed.len() + 100);
    text.push_str(&header(version, opts));
    text.push('\n');
    for (key, p) in passed {
        let clean = |s: Option<&str>| !matches!(s, Some(s) if s.contains(['\t', '\n', '\r']));
        if !clean(p.status) || !clean(p.end_call_reason) {
            continue; // checked again next time
        }
        for b in key {
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 15)]));
        }
        text.push('\t');
        text.push_str(p.status.unwrap_or(""));
        text.push('\t');
        text.push_str(p.end_call_reason.unwrap_or(""));
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

/// An empty field is no value.
fn field(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn unhex(s: &[u8]) -> Option<Key> {
    if s.len() != 2 * std::mem::size_of::<Key>() {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = Key::default();
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *o = digit(pair[0])? << 4 | digit(pair[1])?;
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
