//! The log's writer: a request never waits for stderr, nor for another request's log line.
//!
//! Every log line (the per-request line above all) is appended to one of [`SHARDS`] bounded
//! in-memory buffers, the one of the writing thread; a flusher thread takes them all after
//! [`FLUSH_EVERY`], merges their lines by the time each was written, and writes them in one
//! `write(2)`; again when the writer is dropped ([`FlushGuard`]) or asked ([`LogBuffer::flush`]).
//!
//! Why not a write per line: on a 2-core machine one synchronous `write(2)` to stderr per request
//! costs more than serving the request (docs/performance.md). Why not a channel to a worker
//! (`tracing-appender`): each line would be its own allocation, and a worker woken per line is a
//! third busy thread on two cores; here a line costs a `memcpy`, and the flusher is woken at most
//! once per [`FLUSH_EVERY`]. Why a buffer per thread: with one buffer for all, its lock and its
//! tail moved between the cores on every request, and a thread preempted while holding the lock
//! stalled the others (`bench/compare.sh` measured 0.93 of the ceiling's throughput with one
//! buffer).
//!
//! Order: each line is stamped with the time it was written (microseconds since the epoch: the
//! per-request line passes the time it already read), and the flush merges the buffers by it, so
//! each write is in time order across threads and in write order within a thread. (A line
//! stamped just before a flush but added just after it comes out in the next write, after lines
//! stamped a little later: 2 of 221,000 lines in a 3 s run at 71,000 requests/s.)
//!
//! Bounded: when a thread's buffer holds its capacity (the output is stuck, or the lines come
//! faster than it takes them), a new line is dropped and counted ([`LogBuffer::dropped`]), never
//! waited for. The flusher reports the count in a line of its own.
//!
//! One `write` call is one line: `tracing-subscriber`'s `fmt` layer formats an event into its
//! own buffer and hands it over whole, so lines from two threads never interleave.

use std::cell::Cell;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the flusher lets lines gather before writing them: short enough that a person
/// watching the log sees a request as it happens.
pub const FLUSH_EVERY: Duration = Duration::from_millis(10);

/// Bytes of lines each thread's buffer may hold before its lines are dropped: about 2,000
/// request lines, 60 ms of one thread's lines at 30,000 requests/s.
pub const DEFAULT_CAPACITY: usize = 256 * 1024;

/// Buffers: writing threads share them round-robin (the server's workers get one each).
pub const SHARDS: usize = 8;

/// Bytes before each line in a buffer: its time (u64) and length (u32).
const HEADER: usize = 12;

/// The buffers; `&LogBuffer` is an [`io::Write`] (and, through `Arc<LogBuffer>`, a
/// `tracing_subscriber` `MakeWriter` without a clone per event).
pub struct LogBuffer {
    shards: [Padded<Mutex<Shard>>; SHARDS],
    /// Set by the first line after a flush (the flusher is woken then), cleared by the flush.
    /// Read on every line, written once per flush: the line stays in every core's cache.
    pending: AtomicBool,
    /// The flusher's sleep: `true` once it is to stop.
    stop: Mutex<bool>,
    woken: Condvar,
    capacity: usize,
    dropped: AtomicU64,
    /// The output, locked while written so that the flusher and [`LogBuffer::flush`] never
    /// interleave.
    out: Mutex<Output>,
}

/// One thread's lines, each after its header ([`HEADER`]).
#[derive(Default)]
struct Shard {
    bytes: Vec<u8>,
    lines: usize,
}

/// One cache line (two, for the adjacent-line prefetcher) per buffer: two threads' buffers never
/// share one.
#[repr(align(128))]
struct Padded<T>(T);

