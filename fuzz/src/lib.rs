//! The fuzz targets' bodies, as plain functions: `fuzz_targets/*.rs` hand them libFuzzer's input,
//! and the main workspace's `mock-server/tests/it/fuzz_corpus.rs` includes this file to replay
//! `fuzz/seeds/` and the minimized `fuzz/corpus/` on stable. A panic anywhere below is a finding.
//!
//! Every input that reaches the mock over HTTP goes through [`synthflow_mock::Entry::handle`],
//! the one entry production serves, by way of a [`Serve`] function: [`production`] for the fuzzer and
//! the replay; the replay's self-test passes a deliberately broken one and expects the checks here
//! to catch it, so these checks are shown to be able to fail.
//!
//! Uses only crates the mock itself or its tests already depend on, so that inclusion needs
//! nothing new.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::{to_bytes, Body};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use synthflow::contract::{check_call_body, CheckOptions};
use synthflow::webhook::{sign, verify_signature, PostCallWebhook};
use synthflow_mock::internals::behaviour::faults::{gateway_html, AppliedFault, BodyFault, Fault};
use synthflow_mock::internals::behaviour::made_calls::{MakeCallRequest, PerCall, MAX_BODY_BYTES};
use synthflow_mock::internals::error::Template;
use synthflow_mock::internals::store::check_fixture;
use synthflow_mock::Entry;
use synthflow_mock::{
    AdminAccess, AppState, AuthPolicy, Config, LoadOptions, ScenarioFile, Store, UnknownIdStatus,
};

/// The token every fuzzed request sends, and the token-checking configurations accept.
pub const TOKEN: &str = "fuzz-token";

/// An answer as a target sees it.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body read whole; `None` when a `drop` or `truncate` fault breaks it on purpose (not
    /// read, which spares the fault's 20 ms pause).
    pub body: Option<Bytes>,
}

/// How a target gets the answer to a request from an entry.
pub type Serve<'a> = &'a dyn Fn(&Entry, Request<Body>) -> Reply;

/// Production's way: [`Entry::handle`], awaited on a fresh single-thread runtime that is dropped
/// afterwards (with it goes any task the request started, such as a made call's timer).
pub fn production(entry: &Entry, req: Request<Body>) -> Reply {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let Ok(resp) = entry.handle(req).await;
        let broken = resp
            .extensions()
            .get::<AppliedFault>()
            .and_then(|f| f.0.body)
            .is_some_and(|b| b != BodyFault::NotJson);
        let (parts, body) = resp.into_parts();
        let body = if broken {
            None
        } else {
            let body = body.into_axum();
            Some(to_bytes(body, usize::MAX).await.expect("in-memory body"))
        };
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    })
}

fn json(body: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(body).ok()
}

/// The rule for every answer: below 500 unless `forced` (a fault asked for it), and a JSON body
/// unless the answer is to HEAD, its body was broken on purpose, or a forced `not-json` fault
/// made it the gateway's page for its status.
fn check_reply(reply: &Reply, method: &Method, forced: bool) {
    assert!(
        forced || !reply.status.is_server_error(),
        "{} without a fault that forces it",
        reply.status
    );
    if let (Some(body), false) = (&reply.body, method == Method::HEAD) {
        assert!(
            json(body).is_some() || (forced && *body == gateway_html(reply.status)),
            "{} with a non-JSON body: {:?}",
            reply.status,
            String::from_utf8_lossy(body)
        );
    }
}

/// The fixtures the mock ships, parsed once.
fn store() -> &'static Store {
    static S: OnceLock<Store> = OnceLock::new();
    S.get_or_init(|| Store::embedded().expect("embedded fixtures load"))
}

/// A fresh entry over the embedded fixtures: `tokens` makes it check the bearer token, `admin`
/// serves the admin API to the loopback peer the entry is for.
fn entry(tokens: bool, admin: bool) -> Entry {
    let mut config = Config::default();
    if tokens {
        config.auth = AuthPolicy::tokens([TOKEN]);
        config.unknown_id = UnknownIdStatus::NotFound;
    }
    if admin {
        config.admin = AdminAccess::Loopback;
    }
    let peer: SocketAddr = ([127, 0, 0, 1], 40000).into();
    synthflow_mock::app(AppState::new(store().clone(), config)).for_peer(peer)
}

