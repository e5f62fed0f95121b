//! Reading a fixture folder's files: many small files into few large buffers.
//!
//! A folder of 100,000 calls is 100,000 files of ~1.4 kB. Read one `Vec` each (`std::fs::read`),
//! they cost 100,000 allocations, which on the reading threads mostly means growing malloc's
//! per-thread heaps a page at a time (`mprotect`; a fifth of a warm start by `perf`), and they
//! land scattered over the heap. Here each run of files is read into shared arenas of
//! [`ARENA_BYTES`], and every body is a [`Bytes`] slice of its arena: one allocation per ~180
//! files, the bodies side by side in the order the folder lists them. An arena's untouched tail
//! is not written, so the unused end of a run's last arena costs address space, not resident
//! memory. The folder is listed on one thread while the runs listed so far are read on every core
//! (a listing of 100,000 names takes ~0.1 s), and each file is checked right after its run is
//! read, while its bytes are still in the cache.
//!
//! A file is read as of its size (`fstat`), with one `read` where `std::fs::read` makes two (it
//! reads again to see the end of the file).
//!
//! What it costs: an arena lives as long as any of its bodies, so a call replaced later (hot
//! reload, the admin API) keeps the rest of its arena's bytes until they are all replaced: at most
//! the bytes of the set as loaded.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::{embedded_errors, BadFile, Fixture, StoreError};

/// Bytes per arena: ~180 fixtures of 1.4 kB; above malloc's threshold, so each is its own mapping
/// and its unused tail is never touched.
pub const ARENA_BYTES: usize = 256 * 1024;

/// Files as (source, file name, bytes).
pub(super) type Files = Vec<(String, String, Bytes)>;

/// A fixture file's check: (source, file name, bytes) to the fixture, or why it is bad.
pub(super) type Check<'a> = dyn Fn((String, String, Bytes)) -> Result<Fixture, BadFile> + Sync + 'a;

/// The call files of a fixture folder, read and put through `check` on every core, its error
/// files (see `Store::from_dir`), and the arenas the call files were read into.
#[allow(clippy::type_complexity)]
pub(super) fn read_dir_files(
    dir: &Path,
    check: &Check<'_>,
) -> Result<(Vec<Result<Fixture, BadFile>>, Files, Vec<Bytes>), StoreError> {
    let calls_dir = if dir.join("calls").is_dir() {
        dir.join("calls")
    } else {
        dir.to_path_buf()
    };
    let (mut calls, mut arenas) = read_json_files(&calls_dir, check)?;
    let handmade = dir.join("handmade").join("calls");
    if handmade.is_dir() {
        let (more, their_arenas) = read_json_files(&handmade, check)?;
        calls.extend(more);
        arenas.extend(their_arenas);
    }
    if calls.is_empty() {
        return Err(StoreError::Empty(calls_dir.display().to_string()));
    }
    let errors_dir = dir.join("errors");
    let mut errors = embedded_errors();
    if errors_dir.is_dir() {
        for own in read_json_files(&errors_dir, &|file: (String, String, Bytes)| file)?.0 {
            errors.retain(|e| e.1 != own.1);
            errors.push(own);
        }
    }
    Ok((calls, errors, arenas))
}

/// `f` over every `*.json` file of `dir` (source, file name, bytes), in the folder's own order,
/// and the arenas the files were read into. The folder is listed on one thread while runs of the
/// files listed so far are read (into shared arenas: see the module docs) and put through `f` on
/// every core, each file right after its run is read.
fn read_json_files<R: Send>(
    dir: &Path,
    f: &(dyn Fn((String, String, Bytes)) -> R + Sync),
) -> Result<(Vec<R>, Vec<Bytes>), StoreError> {
    let io = |source| StoreError::Io {
        path: dir.display().to_string(),
        source,
    };
    // The entry's own file type (no stat per file where the file system reports it); a symlink is
    // followed.
    let paths = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_ok_and(|t| {
                let keep = t.is_file() || (t.is_symlink() && e.path().is_file());
                if !keep && t.is_symlink() && e.path().extension().is_some_and(|x| x == "json") {
                    // `validate` reports it; `serve` goes on without it, but says so.
                    tracing::warn!(file = %e.path().display(), "skipped: a symlink that does not lead to a readable file");
                }
                keep
            })
        })
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"));
    let run = |paths: &[PathBuf]| -> Result<(Vec<R>, Vec<Bytes>), StoreError> {
        let (bodies, arenas) = read_files(paths).map_err(|(i, source)| StoreError::Io {
            path: paths[i].display().to_string(),
            source,
        })?;
        let done = paths
            .iter()
            .zip(bodies)
            .map(|(p, body)| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                f((p.to_string_lossy().into_owned(), name.into_owned(), body))
            })
            .collect();
        Ok((done, arenas))
    };
    // A folder of one run is read on this thread (no thread pool for a few files).
    let mut paths = paths.peekable();
    let first: Vec<PathBuf> = paths.by_ref().take(FILES_PER_RUN).collect();
    if paths.peek().is_none() {
        return run(&first);
    }
    // Run n's result at place n; each run goes out as soon as it is listed.
    let done = std::sync::Mutex::new(Vec::new());
    rayon::scope(|s| {
        let (mut listed, mut next) = (Vec::with_capacity(FILES_PER_RUN), 0);
        let mut send = |listed: Vec<PathBuf>| {
            let (done, run, n) = (&done, &run, next);
            next += 1;
            s.spawn(move |_| {
                let result = run(&listed);
                done.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((n, result));
            });
        };
        send(first);
        for p in paths {
            listed.push(p);
            if listed.len() == FILES_PER_RUN {
                send(std::mem::replace(
                    &mut listed,
                    Vec::with_capacity(FILES_PER_RUN),
                ));
            }
        }
        if !listed.is_empty() {
            send(listed);
        }
    });
    let mut runs = done.into_inner().unwrap_or_else(|e| e.into_inner());
    runs.sort_unstable_by_key(|(n, _)| *n);
    let mut files = Vec::with_capacity(runs.len() * FILES_PER_RUN);
    let mut arenas = Vec::new();
    for (_, run) in runs {
        let (done, its_arenas) = run?;
        files.extend(done);
        arenas.extend(its_arenas);
    }
    Ok((files, arenas))
}