struct Output {
    sink: Box<dyn Write + Send>,
    /// The buffers taken at a flush (swapped with the empty ones they were given last time).
    taken: [Vec<u8>; SHARDS],
    /// The merged lines, written in one call.
    merged: Vec<u8>,
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
    /// Buffers in front of `sink`, flushed by a thread every `every`, each holding at most
    /// `capacity` bytes of lines. Keep the guard until the last line is written (dropping it
    /// flushes and stops the thread).
    pub fn start(
        sink: impl Write + Send + 'static,
        every: Duration,
        capacity: usize,
    ) -> io::Result<(Arc<LogBuffer>, FlushGuard)> {
        let buffer = Arc::new(LogBuffer {
            shards: std::array::from_fn(|_| Padded(Mutex::new(Shard::default()))),
            pending: AtomicBool::new(false),
            stop: Mutex::new(false),
            woken: Condvar::new(),
            capacity,
            dropped: AtomicU64::new(0),
            out: Mutex::new(Output {
                sink: Box::new(sink),
                taken: std::array::from_fn(|_| Vec::new()),
                merged: Vec::new(),
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

    /// Lines dropped so far because a buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Adds one whole line written at `at_us` (microseconds since the epoch) to this thread's
    /// buffer, or drops and counts it when that buffer is full.
    pub fn write_line_at(&self, at_us: u64, line: &[u8]) {
        self.write_with(at_us, line.len(), |out| out.extend_from_slice(line));
    }

    /// Adds the line `fill` appends (at most `max_len` bytes: more is cut) to this thread's
    /// buffer, stamped `at_us`: formatted in place, without a copy. Dropped and counted when
    /// the buffer has no room for `max_len` bytes.
    pub fn write_with(&self, at_us: u64, max_len: usize, fill: impl FnOnce(&mut Vec<u8>)) {
        let mut shard = self.shards[shard_of_this_thread()]
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // `capacity` counts the lines' bytes, not their headers.
        if shard.bytes.len() - HEADER * shard.lines + max_len > self.capacity {
            drop(shard);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let Shard { bytes, lines } = &mut *shard;
        let start = bytes.len();
        // The time, and the length written once the line is in.
        let mut header = [0; HEADER];
        header[..8].copy_from_slice(&at_us.to_le_bytes());
        bytes.extend_from_slice(&header);
        fill(bytes);
        bytes.truncate(start + HEADER + max_len);
        let len = (bytes.len() - start - HEADER) as u32;
        bytes[start + 8..start + HEADER].copy_from_slice(&len.to_le_bytes());
        *lines += 1;
        drop(shard);
        if !self.pending.load(Ordering::Relaxed) && !self.pending.swap(true, Ordering::AcqRel) {
            // The first line since the last flush: wake the flusher (once per flush).
            let _stop = self.stop.lock().unwrap_or_else(|e| e.into_inner());
            self.woken.notify_one();
        }
    }

    /// Writes what is buffered now, on the calling thread (before the process exits, or before
    /// something is printed to stderr directly, so that the order holds).
    pub fn flush(&self) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        self.write_out(&mut out);
    }

    fn run(&self, every: Duration) {
        loop {
            let mut stop = self.stop.lock().unwrap_or_else(|e| e.into_inner());
            while !self.pending.load(Ordering::Acquire) && !*stop {
                stop = self.woken.wait(stop).unwrap_or_else(|e| e.into_inner());
            }
            if !*stop {
                // Let the lines of the next few milliseconds join this write (writers do not
                // wake the flusher while lines are pending; the guard does, to stop it).
                stop = self
                    .woken
                    .wait_timeout_while(stop, every, |s| !*s)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            let stopping = *stop;
            drop(stop);
            self.flush();
            if stopping {
                return;
            }
        }
    }

    /// Takes every buffer, writes their lines merged by time, then the count of lines dropped
    /// since the last report, if any.
    fn write_out(&self, out: &mut Output) {
        self.pending.store(false, Ordering::Release);
        let Output {
            sink,
            taken,
            merged,
            reported,
        } = out;
        for (shard, taken) in self.shards.iter().zip(taken.iter_mut()) {
            taken.clear();
            let mut shard = shard.0.lock().unwrap_or_else(|e| e.into_inner());
            if shard.lines > 0 {
                std::mem::swap(&mut shard.bytes, taken);
                shard.lines = 0;
            }
        }
        merge(taken, merged);
        if !merged.is_empty() {
            // A failing output (closed stderr) cannot be reported anywhere: the lines are let go.
            let _ = sink.write_all(merged);
            merged.clear();
        }
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

/// The lines of `buffers` (each in write order) into `out`, the earliest first; a buffer's own
/// order is kept whatever its times say.
///
/// Each line's header is read once (the head of each buffer is kept with its time), and once a
/// single buffer is left its lines are copied without comparing (at 70,000 lines/s this runs for
/// every line: bench/callgrind.sh counted ~100 instructions a line when every step read every
/// buffer's head again).
fn merge(buffers: &[Vec<u8>], out: &mut Vec<u8>) {
    // Usually one or two threads wrote since the last flush: only their buffers are compared.
    let mut heads: Vec<Head<'_>> = buffers.iter().filter_map(|b| Head::of(b)).collect();
    while heads.len() > 1 {
        // Strictly earlier: a tie keeps the first buffer's line first.
        let mut i = 0;
        for (k, head) in heads.iter().enumerate().skip(1) {
            if head.at < heads[i].at {
                i = k;
            }
        }
        out.extend_from_slice(heads[i].line);
        match Head::of(heads[i].rest) {
            Some(next) => heads[i] = next,
            None => {
                heads.remove(i); // (in order: ties go to the first buffer)
            }
        }
    }
    let Some(mut head) = heads.pop() else { return };
    loop {
        out.extend_from_slice(head.line);
        match Head::of(head.rest) {
            Some(next) => head = next,
            None => return,
        }
    }
}

/// The first record of a buffer's lines: its time, its line, and the records after it.
struct Head<'a> {
    at: u64,
    line: &'a [u8],
    rest: &'a [u8],
}

impl<'a> Head<'a> {
    /// The record at the start of `b`; `None` when `b` holds no whole record.
    fn of(b: &'a [u8]) -> Option<Head<'a>> {
        let (header, after) = b.split_first_chunk::<HEADER>()?;
        let at = u64::from_le_bytes(header[..8].try_into().ok()?);
        let len = u32::from_le_bytes(header[8..].try_into().ok()?) as usize;
        let (line, rest) = after.split_at_checked(len)?;
        Some(Head { at, line, rest })
    }
}

/// This thread's buffer: threads take them round-robin at their first line.
fn shard_of_this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SHARD.with(|s| {
        if s.get() == usize::MAX {
            s.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        s.get()
    })
}

/// The wall clock, now: microseconds since the epoch (what every line is stamped with, and what
/// the request line's time and latency count in: no `Duration` arithmetic on the way).
pub fn now_us() -> u64 {
    let now = since_epoch();
    now.as_secs() * 1_000_000 + u64::from(now.subsec_micros())
}

/// The wall clock: time since the epoch (a clock before the epoch reads as the epoch).
fn since_epoch() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

impl Write for &LogBuffer {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        self.write_line_at(now_us(), line);
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
        *self.buffer.stop.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.buffer.woken.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_us_is_the_system_clock_in_microseconds() {
        let std_now_us = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_micros() as u64
        };
        let before = std_now_us();
        let micros = now_us();
        let after = std_now_us();
        assert!(
            before <= micros && micros <= after,
            "{before} {micros} {after}"
        );
    }

    fn buffer_of(lines: &[(u64, &str)]) -> Vec<u8> {
        let mut b = Vec::new();
        for (t, l) in lines {
            b.extend_from_slice(&t.to_le_bytes());
            b.extend_from_slice(&(l.len() as u32).to_le_bytes());
            b.extend_from_slice(l.as_bytes());
        }
        b
    }

    #[test]
    fn lines_of_several_buffers_come_out_by_time_and_each_buffer_in_its_own_order() {
        let mut buffers: [Vec<u8>; SHARDS] = std::array::from_fn(|_| Vec::new());
        buffers[0] = buffer_of(&[(1, "a1\n"), (4, "a4\n"), (9, "a9\n")]);
        buffers[3] = buffer_of(&[(2, "b2\n"), (4, "b4\n"), (5, "b5\n")]);
        // A clock step back inside one buffer: its order is kept.
        buffers[7] = buffer_of(&[(3, "c3\n"), (1, "c1\n"), (10, "c10\n")]);
        let mut out = Vec::new();
        merge(&buffers, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a1\nb2\nc3\nc1\na4\nb4\nb5\na9\nc10\n"
        );
    }
}
