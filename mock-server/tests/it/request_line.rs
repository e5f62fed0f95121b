//! The per-request log line as the binary writes it to a file or a pipe: written straight into
//! the log buffer (`synthflow_mock::internals::request_log`), it must read exactly like the lines
//! `tracing-subscriber` writes around it.

use std::io::{Read, Write};

const ID: &str = "4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75";

/// Runs the binary with stderr to a pipe (`RUST_LOG` as given), sends `paths` on one connection,
/// stops it with SIGTERM and returns its stderr.
fn log_of(rust_log: Option<&str>, paths: &[&str]) -> String {
    let env: Vec<(&str, &str)> = rust_log.map(|f| ("RUST_LOG", f)).into_iter().collect();
    let mock = crate::support::spawn_capturing(&["--port", "0"], &env);
    let mut s = std::net::TcpStream::connect(&mock.addr).unwrap();
    for (k, path) in paths.iter().enumerate() {
        let close = if k + 1 == paths.len() {
            "Connection: close\r\n"
        } else {
            ""
        };
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n{close}\r\n"
        )
        .unwrap();
    }
    let mut answers = Vec::new();
    s.read_to_end(&mut answers).unwrap();
    let stopped = mock.stop();
    assert!(stopped.status.success());
    stopped.stderr
}

/// `2026-11-25T17:53:50.123456Z  INFO target: rest` -> ("INFO", "target", "rest").
fn parse(line: &str) -> Option<(&str, &str, &str)> {
    let (stamp, rest) = line.split_once(' ')?;
    let ok = stamp.len() == 27
        && stamp.ends_with('Z')
        && stamp.as_bytes()[10] == b'T'
        && stamp[20..26].bytes().all(|b| b.is_ascii_digit())
        && chrono::DateTime::parse_from_rfc3339(stamp).is_ok();
    if !ok {
        return None;
    }
    // The level is right-aligned in five columns, as tracing-subscriber writes it.
    let level = ["ERROR ", " WARN ", " INFO ", "DEBUG "]
        .into_iter()
        .find(|l| rest.starts_with(l))?;
    let (level, rest) = (level.trim(), &rest[level.len()..]);
    let (target, message) = rest.split_once(": ")?;
    Some((level, target, message))
}

#[test]
fn the_request_line_reads_like_the_tracing_lines_around_it() {
    let long = format!("/v2/calls/{}", "x".repeat(700));
    let logs = log_of(
        None,
        &[&format!("/v2/calls/{ID}"), "/v2/calls/not-an-id", &long],
    );
    let lines: Vec<&str> = logs.lines().collect();
    // Every line, the request lines and tracing-subscriber's own, has the same shape.
    for l in &lines {
        let (level, target, _) =
            parse(l).unwrap_or_else(|| panic!("not the default format: {l:?}\n{logs}"));
        assert!(level == "INFO" || level == "WARN", "{l}");
        assert!(target.starts_with("synthflow_mock"), "{l}");
    }
    let requests: Vec<&str> = lines
        .iter()
        .filter_map(|l| parse(l))
        .filter(|(_, target, _)| *target == "synthflow_mock::request")
        .map(|(_, _, m)| m)
        .collect();
    assert_eq!(requests.len(), 3, "{logs}");
    let fields = |m: &str| -> Vec<String> { m.split(' ').map(str::to_owned).collect() };
    let first = fields(requests[0]);
    assert_eq!(
        first[..4],
        [
            "request",
            "method=GET",
            &format!("path=/v2/calls/{ID}"),
            "status=200"
        ]
    );
    let latency: u64 = first[4]
        .strip_prefix("latency_us=")
        .unwrap()
        .parse()
        .unwrap();
    assert!(latency > 0 && latency < 10_000_000, "{latency}");
    assert_eq!(fields(requests[1])[3], "status=400", "{logs}");
    // A long path is cut to 512 bytes and marked.
    let cut = format!("path={}…[{} bytes cut]", &long[..512], long.len() - 512);
    assert!(requests[2].contains(&cut), "{}", requests[2]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("synthflow_mock::serve: shutting down")),
        "tracing-subscriber's own lines are there too: {logs}"
    );
}

#[test]
fn rust_log_warn_turns_the_request_line_off() {
    let logs = log_of(Some("warn"), &[&format!("/v2/calls/{ID}")]);
    assert!(!logs.contains("synthflow_mock::request"), "{logs}");
    let logs = log_of(
        Some("warn,synthflow_mock::request=info"),
        &[&format!("/v2/calls/{ID}")],
    );
    assert_eq!(
        logs.matches("synthflow_mock::request: request method=GET")
            .count(),
        1,
        "{logs}"
    );
}
