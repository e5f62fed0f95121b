//! The per-request log line: `request method=GET path=/v2/calls/… status=200 latency_us=141`.
//!
//! The line is on by default (people watch it), so it must cost next to nothing. When the binary
//! writes plain text to a file or a pipe it hands its [`LogBuffer`] to [`write_directly_to`], and
//! [`write()`] then formats the line in place, in the writing thread's part of that buffer: no
//! `tracing` dispatch, no `core::fmt`, no allocation, no copy (bench/callgrind.sh measured ~2,900
//! instructions a line through `tracing-subscriber`, see docs/performance.md). The text is the one
//! `tracing-subscriber`'s default format writes for the same event (timestamp with microseconds,
//! level, target, message, fields), so a reader or a log collector sees no difference; the
//! `RUST_LOG` filter still decides whether the line is written ([`enabled`], asked of the filter
//! once). Without a direct buffer (the library in a test, the
//! JSON format, a terminal with colours) the line is a `tracing` event as before.

use std::sync::{Arc, OnceLock};

use crate::log_writer::{now_us, LogBuffer};

/// The `tracing` target of the per-request line.
pub const LOG_TARGET: &str = "synthflow_mock::request";

/// Bytes of the path the log line carries: a 65 kB URL does not write a 65 kB line.
pub const LOG_PATH_MAX: usize = 512;

/// The longest line [`format_line`] writes: a cut path, its mark and the other fields.
const MAX_LINE: usize = LOG_PATH_MAX + 160;

/// Where the line goes directly, once the binary has said so.
struct Direct {
    buffer: Arc<LogBuffer>,
    /// The filter's answer for [`LOG_TARGET`] at `info`, asked once: the binary's filter is
    /// fixed at start.
    enabled: bool,
}

static DIRECT: OnceLock<Direct> = OnceLock::new();

/// Writes request lines straight into `buffer` from now on (see the module docs). Call it after
/// the subscriber is installed: its filter is asked once, here. Only the first call takes
/// effect; returns whether this one did.
pub fn write_directly_to(buffer: Arc<LogBuffer>) -> bool {
    let enabled = tracing::enabled!(target: LOG_TARGET, tracing::Level::INFO);
    DIRECT.set(Direct { buffer, enabled }).is_ok()
}

/// Whether the line of a request is to be written (asked before the request is answered, so
/// that nothing is measured for a line nobody reads).
pub fn enabled() -> bool {
    match DIRECT.get() {
        Some(direct) => direct.enabled,
        None => tracing::enabled!(target: LOG_TARGET, tracing::Level::INFO),
    }
}

/// When a request started: the time its line's latency is counted from.
///
/// The wall clock, the one the line's timestamp is read from at the end: a line then costs two
/// clock reads, not three (a monotonic start and end for the latency, plus the wall clock for the
/// timestamp; docs/performance.md). A step of the system clock during a request (rare: NTP slews
/// rather than steps) shows in that one latency, or makes it 0.
#[derive(Debug, Clone, Copy)]
pub struct Started(u64);

impl Started {
    /// Now.
    pub fn now() -> Started {
        Started(now_us())
    }
}

/// Writes the line of one answered request that started at `started` (the caller has asked
/// [`enabled`]).
pub fn write(started: Started, method: &str, path: &str, status: u16) {
    let now = now_us();
    let latency_us = now.saturating_sub(started.0);
    let at = (now / 1_000_000, (now % 1_000_000) as u32);
    let Some(direct) = DIRECT.get() else {
        return write_event(method, path, status, latency_us);
    };
    // Formatted in place, in this thread's log buffer, stamped with the time it carries (the
    // buffers are merged by it).
    direct.buffer.write_with(now, MAX_LINE, |out| {
        format_line(out, at, method, path, status, latency_us)
    });
}

