//! The log of `serve`: `tracing` events on stderr, through the buffered writer of
//! [`synthflow_mock::log_writer`] (a request never waits for stderr; lines are written every few
//! milliseconds, and at exit).
//!
//! The per-request line (target [`synthflow_mock::http::LOG_TARGET`]) is written by
//! [`RequestLine`] in the plain-text format: the same text as `tracing-subscriber`'s default
//! format (timestamp with microseconds, level, target, message, `name=value` fields), made from a
//! per-second cached timestamp and the fields as they come, without `core::fmt` for the numbers.
//! Every other event, the JSON format and a terminal (colours) go through `tracing-subscriber`.

use std::fmt::{self, Write as _};
use std::sync::{Arc, OnceLock};

use synthflow_mock::http::LOG_TARGET;
use synthflow_mock::log_writer::{self, FlushGuard, LogBuffer};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The buffer of the running process, for [`flush`] from places that print to stderr directly
/// or exit.
static BUFFER: OnceLock<Arc<LogBuffer>> = OnceLock::new();

/// Installs the subscriber (filter from `RUST_LOG`, `info` by default). Keep the guard until the
/// server has stopped: dropping it writes the lines still buffered.
pub fn init(json: bool) -> Option<FlushGuard> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let started = LogBuffer::start(
        std::io::stderr(),
        log_writer::FLUSH_EVERY,
        log_writer::DEFAULT_CAPACITY,
    );
    let (buffer, guard) = match started {
        Ok((b, g)) => (b, g),
        Err(e) => {
            // No thread for the flusher: write each line as it comes.
            eprintln!("synthflow-mock: log lines unbuffered ({e})");
            let logs = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr);
            if json {
                logs.json().init();
            } else {
                logs.with_ansi(terminal).init();
            }
            return None;
        }
    };
    let _ = BUFFER.set(buffer.clone());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(buffer);
    if json {
        logs.json().init();
    } else if terminal {
        logs.with_ansi(true).init();
    } else {
        let plain = tracing_subscriber::fmt::format().with_ansi(false);
        logs.with_ansi(false)
            .event_format(RequestLine { other: plain })
            .init();
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

/// The plain-text format, with a fast way for the per-request line (see the module docs).
struct RequestLine<F> {
    other: F,
}

impl<S, N, F> FormatEvent<S, N> for RequestLine<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if meta.target() != LOG_TARGET {
            return self.other.format_event(ctx, writer, event);
        }
        write_timestamp(&mut writer)?;
        writer.write_str(level(meta.level()))?;
        writer.write_str(LOG_TARGET)?;
        writer.write_str(": ")?;
        let mut fields = Fields {
            out: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

fn level(l: &tracing::Level) -> &'static str {
    match *l {
        tracing::Level::ERROR => "ERROR ",
        tracing::Level::WARN => " WARN ",
        tracing::Level::INFO => " INFO ",
        tracing::Level::DEBUG => "DEBUG ",
        _ => "TRACE ",
    }
}

/// `2026-11-25T17:53:50.123456Z ` as `tracing-subscriber` writes it: the part up to the seconds
/// is formatted once a second per thread.
fn write_timestamp(w: &mut Writer<'_>) -> fmt::Result {
    thread_local! {
        static SECOND: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    SECOND.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != secs {
            cached.1.clear();
            let at = chrono::DateTime::from_timestamp(secs as i64, 0).unwrap_or_default();
            write!(cached.1, "{}.", at.format("%Y-%m-%dT%H:%M:%S"))?;
            cached.0 = secs;
        }
        w.write_str(&cached.1)
    })?;
    let mut digits = [b'0'; 6];
    write_padded(&mut digits, now.subsec_micros() as u64);
    w.write_str(std::str::from_utf8(&digits).unwrap_or("000000"))?;
    w.write_str("Z ")
}

/// `n` right-aligned in `out`, zero-padded (`n` fits).
fn write_padded(out: &mut [u8], mut n: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The fields of an event as the default format writes them: the message as it is, the others
/// `name=value`, separated by spaces.
struct Fields<'a, 'w> {
    out: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    fn name(&mut self, field: &Field) {
        if !self.first {
            self.result = self.result.and(self.out.write_char(' '));
        }
        self.first = false;
        if field.name() != "message" {
            self.result = self
                .result
                .and(self.out.write_str(field.name()))
                .and(self.out.write_char('='));
        }
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.name(field);
        self.result = self.result.and(self.out.write_str(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.name(field);
        let mut digits = [0u8; 20];
        let len = digits_of(value, &mut digits);
        let text = std::str::from_utf8(&digits[20 - len..]).unwrap_or("?");
        self.result = self.result.and(self.out.write_str(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.name(field);
        self.result = self.result.and(write!(self.out, "{value:?}"));
    }
}

/// The decimal digits of `n` at the end of `out`; returns how many.
fn digits_of(mut n: u64, out: &mut [u8; 20]) -> usize {
    let mut at = out.len();
    loop {
        at -= 1;
        out[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return out.len() - at;
        }
    }
}
