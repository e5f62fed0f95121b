//! What the README and docs/rust.md promise a slim user (`default-features = false`), issue #29:
//! expectations count every request whatever the journal keeps, and `POST /v2/calls` makes a call.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use synthflow_mock::{Expectation, MockServer};

/// Sends `n` GETs of `path` on one keep-alive connection; returns the last status line.
fn get_n(mock: &MockServer, path: &str, n: usize) -> String {
    let s = TcpStream::connect(mock.addr()).unwrap();
    s.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let mut status = String::new();
    // One write per request: `write!` would send its pieces apart (and wait out delayed ACKs).
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n");
    for _ in 0..n {
        w.write_all(request.as_bytes()).unwrap();
        status.clear();
        reader.read_line(&mut status).unwrap();
        let mut len = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
    }
    status
}

#[test]
fn with_the_journal_off_times_2_after_one_request_fails() {
    let mock = MockServer::builder().journal(0).start_blocking().unwrap();
    let id = mock.call_ids()[0].clone();
    mock.expect(Expectation::get_call(&id).times(2));
    get_n(&mock, &format!("/v2/calls/{id}"), 1);
    let err = mock.check_expectations().unwrap_err();
    assert!(err.message.contains("received 1"), "{err}");
    assert_eq!(mock.received_requests(), None);
    mock.reset();
}

#[test]
fn never_after_one_request_fails() {
    let mock = MockServer::builder().journal(0).start_blocking().unwrap();
    let id = mock.call_ids()[0].clone();
    mock.expect(Expectation::get_call(&id).never());
    get_n(&mock, &format!("/v2/calls/{id}"), 1);
    assert!(mock.check_expectations().is_err());
    mock.reset();
}

#[test]
fn times_1500_after_1500_requests_passes_with_the_default_journal() {
    let mock = MockServer::start_blocking().unwrap();
    let id = mock.call_ids()[0].clone();
    mock.expect(Expectation::get_call(&id).times(1500));
    let status = get_n(&mock, &format!("/v2/calls/{id}"), 1500);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    mock.verify();
}

#[test]
fn post_v2_calls_makes_a_call() {
    let mock = MockServer::start_blocking().unwrap();
    let body = r#"{"model_id":"agent-1","phone":"+15550100","name":"Ada"}"#;
    let mut s = TcpStream::connect(mock.addr()).unwrap();
    write!(
        s,
        "POST /v2/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"call_id\":"), "{answer}");
}