/// Files per run of [`read_json_files`]: enough to fill a few arenas, few enough that the other
/// core starts soon and both get an even share.
const FILES_PER_RUN: usize = 256;

/// Reads every file of `paths`, in order, into shared arenas: each file's bytes (a slice of an
/// arena, or a buffer of its own), and the arenas. `Err` carries the place of the path that
/// failed.
#[allow(clippy::type_complexity)]
pub fn read_files<P: AsRef<Path>>(
    paths: &[P],
) -> Result<(Vec<Bytes>, Vec<Bytes>), (usize, io::Error)> {
    let mut arenas = Arenas::default();
    let mut spans = Vec::with_capacity(paths.len());
    for (i, p) in paths.iter().enumerate() {
        spans.push(arenas.read(p.as_ref()).map_err(|e| (i, e))?);
    }
    let frozen = arenas.freeze();
    let files = spans
        .into_iter()
        .map(|span| match span {
            Span::Arena(n, range) => frozen[n].slice(range),
            Span::Own(bytes) => bytes,
        })
        .collect();
    Ok((files, frozen))
}

/// Where a file's bytes ended up.
enum Span {
    /// A range of the n-th arena.
    Arena(usize, Range<usize>),
    /// A buffer of its own (a file larger than a quarter of an arena).
    Own(Bytes),
}

#[derive(Default)]
struct Arenas {
    full: Vec<Vec<u8>>,
    /// The arena being filled: `len` is what is used, `capacity` its size.
    current: Vec<u8>,
}

impl Arenas {
    fn read(&mut self, path: &Path) -> io::Result<Span> {
        let mut file = File::open(path)?;
        let size = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        if size > ARENA_BYTES / 4 {
            let mut bytes = Vec::with_capacity(size.saturating_add(1));
            file.read_to_end(&mut bytes)?;
            return Ok(Span::Own(Bytes::from(bytes)));
        }
        if self.current.capacity() - self.current.len() < size {
            let done = std::mem::replace(&mut self.current, Vec::with_capacity(ARENA_BYTES));
            if !done.is_empty() {
                self.full.push(done);
            }
        }
        // At most `size` bytes, into the arena's room: once they are read, `Take` ends the read
        // without asking the file again. A file written meanwhile is read as of its size (the
        // watcher sees the write and reloads it).
        let start = self.current.len();
        (&mut file)
            .take(size as u64)
            .read_to_end(&mut self.current)?;
        Ok(Span::Arena(self.full.len(), start..self.current.len()))
    }

    /// The arenas as shared buffers, by number.
    fn freeze(mut self) -> Vec<Bytes> {
        if !self.current.is_empty() {
            self.full.push(std::mem::take(&mut self.current));
        }
        self.full.into_iter().map(Bytes::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_read_whole_in_order_small_and_large_alike() {
        let dir = tempfile::tempdir().unwrap();
        // Enough small files to fill several arenas, one larger than an arena, one empty.
        let mut expected = Vec::new();
        for i in 0..600 {
            let body = format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i * 7 % 3000));
            expected.push(body.into_bytes());
        }
        expected.insert(300, vec![b'y'; ARENA_BYTES * 2 + 5]);
        expected.insert(10, Vec::new());
        let paths: Vec<_> = expected
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let p = dir.path().join(format!("{i:04}.json"));
                std::fs::write(&p, body).unwrap();
                p
            })
            .collect();
        let (got, arenas) = read_files(&paths).unwrap();
        // ~600 small files of up to 3 kB fill several arenas; the large file is not in one.
        assert!(arenas.len() > 2, "{} arenas", arenas.len());
        assert!(arenas.iter().all(|a| a.len() <= ARENA_BYTES));
        assert_eq!(got.len(), expected.len());
        for (i, (got, want)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(got.as_ref(), want.as_slice(), "file {i}");
        }
    }

    #[test]
    fn a_missing_file_is_named_by_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        std::fs::write(&a, "{}").unwrap();
        let paths = [a, dir.path().join("gone.json")];
        let (at, e) = read_files(&paths).unwrap_err();
        assert_eq!(at, 1);
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