/// An id written into a path: every byte but the unreserved ones percent-encoded.
fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Fixture parsing and validation: the contract checks, the store's per-file check (with the
/// file name taken from the input's first line when it has one) and the error-body template.
pub fn fixture(data: &[u8]) {
    for allow_out_of_spec in [false, true] {
        let opts = CheckOptions { allow_out_of_spec };
        let report = check_call_body(data, None, opts);
        if report.is_ok() {
            // A body the checks accept must decode to a call whose id the store can key on.
            let id = report
                .envelope
                .as_ref()
                .and_then(|e| e.call())
                .and_then(|c| c.call_id.clone());
            if let Some(id) = id {
                let name = format!("{id}.json");
                let fixture = check_fixture(
                    &name,
                    Bytes::copy_from_slice(data),
                    "fuzz",
                    LoadOptions { allow_out_of_spec },
                );
                assert!(fixture.is_ok(), "accepted body refused as a fixture file");
            }
        }
        let _ = check_call_body(data, Some("fuzz-id"), opts);
    }
    let name = match data.iter().position(|&b| b == b'\n') {
        Some(i) => String::from_utf8_lossy(&data[..i]).into_owned(),
        None => "x.json".to_owned(),
    };
    let _ = check_fixture(
        &name,
        Bytes::copy_from_slice(data),
        "fuzz",
        LoadOptions::default(),
    );
    if let Ok(t) = Template::new(Bytes::copy_from_slice(data)) {
        let rendered = t.render();
        assert!(json(&rendered).is_some(), "a rendered error body is JSON");
        let _ = t.description();
    }
}

/// [`request_with`] the production entry.
pub fn request(data: &[u8]) {
    request_with(data, &production)
}

/// Request handling: the input's first line is the request target (appended to `/v2/calls/`
/// when it does not start with `/`), each further line a `name: value` header, both as raw
/// bytes; the first byte picks the method and the configuration. Whatever hyper itself would
/// refuse (an unparsable target or header) is skipped: that never reaches the entry. A request
/// whose `Prefer` header adds latency is skipped too (a real sleep of up to a minute; the
/// `prefer` target covers the rest of that header). Every answer is checked by `check_reply`.
pub fn request_with(data: &[u8], serve: Serve) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut lines = rest.split(|&b| b == b'\n');
    let target = lines.next().unwrap_or_default();
    let target: Vec<u8> = if target.first() == Some(&b'/') {
        target.to_vec()
    } else {
        [b"/v2/calls/".as_slice(), target].concat()
    };
    let Ok(uri) = Uri::try_from(target) else {
        return;
    };
    let methods = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::DELETE,
        Method::OPTIONS,
    ];
    let method = methods[usize::from(selector) % methods.len()].clone();
    let mut req = Request::builder().method(method.clone()).uri(uri);
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        req = req.header(name, value);
    }
    let Ok(req) = req.body(Body::empty()) else {
        return;
    };
    let fault = Fault::from_prefer(req.headers()).ok().flatten();
    if fault.is_some_and(|f| f.latency_ms.unwrap_or(0) > 0) {
        return;
    }
    let forced = fault.is_some_and(forces_5xx);
    static ENTRIES: OnceLock<[Entry; 2]> = OnceLock::new();
    let entries = ENTRIES.get_or_init(|| [entry(false, false), entry(true, false)]);
    let reply = serve(&entries[usize::from(selector >> 7)], req);
    check_reply(&reply, &method, forced);
}

/// Whether a fault may answer 5xx: a forced 500 or 503, or a gateway page (502).
fn forces_5xx(f: Fault) -> bool {
    f.code.is_some_and(|c| c >= 500) || f.body == Some(BodyFault::NotJson)
}

/// [`make_call_with`] the production entry.
pub fn make_call(data: &[u8]) {
    make_call_with(data, &production)
}

/// `POST /v2/calls`: the input after its first byte is the body; the first byte picks the
/// `Content-Type` (JSON, JSON with a charset, text, none) and whether the entry checks tokens.
/// A body [`MakeCallRequest::parse`] accepts, declared JSON, makes a call that `GET` then serves
/// (200, its id); any other body is refused with 400 (413 past the size limit), as JSON.
pub fn make_call_with(data: &[u8], serve: Serve) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = [
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("text/plain"),
        None,
    ][usize::from(selector % 4)];
    let entry = entry(selector & 4 != 0, false);
    let mut req = Request::post("/v2/calls").header("authorization", format!("Bearer {TOKEN}"));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let req = req.body(Body::from(body.to_vec())).expect("request");
    let reply = serve(&entry, req);
    check_reply(&reply, &Method::POST, false);
    let parsed = MakeCallRequest::parse(body);
    let expected = if body.len() > MAX_BODY_BYTES {
        StatusCode::PAYLOAD_TOO_LARGE
    } else if parsed.is_ok() && selector % 4 < 2 {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    assert_eq!(reply.status, expected, "parsed as {parsed:?}");
    if reply.status != StatusCode::OK {
        return;
    }
    let answer = json(reply.body.as_deref().unwrap_or_default()).unwrap_or_default();
    let id = answer
        .pointer("/response/call_id")
        .and_then(|v| v.as_str())
        .expect("a made call's answer names its call_id")
        .to_owned();
    let get = Request::get(format!("/v2/calls/{}", path_segment(&id)))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .expect("request");
    let got = serve(&entry, get);
    check_reply(&got, &Method::GET, false);
    assert_eq!(got.status, StatusCode::OK, "the call made is served");
    let call = json(got.body.as_deref().unwrap_or_default()).unwrap_or_default();
    assert_eq!(
        call.pointer("/response/calls/0/call_id")
            .and_then(|v| v.as_str()),
        Some(id.as_str()),
        "GET serves the call made"
    );
}

