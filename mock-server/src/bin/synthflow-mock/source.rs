//! Where `serve` and `list` take their fixtures from: the embedded set, or a folder (checked once,
//! with the cache of files already checked: see `synthflow_mock::internals::store::cache`).

use std::path::PathBuf;

use clap::Args;
use synthflow_mock::internals::store::{cache, CacheFile};
use synthflow_mock::{LoadOptions, Store};

#[derive(Args, Debug, Clone)]
pub struct SourceArgs {
    /// Serve this folder (`DIR/calls/*.json`, `DIR/errors/*.json`) instead of the embedded fixtures.
    #[arg(long, env = "SYNTHFLOW_MOCK_FIXTURES", value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Accept enum values the vendor's document does not list (recorded live data).
    #[arg(long, env = "SYNTHFLOW_MOCK_ALLOW_OUT_OF_SPEC")]
    pub allow_out_of_spec: bool,
    /// Where the record of fixture files already checked is kept, so that a restart on an
    /// unchanged folder skips their checks (default: the user's cache folder, e.g.
    /// ~/.cache/synthflow-mock).
    #[arg(long, env = "SYNTHFLOW_MOCK_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Check every fixture file at start, without reading or writing the cache.
    #[arg(long, env = "SYNTHFLOW_MOCK_NO_CACHE")]
    pub no_cache: bool,
}

/// This binary's identity for the fixture cache: its version, size and modification time, so
/// that a rebuilt validator (a changed check under the same version) starts afresh.
fn binary_version() -> String {
    let meta = std::env::current_exe().and_then(std::fs::metadata);
    let (len, modified) = meta.map_or((0, 0), |m| {
        let at = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        (m.len(), at)
    });
    format!(
        "synthflow-mock-{} {len} {modified}",
        env!("CARGO_PKG_VERSION")
    )
}

pub fn load(source: &SourceArgs) -> Result<Store, String> {
    let opts = LoadOptions {
        allow_out_of_spec: source.allow_out_of_spec,
    };
    let cache_dir = (!source.no_cache)
        .then(|| source.cache_dir.clone().or_else(cache::default_dir))
        .flatten();
    let result = match (&source.fixtures, cache_dir) {
        (Some(dir), Some(cache_dir)) => Store::from_dir_cached(
            dir,
            opts,
            &CacheFile {
                path: cache::file_for(&cache_dir, dir),
                version: binary_version(),
            },
        ),
        (Some(dir), None) => Store::from_dir(dir, opts),
        (None, _) => Store::embedded(),
    };
    result.map_err(|e| format!("synthflow-mock: refusing to start: {e}"))
}
