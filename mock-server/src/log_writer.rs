//! The log's writer: a request never waits for stderr.
//!
//! Every log line (the per-request line above all) is appended to a bounded in-memory buffer
//! under a short lock; a flusher thread writes what has gathered in one `write(2)` after
//! [`FLUSH_EVERY`], and again when the writer is dropped ([`FlushGuard`]) or asked
//! ([`LogBuffer::flush`]). Why not a write per line: on a 2-core machine one synchronous
//! `write(2)` to stderr per request costs more than serving the request (docs/performance.md).
//! Why not a channel to a worker (`tracing-appender`): each line would be its own allocation,
//! and a worker woken per line is a third busy thread on two cores; here a line costs a `memcpy`,
//! and the flusher is woken at most once per [`FLUSH_EVERY`].
//!
//! Bounded: when the buffer holds [`DEFAULT_CAPACITY`] bytes (the output is stuck, or the lines
//! come faster than it takes them), a new line is dropped and counted ([`LogBuffer::dropped`]),
//! never waited for. The flusher reports the count in a line of its own.
//!
//! One `write` call is one line: `tracing-subscriber`'s `fmt` layer formats an event into its
//! own buffer and hands it over whole, so lines from two threads never interleave.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the flusher lets lines gather before writing them: short enough that a person
/// watching the log sees a request as it happens.
pub const FLUSH_EVERY: Duration = Duration::from_millis(10);

/// Bytes the buffer may hold before lines are dropped: about 10,000 request lines, a tenth of a
/// second at 100k requests/s.
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// The shared buffer; `&LogBuffer` is an [`io::Write`] (and, through `Arc<LogBuffer>`, a
/// `tracing_subscriber` `MakeWriter` without a clone per event).
pub struct LogBuffer {
    lines: Mutex<Pending>,
    /// Wakes the flusher when the first line lands in an empty buffer.
    woken: Condvar,
    capacity: usize,
    dropped: AtomicU64,
    /// The output, locked while written so that the flusher and [`LogBuffer::flush`] never
    /// interleave.
    out: Mutex<Output>,
}

struct Pending {
    bytes: Vec<u8>,
    stop: bool,
}

struct Output {
    sink: Box<dyn Write + Send>,
    /// The other half of the double buffer: written while new lines go into `Pending::bytes`.
    spare: Vec<u8>,
    /// Dropped lines already reported.
    reported: u64,
}

impl std::fmt::Debug for LogBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogBuffer")
            .field("capacity", &self.capacity)
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl LogBuffer {
    /// A buffer in front of `sink`, flushed by a thread every `every`, holding at most `capacity`
    /// bytes. Keep the guard until the last line is written (dropping it flushes and stops the
    /// thread).
    pub fn start(
        sink: impl Write + Send + 'static,
        every: Duration,
        capacity: usize,
    ) -> io::Result<(Arc<LogBuffer>, FlushGuard)> {
        let buffer = Arc::new(LogBuffer {
            lines: Mutex::new(Pending {
                bytes: Vec::new(),
                stop: false,
            }),
            woken: Condvar::new(),
            capacity,
            dropped: AtomicU64::new(0),
            out: Mutex::new(Output {
                sink: Box::new(sink),
                spare: Vec::new(),
                reported: 0,
            }),
        });
        let flusher = buffer.clone();
        let thread = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || flusher.run(every))?;
        Ok((
            buffer.clone(),
            FlushGuard {
                buffer,
                thread: Some(thread),
            },
        ))
    }

    /// Lines dropped so far because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Writes what is buffered now, on the calling thread (before the process exits, or before
    /// something is printed to stderr directly, so that the order holds).
    pub fn flush(&self) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        self.write_out(&mut out);
    }

    fn run(&self, every: Duration) {
        loop {
            let mut pending = self.lines.lock().unwrap_or_else(|e| e.into_inner());
            while pending.bytes.is_empty() && !pending.stop {
                pending = self.woken.wait(pending).unwrap_or_else(|e| e.into_inner());
            }
            if !pending.stop {
                // Let the lines of the next few milliseconds join this write (writers do not
                // wake the flusher while the buffer holds lines; the guard does, to stop it).
                pending = self
                    .woken
                    .wait_timeout_while(pending, every, |p| !p.stop)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            let stop = pending.stop;
            drop(pending);
            self.flush();
            if stop {
                return;
            }
        }
    }

    /// Swaps the buffer with the spare one and writes it, then the count of lines dropped since
    /// the last report, if any.
    fn write_out(&self, out: &mut Output) {
        {
            let mut pending = self.lines.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::swap(&mut pending.bytes, &mut out.spare);
        }
        let Output {
            sink,
            spare,
            reported,
        } = out;
        // A failing output (closed stderr) cannot be reported anywhere: the lines are let go.
        let _ = sink.write_all(spare);
        spare.clear();
        let dropped = self.dropped();
        if dropped > *reported {
            let _ = writeln!(
                sink,
                "synthflow-mock: WARN {} log line(s) dropped: the log output did not keep up ({} in all)",
                dropped - *reported,
                dropped
            );
            *reported = dropped;
        }
        let _ = sink.flush();
    }
}

impl Write for &LogBuffer {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut pending = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if pending.bytes.len() + line.len() > self.capacity {
            drop(pending);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Ok(line.len());
        }
        let was_empty = pending.bytes.is_empty();
        pending.bytes.extend_from_slice(line);
        drop(pending);
        // At most once per flush: later lines find the buffer non-empty.
        if was_empty {
            self.woken.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Keeps the flusher running; dropping it writes what is left and stops the thread.
#[derive(Debug)]
pub struct FlushGuard {
    buffer: Arc<LogBuffer>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.buffer
            .lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stop = true;
        self.buffer.woken.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
