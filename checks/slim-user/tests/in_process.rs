//! The mock, started in process from a crate that depends on nothing else, serves a fixture.

use std::io::{Read, Write};

#[test]
fn the_slim_mock_serves_an_embedded_fixture_in_process() {
    let mock = synthflow_mock::MockServer::start_blocking().unwrap();
    let id = mock.call_ids()[0].clone();
    // A plain HTTP/1.1 request over TCP: this crate has no HTTP client on purpose.
    let mut s = std::net::TcpStream::connect(mock.addr()).unwrap();
    write!(
        s,
        "GET /v2/calls/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(&format!("\"call_id\":\"{id}\"")), "{answer}");
    drop(mock);
}
