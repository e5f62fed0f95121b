//! The bad-input matrix, over a real socket on loopback: each hostile or odd request, the status
//! it gets and the JSON body that goes with it. Raw `TcpStream`s, because the point is bytes that
//! no well-behaved client library would send.
//!
//! Two kinds of answer exist. What reaches the router gets the live service's JSON bodies (400,
//! 401, 404 route). What hyper refuses while parsing the request head (raw control characters or
//! non-ASCII bytes in the request line, a head beyond its buffer) never reaches the router: hyper
//! answers with a bare status and no body, and closes the connection; those cases pin that.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;
use synthflow_mock::{serve_app_with, ServeOptions};
use synthflow_mock::{AppState, Config, Store};

/// A safety bound on every socket read so a broken server fails the test instead of hanging it.
/// Never asserted on: no test measures time.
const READ_BOUND: Duration = Duration::from_secs(20);

struct Server {
    addr: SocketAddr,
    store: Store,
    state: AppState,
    _rt: tokio::runtime::Runtime,
}

fn server() -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let store = Store::embedded().unwrap();
    let state = AppState::new(store.clone(), Config::default());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let options = ServeOptions {
        // Short, so the silent-client case ends quickly; the default is HEADER_READ_TIMEOUT.
        header_read_timeout: Duration::from_millis(300),
        ..ServeOptions::default()
    };
    rt.spawn(serve_app_with(
        listener,
        state.clone(),
        std::future::pending(),
        options,
    ));
    Server {
        addr,
        store,
        state,
        _rt: rt,
    }
}

impl Server {
    fn id(&self) -> String {
        self.store.ids()[0].clone()
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(READ_BOUND)).unwrap();
        s
    }

    /// Sends raw bytes on a fresh connection and reads one response.
    fn exchange(&self, raw: &[u8]) -> Answer {
        let mut s = self.connect();
        s.write_all(raw).unwrap();
        read_answer(&mut BufReader::new(s)).expect("a response")
    }
}

#[derive(Debug)]
struct Answer {
    version: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        assert_eq!(self.header("content-type"), Some("application/json"));
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn description(&self) -> String {
        self.json()["detail"]["description"]
            .as_str()
            .unwrap_or_else(|| panic!("no detail.description: {:?}", self.json()))
            .to_owned()
    }
}

