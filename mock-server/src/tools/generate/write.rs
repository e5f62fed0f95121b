//! Writing generated calls: the `calls/` tree (swapped in whole) and the table of a README.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::report::{splice_table, TABLE_BEGIN, TABLE_END};
use super::GeneratedFile;

/// Why a tree could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// `DIR/calls` already holds files and `replace` was not asked for.
    #[error("{0} already holds fixtures; pass --replace to replace the whole folder")]
    NotEmpty(String),
    /// Two generated calls drew the same id (never seen; refused rather than overwritten).
    #[error("two generated calls have the same id {0}")]
    DuplicateId(String),
    /// A README to update could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The README.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A README to update has no generated-table markers.
    #[error("{0} has no {begin} ... {end} markers", begin = TABLE_BEGIN, end = TABLE_END)]
    NoMarkers(String),
    /// The file system said no.
    #[error("cannot write {path}: {source}")]
    Io {
        /// What could not be written.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `files` as `out/calls/<id>.json`. The folder is built beside its final place and renamed
/// into it, so a reader never sees half a tree; with `replace`, an existing `calls/` is swapped out
/// whole (stale files go too).
pub fn write_tree(
    out: &Path,
    files: &[GeneratedFile],
    replace: bool,
) -> Result<PathBuf, WriteError> {
    let mut seen = HashSet::with_capacity(files.len());
    for f in files {
        if !seen.insert(f.id.as_str()) {
            return Err(WriteError::DuplicateId(f.id.clone()));
        }
    }
    let target = out.join("calls");
    let occupied = std::fs::read_dir(&target)
        .map(|mut rd| rd.next().is_some())
        .unwrap_or(false);
    if occupied && !replace {
        return Err(WriteError::NotEmpty(target.display().to_string()));
    }
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let tmp = out.join(format!(".calls.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(io_err(&tmp))?;
    for f in files {
        let p = tmp.join(format!("{}.json", f.id));
        std::fs::write(&p, &f.body).map_err(io_err(&p))?;
    }
    let old = out.join(format!(".calls.old-{}", std::process::id()));
    if target.exists() {
        std::fs::rename(&target, &old).map_err(io_err(&target))?;
    }
    std::fs::rename(&tmp, &target).map_err(io_err(&target))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io_err(&old))?;
    }
    Ok(target)
}

/// Rewrites the generated table of a markdown file, through a temp file and a rename.
pub fn update_readme(path: &Path, table: &str) -> Result<(), WriteError> {
    let text = std::fs::read_to_string(path).map_err(|source| WriteError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let new = splice_table(&text, table)
        .ok_or_else(|| WriteError::NoMarkers(path.display().to_string()))?;
    crate::tools::atomic_file::write_atomic(path, new.as_bytes()).map_err(io_err(path))
}