/// [`prefer_with`] the production entry.
pub fn prefer(data: &[u8]) {
    prefer_with(data, &production)
}

/// The `Prefer` header: each line of the input after its first byte is one `Prefer` value (raw
/// bytes); the first byte picks `GET` of a stored call or `POST /v2/calls` with a valid body.
/// The parser's own rules: what it reads, written back (the `Preference-Applied` text), reads
/// the same, strictly too; the made-call keys (`outcome`, `call-duration`) never panic. Then
/// through the entry, unless the fault adds latency (a real sleep): a value that does not read
/// is a 400, a forced code is the status, a `not-json` fault is the gateway page, `drop` and
/// `truncate` break the body, no known key is the plain answer.
pub fn prefer_with(data: &[u8], serve: Serve) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut headers = HeaderMap::new();
    for line in rest.split(|&b| b == b'\n') {
        if let Ok(v) = HeaderValue::from_bytes(line) {
            headers.append("prefer", v);
        }
    }
    let parsed = Fault::from_prefer(&headers);
    if let Ok(Some(f)) = parsed {
        let text = f.to_string();
        let strict: Fault = text
            .parse()
            .unwrap_or_else(|e| panic!("{text:?} (written back) does not read: {e}"));
        assert_eq!(strict, f, "{text:?} (written back) reads differently");
    }
    let values: Vec<&str> = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let per_call = PerCall::from_prefer(values.iter().copied());
    if parsed
        .as_ref()
        .is_ok_and(|f| f.is_some_and(|f| f.latency_ms.unwrap_or(0) > 0))
    {
        return;
    }
    let post = selector & 1 == 1;
    let mut req = if post {
        Request::post("/v2/calls").header("content-type", "application/json")
    } else {
        let id = store()
            .id_set()
            .get_min()
            .expect("a stored call")
            .to_owned();
        Request::get(format!("/v2/calls/{}", path_segment(&id)))
    };
    req = req.header("authorization", format!("Bearer {TOKEN}"));
    let mut req = req
        .body(Body::from(
            r#"{"model_id":"m","phone":"+15550100","name":"Fuzz"}"#,
        ))
        .expect("request");
    if !post {
        *req.body_mut() = Body::empty();
    }
    for v in headers.get_all("prefer") {
        req.headers_mut().append("prefer", v.clone());
    }
    let method = req.method().clone();
    let reply = serve(&entry(false, false), req);
    let fault = parsed.as_ref().ok().copied().flatten();
    check_reply(&reply, &method, fault.is_some_and(forces_5xx));
    let Ok(fault) = parsed else {
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "an unreadable Prefer"
        );
        return;
    };
    let Some(f) = fault else {
        let plain = if post && per_call.is_err() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        assert_eq!(reply.status, plain, "no fault asked for");
        return;
    };
    let applied = reply
        .headers
        .get("preference-applied")
        .and_then(|v| v.to_str().ok());
    let status = match (f.code, f.body) {
        (Some(c), _) => StatusCode::from_u16(c).expect("a forceable code"),
        (None, _) if post && per_call.is_err() => {
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{f}: bad made-call keys"
            );
            return;
        }
        (None, Some(BodyFault::NotJson)) => StatusCode::BAD_GATEWAY,
        (None, _) => StatusCode::OK,
    };
    assert_eq!(reply.status, status, "Prefer: {f}");
    assert_eq!(applied, Some(f.to_string().as_str()), "Preference-Applied");
    match f.body {
        Some(BodyFault::NotJson) => {
            // The gateway's page for the status it answers with (502 unless a code is forced).
            let page = gateway_html(reply.status);
            assert_eq!(
                reply.body.as_deref(),
                Some(page.as_bytes()),
                "{f}: the page"
            )
        }
        Some(_) => assert!(reply.body.is_none(), "{f}: the body is broken"),
        None => {}
    }
}

