//! The log of `serve`: `tracing` events on stderr through `tracing-subscriber`'s fmt layer and
//! `tracing-appender`'s non-blocking writer, lossy: a request never waits for stderr; a line that
//! finds the writer's queue full ([`QUEUED_LINES`]) is dropped and counted ([`dropped`]). The
//! appender's thread writes the lines through a buffer flushed after each batch it takes.
//!
//! `tracing-appender` has no flush: [`flush`] sends a marker line down the same queue and waits
//! until the appender's thread reaches it ([`Stderr`] answers it instead of writing it), so the
//! lines logged before it are out before anything is printed to stderr or stdout directly.

use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};

/// Lines the writer's queue holds before new ones are dropped: under 1 MB of request lines
/// (each its own allocation), 60 ms of them at 70,000 requests/s. The old hand-made buffer held
/// about as much (256 kB per writing thread); with `tracing-appender`'s default (128,000 lines)
/// a stuck stderr held ~25 MB.
pub const QUEUED_LINES: usize = 4 * 1024;

/// How long [`flush`] waits for the appender's thread (its marker was dropped from a full queue,
/// or stderr is stuck).
const FLUSH_WAIT: Duration = Duration::from_secs(1);

/// What [`flush`] sends down the queue, followed by its number (8 bytes); never written out.
const MARKER: &[u8] = b"\0synthflow-mock: flush\0";

/// The writer of the running process, for [`flush`] and [`dropped`].
static WRITER: OnceLock<NonBlocking> = OnceLock::new();

/// Set when the [`LogGuard`] is dropped: the appender's thread is gone, nothing to wait for.
static STOPPED: AtomicBool = AtomicBool::new(false);

/// The number of the last marker sent, and of the last one the appender's thread reached (a
/// marker dropped from a full queue is never reached; the next one still is).
static FLUSHES: (Mutex<(u64, u64)>, Condvar) = (Mutex::new((0, 0)), Condvar::new());

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

/// Keeps the appender's thread; dropping it writes the lines still queued (waiting at most a
/// second, `tracing-appender`'s own bound) and stops the thread.
pub struct LogGuard {
    _worker: WorkerGuard,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        STOPPED.store(true, Ordering::Relaxed);
    }
}

/// Installs the subscriber (filter from `RUST_LOG`, `info` by default). Keep the guard until the
/// server has stopped: dropping it writes the lines still queued.
pub fn init(json: bool) -> LogGuard {
    JSON.store(json, Ordering::Relaxed);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, worker) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("log-writer")
        .finish(Stderr(BufWriter::new(std::io::stderr())));
    let _ = WRITER.set(writer.clone());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if json {
        logs.json().init();
    } else {
        logs.with_ansi(terminal).init();
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        flush();
        previous(info);
    }));
    LogGuard { _worker: worker }
}

/// Writes the queued lines now (before printing to stderr directly, or exiting): waits until the
/// appender's thread has written every line queued before this call, at most [`FLUSH_WAIT`].
pub fn flush() {
    let Some(writer) = WRITER.get() else { return };
    if STOPPED.load(Ordering::Relaxed) {
        return;
    }
    let (counts, reached) = &FLUSHES;
    let mut counts = counts.lock().unwrap_or_else(|e| e.into_inner());
    // Sent under the lock, so markers reach the thread in the order of their numbers.
    counts.0 += 1;
    let mine = counts.0;
    let mut marker = MARKER.to_vec();
    marker.extend_from_slice(&mine.to_le_bytes());
    let _ = writer.clone().write_all(&marker);
    let _ = reached.wait_timeout_while(counts, FLUSH_WAIT, |c| c.1 < mine);
}

/// Log lines dropped so far because the output did not keep up (flush markers included).
pub fn dropped() -> u64 {
    WRITER
        .get()
        .map_or(0, |w| w.error_counter().dropped_lines() as u64)
}

/// stderr as the appender's thread writes it: buffered (the thread flushes after each batch it
/// takes from the queue), and answering [`flush`]'s marker instead of writing it.
struct Stderr(BufWriter<std::io::Stderr>);

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The thread writes each queued line with one `write_all`, whose first call carries
        // the whole line: a marker never arrives in pieces.
        if let Some(number) = marker_number(buf) {
            let flushed = self.0.flush();
            let (counts, reached) = &FLUSHES;
            let mut counts = counts.lock().unwrap_or_else(|e| e.into_inner());
            counts.1 = counts.1.max(number);
            drop(counts);
            reached.notify_all();
            flushed?;
            return Ok(buf.len());
        }
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// The number of a [`flush`] marker; `None` for any other line.
fn marker_number(buf: &[u8]) -> Option<u64> {
    let number = buf.strip_prefix(MARKER)?;
    Some(u64::from_le_bytes(number.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_known_by_its_number_and_no_log_line_is_taken_for_one() {
        let mut marker = MARKER.to_vec();
        marker.extend_from_slice(&7u64.to_le_bytes());
        assert_eq!(marker_number(&marker), Some(7));
        assert_eq!(marker_number(MARKER), None);
        assert_eq!(
            marker_number(b"2026-12-07T06:00:00.000000Z  INFO x: y\n"),
            None
        );
        let mut longer = marker.clone();
        longer.push(b'\n');
        assert_eq!(marker_number(&longer), None);
    }
}
