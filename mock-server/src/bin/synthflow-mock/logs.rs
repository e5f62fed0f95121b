//! The log of `serve`: `tracing` events on stderr, through the buffered writer of
//! [`synthflow_mock::internals::log_writer`] (a request never waits for stderr; lines are written every few
//! milliseconds, and at exit).
//!
//! In the plain-text format to a file or a pipe, the per-request line is written straight into
//! the buffer by [`synthflow_mock::internals::request_log`] (the same text as `tracing-subscriber`'s default
//! format, at a fraction of the cost). Every other event, and the JSON format, go through
//! `tracing-subscriber`. Kept with its measurement (issue 29): the same line through
//! `tracing-subscriber`'s fmt layer cost the default configuration a quarter of its requests a
//! second (docs/performance.md, "Hand-made parts").

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use synthflow_mock::internals::log_writer::{self, FlushGuard, LogBuffer};

/// The buffer of the running process, for [`flush`] from places that print to stderr directly
/// or exit.
static BUFFER: OnceLock<Arc<LogBuffer>> = OnceLock::new();

/// `--log-format json`: every line the process writes, on either stream, is one JSON object.
static JSON: AtomicBool = AtomicBool::new(false);

/// A line written outside `tracing` (the start banner, a refusal to start, the shutdown report),
/// as plain text, or in JSON mode as one object shaped like `tracing-subscriber`'s JSON lines
/// (`timestamp`, `level`, `fields.message`, `target`), so a collector reading both streams
/// parses every line. Buffered log lines are written first, so the order holds.
pub fn line(to_stdout: bool, level: &str, text: &str) {
    flush();
    let out = if JSON.load(Ordering::Relaxed) {
        serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": level,
            "fields": {"message": text},
            "target": "synthflow_mock",
        })
        .to_string()
    } else {
        text.to_owned()
    };
    if to_stdout {
        println!("{out}");
    } else {
        eprintln!("{out}");
    }
}

/// Installs the subscriber (filter from `RUST_LOG`, `info` by default). Keep the guard until the
/// server has stopped: dropping it writes the lines still buffered.
pub fn init(json: bool) -> Option<FlushGuard> {
    JSON.store(json, Ordering::Relaxed);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let started = LogBuffer::start(
        std::io::stderr(),
        log_writer::FLUSH_EVERY,
        log_writer::DEFAULT_CAPACITY,
    );
    let (buffer, guard) = match started {
        Ok((b, g)) => (b, g),
        Err(e) => {
            // No thread for the flusher: write each line as it comes.
            line(
                false,
                "WARN",
                &format!("synthflow-mock: log lines unbuffered ({e})"),
            );
            let logs = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr);
            if json {
                logs.json().init();
            } else {
                logs.with_ansi(false).init();
            }
            return None;
        }
    };
    let _ = BUFFER.set(buffer.clone());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(buffer.clone());
    if json {
        logs.json().init();
    } else {
        // No colours (tracing-subscriber without its `ansi` feature: a package less in the first
        // build), so a terminal gets the direct line too.
        logs.with_ansi(false).init();
        // The per-request line skips `tracing` (synthflow_mock::internals::request_log); the rest
        // is the default format, the same text. After `init`: the filter is asked here, once.
        synthflow_mock::internals::request_log::write_directly_to(buffer.clone());
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        flush();
        previous(info);
    }));
    Some(guard)
}

/// Writes the buffered lines now (before printing to stderr directly, or exiting).
pub fn flush() {
    if let Some(b) = BUFFER.get() {
        b.flush();
    }
}

/// Log lines dropped so far because the output did not keep up.
pub fn dropped() -> u64 {
    BUFFER.get().map_or(0, |b| b.dropped())
}