/// [`scenario_with`] the production entry.
pub fn scenario(data: &[u8]) {
    scenario_with(data, &production)
}

/// Scenario files (`scenarios.json`: call id → scenario), read as `serve` reads them; one that
/// reads is written back and reads the same. Its first scenarios are then set through the admin
/// API (`PUT /__admin/scenarios/{id}`) and their call polled: the set is refused with a 4xx or
/// accepted, and each poll answers as `check_reply` requires (5xx only when a fault of the
/// scenario forces it). A scenario with latency is set but not polled (a real sleep).
pub fn scenario_with(data: &[u8], serve: Serve) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = serde_json::from_str::<ScenarioFile>(text) else {
        return;
    };
    let written = serde_json::to_vec(&file).expect("a scenario file encodes");
    let again: ScenarioFile = serde_json::from_slice(&written).unwrap_or_else(|e| {
        panic!(
            "written back, {:?} does not read: {e}",
            String::from_utf8_lossy(&written)
        )
    });
    assert_eq!(
        again, file,
        "a scenario file written back reads differently"
    );
    let entry = entry(false, true);
    let mut ids: Vec<&String> = file.keys().collect();
    ids.sort();
    for id in ids.into_iter().take(4) {
        let s = &file[id];
        let put = Request::put(format!("/__admin/scenarios/{}", path_segment(id)))
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::to_vec(s).expect("a scenario encodes"),
            ))
            .expect("request");
        let reply = serve(&entry, put);
        check_reply(&reply, &Method::PUT, false);
        if !reply.status.is_success() {
            assert!(reply.status.is_client_error(), "{}", reply.status);
            continue;
        }
        if s.faults.iter().any(|f| f.latency_ms.unwrap_or(0) > 0) {
            continue;
        }
        let forced = s.faults.iter().any(|f| forces_5xx(*f));
        for _ in 0..s.faults.len().min(6) + 5 {
            let get = Request::get(format!("/v2/calls/{}", path_segment(id)))
                .header("x-mock-client", "fuzz")
                .body(Body::empty())
                .expect("request");
            let reply = serve(&entry, get);
            check_reply(&reply, &Method::GET, forced);
        }
    }
}

/// The post-call webhook's model and signature: a payload that decodes re-encodes to the same
/// JSON value and decodes to itself; a `GET` body the mock turns into a payload gives one with
/// the call's id, which re-decodes to itself, and whose signature verifies for that id only. The
/// input's first line also serves as a secret and the rest as a signature header to verify (no
/// panic, and never accepted unless it is the right one).
pub fn webhook(data: &[u8]) {
    if let Ok(p) = serde_json::from_slice::<PostCallWebhook>(data) {
        let bytes = p.to_json();
        let back: PostCallWebhook = serde_json::from_slice(&bytes).expect("to_json reads back");
        assert_eq!(back, p, "a payload re-encoded decodes differently");
        // Up to `null` members, which the single-option fields drop (absent and null mean the
        // same to them).
        let value: serde_json::Value = serde_json::from_slice(data).expect("it decoded");
        let again: serde_json::Value = serde_json::from_slice(&bytes).expect("it is JSON");
        assert_eq!(
            without_nulls(again),
            without_nulls(value),
            "a payload re-encodes to another JSON value"
        );
    }
    if let Ok(p) = PostCallWebhook::from_envelope(data) {
        let id = p.call_id().expect("a payload built from a call has its id");
        assert!(!id.is_empty());
        let back: PostCallWebhook = serde_json::from_slice(&p.to_json()).expect("reads back");
        assert_eq!(back, p, "a built payload re-encoded decodes differently");
        let sig = sign("whsec_fuzz", id);
        assert!(verify_signature("whsec_fuzz", id, &sig));
        assert!(!verify_signature("whsec_fuzz", &format!("{id}x"), &sig));
    }
    let text = String::from_utf8_lossy(data);
    let (secret, header) = text.split_once('\n').unwrap_or((&*text, ""));
    let ok = verify_signature(secret, "call-1", header);
    assert_eq!(
        ok,
        header.trim() == sign(secret, "call-1"),
        "verify_signature({secret:?}, {header:?})"
    );
}

/// `v` with every `null` object member removed, at any depth.
fn without_nulls(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// For `fuzz/selftest.sh`: a target that crashes on every input when `FUZZ_SELFTEST_CRASH` is
/// set, to show that `run.sh` fails on a crash (its build fails on demand, see its source).
pub fn selftest(data: &[u8]) {
    if std::env::var_os("FUZZ_SELFTEST_CRASH").is_some() {
        panic!(
            "deliberate crash for fuzz/selftest.sh ({} bytes)",
            data.len()
        );
    }
}