/// Reads one HTTP/1 response (head, then a `Content-Length` body); `None` on a clean EOF.
fn read_answer(r: &mut impl BufRead) -> Option<Answer> {
    let mut line = String::new();
    if r.read_line(&mut line).unwrap() == 0 {
        return None;
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let version = parts.next().unwrap().to_owned();
    let status: u16 = parts.next().unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    Some(Answer {
        version,
        status,
        headers,
        body,
    })
}

fn get(target: &[u8], extra_headers: &[&[u8]]) -> Vec<u8> {
    let mut raw = b"GET ".to_vec();
    raw.extend_from_slice(target);
    raw.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for h in extra_headers {
        raw.extend_from_slice(h);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw
}

const AUTH: &[u8] = b"Authorization: Bearer test-token";
const INVALID_ID: &str = "Invalid call_id or call not found.";
const MISSING_AUTH: &str = "Missing or invalid Authorization header";

/// Asserts the documented 400 with its JSON body.
fn assert_400(a: &Answer, case: &str) {
    assert_eq!(a.status, 400, "{case}: {a:?}");
    assert_eq!(a.description(), INVALID_ID, "{case}");
}

fn assert_fixture(s: &Server, a: &Answer, case: &str) {
    assert_eq!(a.status, 200, "{case}: {a:?}");
    assert_eq!(a.header("content-type"), Some("application/json"), "{case}");
    assert_eq!(
        a.body,
        s.store.get(&s.id()).unwrap().body.as_ref(),
        "{case}"
    );
}

#[test]
fn path_traversal_in_the_id_is_a_400_or_the_route_404_never_a_file() {
    let s = server();
    let id = s.id();
    // Encoded traversal stays inside one path segment: a malformed id.
    for target in [
        "/v2/calls/%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_owned(),
        "/v2/calls/..%2f..%2fCargo.toml".to_owned(),
        "/v2/calls/%2E%2E%2F".to_owned(),
        format!("/v2/calls/..%2F{id}"),
        format!("/v2/calls/{id}%2F"),
        format!("/v2/calls/{id}%2Fextra"),
        "/v2/calls/%2Fetc%2Fpasswd".to_owned(),
        "/v2/calls/..%5C..%5Cwindows".to_owned(),
    ] {
        let a = s.exchange(&get(target.as_bytes(), &[AUTH]));
        assert_400(&a, &target);
    }
    // Literal `../` segments are not normalised away: the path has no route.
    for target in [
        format!("/v2/calls/../calls/{id}"),
        "/v2/calls/../../etc/passwd".to_owned(),
        format!("/v2/calls/{id}/.."),
    ] {
        let a = s.exchange(&get(target.as_bytes(), &[AUTH]));
        assert_eq!(a.status, 404, "{target}: {a:?}");
        assert_eq!(
            a.json(),
            serde_json::json!({"detail": "Not Found"}),
            "{target}"
        );
    }
}

#[test]
fn ten_kilobyte_id_is_400() {
    let s = server();
    let target = format!("/v2/calls/{}", "a".repeat(10 * 1024));
    assert_400(&s.exchange(&get(target.as_bytes(), &[AUTH])), "10 kB id");
}

#[test]
fn empty_id_has_no_route_404() {
    let s = server();
    for target in ["/v2/calls/", "/v2/calls//"] {
        let a = s.exchange(&get(target.as_bytes(), &[AUTH]));
        assert_eq!(a.status, 404, "{target}: {a:?}");
        assert_eq!(a.json(), serde_json::json!({"detail": "Not Found"}));
    }
}

#[test]
fn percent_encoded_non_utf8_and_control_characters_in_the_id_are_400() {
    let s = server();
    for target in [
        "/v2/calls/%FF%FE",
        "/v2/calls/%C3%28",
        "/v2/calls/abc%00def",
        "/v2/calls/abc%0D%0AX-Injected:%201",
        "/v2/calls/%1B%5B31m",
        "/v2/calls/%7F",
        "/v2/calls/caf%C3%A9",
        "/v2/calls/a%20b",
    ] {
        assert_400(&s.exchange(&get(target.as_bytes(), &[AUTH])), target);
    }
}

#[test]
fn raw_utf8_in_the_request_line_reaches_the_router_and_is_400() {
    let s = server();
    let a = s.exchange(&get("/v2/calls/café-ü".as_bytes(), &[AUTH]));
    assert_400(&a, "raw UTF-8");
}

#[test]
fn raw_invalid_utf8_or_control_bytes_in_the_request_line_are_refused_by_hyper_with_bare_400() {
    let s = server();
    for target in [
        &b"/v2/calls/\xff\xfe"[..],
        b"/v2/calls/\xc3\x28",
        b"/v2/calls/a\x01b",
        b"/v2/calls/a\x7fb",
        b"/v2/calls/a\x1b[31m",
    ] {
        let a = s.exchange(&get(target, &[AUTH]));
        let case = String::from_utf8_lossy(target);
        assert_eq!(a.status, 400, "{case:?}: {a:?}");
        assert!(
            a.body.is_empty(),
            "{case:?}: hyper's own refusal has no body"
        );
    }
}

#[test]
fn unusable_authorization_is_401_missing_with_json_body() {
    let s = server();
    let target = format!("/v2/calls/{}", s.id());
    let cases: [&[&[u8]]; 9] = [
        &[],
        &[b"Authorization: Bearer"],
        &[b"Authorization: Bearer    "],
        &[b"Authorization: "],
        &[b"Authorization: Basic dTpw"],
        &[b"Authorization: Token abc"],
        &[b"Authorization: Bearer\ttoken-after-a-tab"],
        &[b"Authorization: Bearer \xff\xfe"],
        &[b"Authorization: Bearer a", b"Authorization: Bearer b"],
    ];
    for headers in cases {
        let a = s.exchange(&get(target.as_bytes(), headers));
        let case = format!(
            "{:?}",
            headers
                .iter()
                .map(|h| String::from_utf8_lossy(h))
                .collect::<Vec<_>>()
        );
        assert_eq!(a.status, 401, "{case}: {a:?}");
        assert_eq!(a.description(), MISSING_AUTH, "{case}");
    }
}

#[test]
fn control_character_in_a_header_value_is_refused_by_hyper_with_400() {
    let s = server();
    let target = format!("/v2/calls/{}", s.id());
    let a = s.exchange(&get(target.as_bytes(), &[b"Authorization: Bearer a\x01b"]));
    assert_eq!(a.status, 400, "{a:?}");
    assert!(a.body.is_empty());
}

#[test]
fn sixty_four_kilobyte_headers_are_served() {
    let s = server();
    let target = format!("/v2/calls/{}", s.id());
    let pad = format!("X-Pad: {}", "p".repeat(64 * 1024));
    let a = s.exchange(&get(target.as_bytes(), &[AUTH, pad.as_bytes()]));
    assert_fixture(&s, &a, "64 kB X-Pad");
    let token = format!("Authorization: Bearer {}", "t".repeat(64 * 1024));
    let a = s.exchange(&get(target.as_bytes(), &[token.as_bytes()]));
    assert_fixture(&s, &a, "64 kB token");
}

#[test]
fn request_head_beyond_the_buffer_is_refused_with_431() {
    let s = server();
    let target = format!("/v2/calls/{}", s.id());
    let pad = format!("X-Pad: {}", "p".repeat(1024 * 1024));
    let mut stream = s.connect();
    // The server may answer and close before the whole head is written.
    let _ = stream.write_all(&get(target.as_bytes(), &[AUTH, pad.as_bytes()]));
    let a = read_answer(&mut BufReader::new(stream)).expect("a response");
    assert_eq!(a.status, 431, "{a:?}");
}

#[test]
fn http_1_0_request_is_served_and_the_connection_closed() {
    let s = server();
    let raw = format!(
        "GET /v2/calls/{} HTTP/1.0\r\nAuthorization: Bearer t\r\n\r\n",
        s.id()
    );
    let mut r = BufReader::new(s.connect());
    r.get_mut().write_all(raw.as_bytes()).unwrap();
    let a = read_answer(&mut r).unwrap();
    assert_eq!(a.version, "HTTP/1.0");
    assert_fixture(&s, &a, "HTTP/1.0");
    assert!(read_answer(&mut r).is_none(), "closed after the answer");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let s = server();
    let id = s.id();
    let mut raw = get(format!("/v2/calls/{id}").as_bytes(), &[AUTH]);
    raw.extend(get(b"/v2/calls/no-such-call", &[AUTH]));
    raw.extend(get(format!("/v2/calls/{id}").as_bytes(), &[]));
    raw.extend(get(format!("/v2/calls/{id}").as_bytes(), &[AUTH]));
    let mut r = BufReader::new(s.connect());
    r.get_mut().write_all(&raw).unwrap();
    assert_fixture(&s, &read_answer(&mut r).unwrap(), "first");
    assert_400(&read_answer(&mut r).unwrap(), "second");
    let third = read_answer(&mut r).unwrap();
    assert_eq!(third.status, 401);
    assert_eq!(third.description(), MISSING_AUTH);
    assert_fixture(&s, &read_answer(&mut r).unwrap(), "fourth");
}

#[test]
fn client_that_sends_nothing_is_disconnected() {
    let s = server();
    let mut stream = s.connect();
    let mut buf = [0u8; 256];
    // The header-read timeout closes it; the read bound only keeps a regression from hanging.
    let n = stream
        .read(&mut buf)
        .expect("closed by the server, not left open until the read bound");
    // hyper may send a bare 408 before closing; either way no JSON and no held connection.
    let rest = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(n == 0 || rest.starts_with("HTTP/1.1 408"), "{rest}");
    if n > 0 {
        let mut tail = Vec::new();
        stream.read_to_end(&mut tail).unwrap();
    }
}

#[test]
fn client_that_sends_its_head_a_byte_at_a_time_is_disconnected() {
    // Bytes keep coming, but no request head completes: reads are not progress.
    let s = server();
    let mut stream = s.connect();
    let head = format!(
        "GET /v2/calls/{} HTTP/1.1\r\nHost: x\r\nX-Pad: {}",
        s.id(),
        "a".repeat(400)
    );
    let mut cut = false;
    for byte in head.as_bytes() {
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // 400 bytes at 20 ms take 8 s, far beyond the 300 ms timeout: the server has closed by now
    // (a write failed above, or the read sees the end).
    let mut rest = Vec::new();
    let closed = cut || stream.read_to_end(&mut rest).is_ok();
    assert!(closed, "still open after 8 s of a trickled head");
    let rest = String::from_utf8_lossy(&rest);
    assert!(!rest.contains("200 OK"), "{rest}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_by_the_header_read_timeout() {
    // After its answer the connection waits for the next head: the 300 ms timeout runs from
    // there, so a client that keeps its connection and sends nothing more is let go.
    let s = server();
    let mut r = BufReader::new(s.connect());
    r.get_mut()
        .write_all(&get(format!("/v2/calls/{}", s.id()).as_bytes(), &[AUTH]))
        .unwrap();
    assert_fixture(&s, &read_answer(&mut r).unwrap(), "kept alive");
    let mut rest = Vec::new();
    r.read_to_end(&mut rest)
        .expect("closed by the server, not left open until the read bound");
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.is_empty() || rest.starts_with("HTTP/1.1 408"),
        "{rest}"
    );
}

#[test]
fn a_request_that_takes_longer_than_the_idle_timeout_is_answered() {
    // The timeout is for reading a head: a request in flight (a 900 ms latency fault against
    // the 300 ms timeout) is answered.
    let s = server();
    s.state.set_faults(synthflow_mock::GlobalFaults {
        always: Some(synthflow_mock::Fault::latency(900)),
        ..Default::default()
    });
    let answer = s.exchange(
        format!(
            "GET /v2/calls/{} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n",
            s.id()
        )
        .as_bytes(),
    );
    assert_eq!(answer.status, 200);
}

#[test]
fn client_that_stops_mid_head_is_disconnected() {
    let s = server();
    let mut stream = s.connect();
    stream
        .write_all(b"GET /v2/calls/x HTTP/1.1\r\nAuthorization: Bea")
        .unwrap();
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .expect("closed by the server, not left open until the read bound");
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.is_empty() || rest.starts_with("HTTP/1.1 408"),
        "{rest}"
    );
}

#[test]
fn body_on_get_is_ignored_and_the_connection_stays_usable() {
    let s = server();
    let id = s.id();
    let mut raw = get(
        format!("/v2/calls/{id}").as_bytes(),
        &[
            AUTH,
            b"Content-Type: application/json",
            b"Content-Length: 13",
        ],
    );
    raw.extend_from_slice(b"{\"x\":\"hello\"}");
    raw.extend(get(
        format!("/v2/calls/{id}").as_bytes(),
        &[AUTH, b"Transfer-Encoding: chunked"],
    ));
    raw.extend_from_slice(b"5\r\nhello\r\n0\r\n\r\n");
    raw.extend(get(format!("/v2/calls/{id}").as_bytes(), &[AUTH]));
    let mut r = BufReader::new(s.connect());
    r.get_mut().write_all(&raw).unwrap();
    for case in ["content-length body", "chunked body", "after the bodies"] {
        assert_fixture(&s, &read_answer(&mut r).unwrap(), case);
    }
}

/// What hyper sends for the refusals it makes itself, before any service runs: the status, an
/// empty body and `connection: close`. hyper 1's http1 builder has no hook for these answers (the
/// connection writes them from the parse error alone), so they cannot carry the JSON body the
/// mock's own refusals have; pinned here so a hyper change is seen (docs/hardening.md).
#[test]
fn refusals_hyper_makes_itself_are_bare_status_lines() {
    let s = server();
    // 414: a request target over 65,534 bytes (what `http::Uri` holds).
    let target = format!("/v2/calls/{}", "a".repeat(70_000));
    let a = s.exchange(&get(target.as_bytes(), &[AUTH]));
    assert_eq!(a.status, 414, "{a:?}");
    assert!(a.body.is_empty(), "{a:?}");
    assert_eq!(a.header("connection"), Some("close"), "{a:?}");
    // 400: an invalid request target.
    let a = s.exchange(&get(b"/v2/calls/a\x01b", &[AUTH]));
    assert_eq!(a.status, 400, "{a:?}");
    assert!(a.body.is_empty(), "{a:?}");
}