/// The same line as a `tracing` event, for whatever subscriber is installed.
fn write_event(method: &str, path: &str, status: u16, latency_us: u64) {
    if path.len() <= LOG_PATH_MAX {
        tracing::info!(target: LOG_TARGET, method, path, status, latency_us, "request");
    } else {
        let mut cut = Vec::with_capacity(MAX_LINE);
        push_path(&mut cut, path);
        let path = String::from_utf8_lossy(&cut);
        tracing::info!(target: LOG_TARGET, method, path = &*path, status, latency_us, "request");
    }
}

/// The whole line, `\n` included, for the time `at` (seconds, microseconds since the epoch).
fn format_line(
    out: &mut Vec<u8>,
    at: (u64, u32),
    method: &str,
    path: &str,
    status: u16,
    latency_us: u64,
) {
    out.reserve(MAX_LINE);
    push_second(out, at.0);
    // Microseconds: always six digits, two at a time.
    let n = at.1 % 1_000_000;
    let [a, b] = two_digits(n / 10_000);
    let [c, d] = two_digits(n / 100 % 100);
    let [e, f] = two_digits(n % 100);
    out.extend_from_slice(&[a, b, c, d, e, f]);
    out.extend_from_slice(AFTER_TIME);
    if method == "GET" {
        out.extend_from_slice(b"GET"); // (a constant copy: no call to `memcpy`)
    } else {
        out.extend_from_slice(method.as_bytes());
    }
    out.extend_from_slice(b" path=");
    push_path(out, path);
    out.extend_from_slice(b" status=");
    if (100..1000).contains(&status) {
        // Every HTTP status: three digits.
        let [tens, ones] = two_digits(u32::from(status % 100));
        out.extend_from_slice(&[b'0' + (status / 100) as u8, tens, ones]);
    } else {
        push_number(out, u64::from(status));
    }
    out.extend_from_slice(b" latency_us=");
    push_number(out, latency_us);
    out.push(b'\n');
}

/// What follows the timestamp up to the method, as one piece.
const AFTER_TIME: &[u8] = b"Z  INFO synthflow_mock::request: request method=";

/// `2026-11-25T17:53:50.`: formatted once a second per thread.
fn push_second(out: &mut Vec<u8>, secs: u64) {
    thread_local! {
        static SECOND: std::cell::Cell<(u64, [u8; 20])> = const { std::cell::Cell::new((u64::MAX, [0; 20])) };
    }
    let (cached, mut text) = SECOND.get();
    if cached != secs {
        let at = chrono::DateTime::from_timestamp(secs as i64, 0).unwrap_or_default();
        let formatted = at.format("%Y-%m-%dT%H:%M:%S.").to_string();
        let n = formatted.len().min(text.len());
        text = [b'0'; 20];
        text[..n].copy_from_slice(&formatted.as_bytes()[..n]);
        SECOND.set((secs, text));
    }
    out.extend_from_slice(&text);
}

/// The path, cut to [`LOG_PATH_MAX`] bytes on a character boundary and marked when cut.
#[inline]
fn push_path(out: &mut Vec<u8>, path: &str) {
    if path.len() <= LOG_PATH_MAX {
        return out.extend_from_slice(path.as_bytes());
    }
    push_cut_path(out, path);
}

/// A path longer than [`LOG_PATH_MAX`]: cut and marked (seldom: out of line).
#[cold]
fn push_cut_path(out: &mut Vec<u8>, path: &str) {
    let mut end = LOG_PATH_MAX;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&path.as_bytes()[..end]);
    out.extend_from_slice("…[".as_bytes());
    push_number(out, (path.len() - end) as u64);
    out.extend_from_slice(b" bytes cut]");
}

#[inline]
fn push_number(out: &mut Vec<u8>, n: u64) {
    // Most latencies are below a millisecond: up to three digits without the loop.
    match n {
        0..=9 => out.push(b'0' + n as u8),
        10..=99 => out.extend_from_slice(&two_digits(n as u32)),
        100..=999 => {
            let [tens, ones] = two_digits((n % 100) as u32);
            out.extend_from_slice(&[b'0' + (n / 100) as u8, tens, ones]);
        }
        _ => push_digits(out, n, 1),
    }
}

