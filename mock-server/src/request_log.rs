//! The per-request log line: `request method=GET path=/v2/calls/… status=200 latency_us=141`.
//!
//! A `tracing` event at `info` under [`LOG_TARGET`], written by whatever subscriber is installed:
//! the binary's is `tracing-subscriber`'s fmt layer on a small non-blocking writer (std's bounded channel and one thread, `bin/synthflow-mock/logs.rs`)
//! (a request never waits for stderr). The method and path are recorded with `Display` (`%`), so
//! the text format writes them unquoted, as the line always read; `RUST_LOG` decides whether it
//! is written ([`enabled`], asked before the request is answered).

use std::time::Instant;

/// The `tracing` target of the per-request line.
pub const LOG_TARGET: &str = "synthflow_mock::request";

/// Bytes of the path the log line carries: a 65 kB URL does not write a 65 kB line.
pub const LOG_PATH_MAX: usize = 512;

/// Whether the line of a request is to be written (asked before the request is answered, so
/// that nothing is measured for a line nobody reads).
pub fn enabled() -> bool {
    tracing::enabled!(target: LOG_TARGET, tracing::Level::INFO)
}

/// When a request started: the time its line's latency is counted from (monotonic).
#[derive(Debug, Clone, Copy)]
pub struct Started(Instant);

impl Started {
    /// Now.
    pub fn now() -> Started {
        Started(Instant::now())
    }
}

/// Writes the line of one answered request that started at `started` (the caller has asked
/// [`enabled`]).
pub fn write(started: Started, method: &str, path: &str, status: u16) {
    let latency_us = u64::try_from(started.0.elapsed().as_micros()).unwrap_or(u64::MAX);
    if path.len() <= LOG_PATH_MAX {
        tracing::info!(target: LOG_TARGET, method = %method, path = %path, status, latency_us, "request");
    } else {
        let path = cut_path(path);
        tracing::info!(target: LOG_TARGET, method = %method, path = %path, status, latency_us, "request");
    }
}

/// A path longer than [`LOG_PATH_MAX`]: cut on a character boundary and marked.
#[cold]
fn cut_path(path: &str) -> String {
    let mut end = LOG_PATH_MAX;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes cut]", &path[..end], path.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_path_is_cut_on_a_character_boundary_and_marked() {
        let path = format!("/{}", "é".repeat(600));
        let logged = cut_path(&path);
        let (kept, mark) = logged.split_once('…').unwrap();
        assert!(kept.len() <= LOG_PATH_MAX && path.starts_with(kept));
        assert!(kept.len() > LOG_PATH_MAX - 2, "cut at the last boundary");
        assert_eq!(mark, format!("[{} bytes cut]", path.len() - kept.len()));
    }
}
