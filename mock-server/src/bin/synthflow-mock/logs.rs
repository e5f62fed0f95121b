//! The log of `serve`: `tracing` events on stderr through `tracing-subscriber`'s fmt layer and a
//! non-blocking writer: each line goes into a bounded queue ([`QUEUED_LINES`]) that one thread
//! writes to stderr, buffered and flushed whenever the queue runs dry. A request never waits for
//! stderr: a line that finds the queue full is dropped and counted ([`dropped`]).
//!
//! Why not `tracing-appender`'s `non_blocking`, the usual choice: it was used (issue 29) and does
//! the same, but brings 8 packages (`time` and four of its own, `symlink`, `crossbeam-channel`,
//! itself) for its rolling files, which the mock does not use, in a first build the issue bounds
//! at 170 packages; and it has no flush, which the start banner and the shutdown report need (it
//! took a marker line sent down its queue). This writer is std's bounded channel and a thread,
//! with the flush as a message.

use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Lines the queue holds before new ones are dropped: under 1 MB of request lines, about 60 ms
/// of them at 70,000 requests/s.
pub const QUEUED_LINES: usize = 4 * 1024;

/// How long [`flush`] waits for the writer thread (a stuck stderr).
const FLUSH_WAIT: Duration = Duration::from_secs(1);

enum Msg {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

/// The queue of the running process.
static QUEUE: OnceLock<SyncSender<Msg>> = OnceLock::new();

/// Lines dropped because the queue was full.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// `--log-format json`: every line the process writes, on either stream, is one JSON object.
static JSON: AtomicBool = AtomicBool::new(false);

/// A line written outside `tracing` (the start banner, a refusal to start, the shutdown report),
/// as plain text, or in JSON mode as one object shaped like `tracing-subscriber`'s JSON lines
/// (`timestamp`, `level`, `fields.message`, `target`), so a collector reading both streams
/// parses every line. Queued log lines are written first, so the order holds.
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

/// Dropping it writes the lines still queued (at most [`FLUSH_WAIT`]).
pub struct LogGuard;

impl Drop for LogGuard {
    fn drop(&mut self) {
        flush();
    }
}

/// The writer `tracing-subscriber` asks for each event: the fmt layer formats an event into a
/// buffer and writes it with one `write_all`, so one call is one line.
#[derive(Clone, Copy)]
struct Queued;

impl Write for Queued {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(q) = QUEUE.get() {
            if let Err(TrySendError::Full(_)) = q.try_send(Msg::Line(buf.to_vec())) {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Queued {
    type Writer = Queued;
    fn make_writer(&'a self) -> Queued {
        Queued
    }
}

/// The writer thread: lines to stderr, buffered, flushed when the queue runs dry or asked.
fn write_lines(rx: Receiver<Msg>) {
    let mut out = BufWriter::with_capacity(64 * 1024, std::io::stderr());
    while let Ok(mut msg) = rx.recv() {
        loop {
            match msg {
                Msg::Line(l) => {
                    let _ = out.write_all(&l);
                }
                Msg::Flush(ack) => {
                    let _ = out.flush();
                    let _ = ack.try_send(());
                }
            }
            match rx.try_recv() {
                Ok(next) => msg = next,
                Err(_) => break,
            }
        }
        let _ = out.flush();
    }
}

/// Installs the subscriber (filter from `RUST_LOG`, `info` by default) on the queue and starts
/// the writer thread (without a thread, lines go to stderr directly). Keep the guard until the
/// server has stopped.
pub fn init(json: bool) -> LogGuard {
    JSON.store(json, Ordering::Relaxed);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (tx, rx) = mpsc::sync_channel(QUEUED_LINES);
    let started = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_lines(rx));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match started {
        Ok(_) => {
            let _ = QUEUE.set(tx);
            let logs = logs.with_writer(Queued).with_ansi(false);
            if json {
                logs.json().init();
            } else {
                logs.init();
            }
        }
        Err(e) => {
            let logs = logs.with_writer(std::io::stderr).with_ansi(false);
            if json {
                logs.json().init();
            } else {
                logs.init();
            }
            line(
                false,
                "WARN",
                &format!("synthflow-mock: log lines unbuffered ({e})"),
            );
        }
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        flush();
        previous(info);
    }));
    LogGuard
}

/// Writes the queued lines now (before printing to stderr directly, or exiting): waits until the
/// writer thread has written every line queued before this call, at most [`FLUSH_WAIT`].
pub fn flush() {
    let Some(q) = QUEUE.get() else { return };
    let deadline = Instant::now() + FLUSH_WAIT;
    let (ack_tx, ack_rx) = mpsc::sync_channel(1);
    let mut msg = Msg::Flush(ack_tx);
    loop {
        match q.try_send(msg) {
            Ok(()) => break,
            Err(TrySendError::Full(m)) if Instant::now() < deadline => {
                msg = m;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(_) => return,
        }
    }
    let _ = ack_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
}

/// Log lines dropped so far because the output did not keep up.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_thread_writes_lines_in_order_and_answers_a_flush_after_them() {
        let (tx, rx) = mpsc::sync_channel(8);
        let (ack_tx, ack_rx) = mpsc::sync_channel(1);
        tx.send(Msg::Line(b"a\n".to_vec())).unwrap();
        tx.send(Msg::Flush(ack_tx)).unwrap();
        drop(tx);
        let t = std::thread::spawn(move || write_lines(rx));
        assert!(ack_rx.recv_timeout(Duration::from_secs(5)).is_ok());
        t.join().unwrap();
    }
}