/// `n` (below 100) as two decimal digits, from a table: one load rather than a division and
/// its remainder per digit (the line writes up to ten digits).
fn two_digits(n: u32) -> [u8; 2] {
    const TABLE: [[u8; 2]; 100] = {
        let mut t = [[0; 2]; 100];
        let mut i = 0;
        while i < 100 {
            t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
            i += 1;
        }
        t
    };
    TABLE[n as usize]
}

/// `n` in decimal, zero-padded to at least `width` digits (at most 20).
#[cold]
fn push_digits(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    while n > 0 || digits.len() - at < width {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(at: (u64, u32), method: &str, path: &str, status: u16, latency_us: u64) -> String {
        let mut out = Vec::new();
        format_line(&mut out, at, method, path, status, latency_us);
        assert!(out.len() <= MAX_LINE, "{} bytes", out.len());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_line_is_tracing_subscribers_default_text() {
        // 2026-11-25T17:53:50Z = 1795629230.
        let got = line((1_795_629_230, 7_041), "GET", "/v2/calls/abc", 200, 141);
        assert_eq!(
            got,
            "2026-11-25T17:53:50.007041Z  INFO synthflow_mock::request: request method=GET \
             path=/v2/calls/abc status=200 latency_us=141\n"
        );
    }

    #[test]
    fn the_fixed_text_names_the_log_target() {
        assert_eq!(
            AFTER_TIME,
            format!("Z  INFO {LOG_TARGET}: request method=").as_bytes()
        );
    }

    #[test]
    fn every_two_digit_pair_is_its_decimal_text() {
        for n in 0..100 {
            assert_eq!(two_digits(n), format!("{n:02}").as_bytes(), "{n}");
        }
    }

    #[test]
    fn every_microsecond_value_is_written_as_six_digits() {
        for micros in [
            0, 7, 10, 99, 100, 4_321, 10_000, 99_999, 100_000, 123_456, 999_999,
        ] {
            let got = line((0, micros), "GET", "/", 200, 1);
            assert!(got.contains(&format!(".{micros:06}Z ")), "{got}");
        }
    }

    #[test]
    fn every_number_is_written_as_its_decimal_text() {
        for n in [0, 7, 9, 10, 42, 99, 100, 141, 999, 1000, 12_345, 1_000_000] {
            let mut out = Vec::new();
            push_number(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
        for status in [100, 200, 404, 599, 999, 0, 42, 1000] {
            let got = line((0, 0), "GET", "/", status, 1);
            assert!(got.contains(&format!(" status={status} ")), "{got}");
        }
    }

    #[test]
    fn zero_and_large_numbers_are_written_in_full() {
        let got = line((0, 0), "POST", "/", 500, 0);
        assert!(got.starts_with("1970-01-01T00:00:00.000000Z "), "{got}");
        assert!(got.ends_with(" status=500 latency_us=0\n"), "{got}");
        let got = line((0, 999_999), "GET", "/", 200, u64::MAX);
        assert!(got.contains(".999999Z"), "{got}");
        assert!(
            got.ends_with(&format!("latency_us={}\n", u64::MAX)),
            "{got}"
        );
    }

    #[test]
    fn a_long_path_is_cut_on_a_character_boundary_and_marked() {
        let path = format!("/{}", "é".repeat(600));
        let got = line((0, 0), "GET", &path, 404, 3);
        let logged = got
            .split(" path=")
            .nth(1)
            .unwrap()
            .split(" status=")
            .next()
            .unwrap();
        let (kept, mark) = logged.split_once('…').unwrap();
        assert!(kept.len() <= LOG_PATH_MAX && path.starts_with(kept));
        assert_eq!(mark, format!("[{} bytes cut]", path.len() - kept.len()));
    }
}
