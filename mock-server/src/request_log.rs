//! The per-request log line: `request method=GET path=/v2/calls/… status=200 latency_us=141`.
//!
//! The line is on by default (people watch it), so it must cost next to nothing. When the binary
//! writes plain text to a file or a pipe it hands its [`LogBuffer`] to [`write_directly_to`], and
//! [`write`] then formats the line into a stack buffer and appends it to that buffer: no `tracing`
//! dispatch, no `core::fmt`, no allocation (bench/callgrind.sh measured ~2,900 instructions a
//! line through `tracing-subscriber`, see docs/performance.md). The text is the one
//! `tracing-subscriber`'s default format writes for the same event (timestamp with microseconds,
//! level, target, message, fields), so a reader or a log collector sees no difference; the
//! `RUST_LOG` filter still decides whether the line is written (the caller asks
//! `tracing::enabled!` for [`LOG_TARGET`]). Without a direct buffer (the library in a test, the
//! JSON format, a terminal with colours) the line is a `tracing` event as before.

use std::sync::{Arc, OnceLock};

use crate::log_writer::LogBuffer;

/// The `tracing` target of the per-request line.
pub const LOG_TARGET: &str = "synthflow_mock::request";

/// Bytes of the path the log line carries: a 65 kB URL does not write a 65 kB line.
pub const LOG_PATH_MAX: usize = 512;

/// The buffer the line goes to directly, once the binary has set it.
static DIRECT: OnceLock<Arc<LogBuffer>> = OnceLock::new();

/// Writes request lines straight into `buffer` from now on (see the module docs). Only the first
/// call takes effect; returns whether this one did.
pub fn write_directly_to(buffer: Arc<LogBuffer>) -> bool {
    DIRECT.set(buffer).is_ok()
}

/// Writes the line of one answered request (the caller has checked that the filter lets
/// [`LOG_TARGET`] at `info` through).
pub fn write(method: &str, path: &str, status: u16, latency_us: u64) {
    let Some(buffer) = DIRECT.get() else {
        return write_event(method, path, status, latency_us);
    };
    let mut line = Line::new();
    format_line(&mut line, now(), method, path, status, latency_us);
    let _ = std::io::Write::write(&mut &**buffer, line.as_bytes());
}

/// The same line as a `tracing` event, for whatever subscriber is installed.
fn write_event(method: &str, path: &str, status: u16, latency_us: u64) {
    if path.len() <= LOG_PATH_MAX {
        tracing::info!(target: LOG_TARGET, method, path, status, latency_us, "request");
    } else {
        let mut cut = Line::new();
        push_path(&mut cut, path);
        let path = std::str::from_utf8(cut.as_bytes()).unwrap_or("?");
        tracing::info!(target: LOG_TARGET, method, path, status, latency_us, "request");
    }
}

/// Seconds and microseconds since the epoch.
fn now() -> (u64, u32) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_secs(), now.subsec_micros())
}

/// The whole line, `\n` included, for the time `at` (seconds, microseconds since the epoch).
fn format_line(
    out: &mut Line,
    at: (u64, u32),
    method: &str,
    path: &str,
    status: u16,
    latency_us: u64,
) {
    push_second(out, at.0);
    push_padded(out, u64::from(at.1), 6);
    out.push(b"Z  INFO ");
    out.push(LOG_TARGET.as_bytes());
    out.push(b": request method=");
    out.push(method.as_bytes());
    out.push(b" path=");
    push_path(out, path);
    out.push(b" status=");
    push_number(out, u64::from(status));
    out.push(b" latency_us=");
    push_number(out, latency_us);
    out.push(b"\n");
}

/// `2026-11-25T17:53:50.`: formatted once a second per thread.
fn push_second(out: &mut Line, secs: u64) {
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
    out.push(&text);
}

/// The path, cut to [`LOG_PATH_MAX`] bytes on a character boundary and marked when cut.
fn push_path(out: &mut Line, path: &str) {
    if path.len() <= LOG_PATH_MAX {
        return out.push(path.as_bytes());
    }
    let mut end = LOG_PATH_MAX;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    out.push(&path.as_bytes()[..end]);
    out.push("…[".as_bytes());
    push_number(out, (path.len() - end) as u64);
    out.push(b" bytes cut]");
}

fn push_number(out: &mut Line, n: u64) {
    let digits = if n == 0 { 1 } else { n.ilog10() as usize + 1 };
    push_padded(out, n, digits);
}

/// `n` in exactly `width` decimal digits, zero-padded (`n` fits).
fn push_padded(out: &mut Line, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.push(&digits[..width]);
}

/// A line on the stack: the longest one (a cut path) fits with room to spare.
struct Line {
    bytes: [u8; 1024],
    len: usize,
}

impl Line {
    fn new() -> Line {
        Line {
            bytes: [0; 1024],
            len: 0,
        }
    }

    /// Appends what fits (everything, for the fields of a line).
    fn push(&mut self, part: &[u8]) {
        let n = part.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&part[..n]);
        self.len += n;
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(at: (u64, u32), method: &str, path: &str, status: u16, latency_us: u64) -> String {
        let mut out = Line::new();
        format_line(&mut out, at, method, path, status, latency_us);
        String::from_utf8(out.as_bytes().to_vec()).unwrap()
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
