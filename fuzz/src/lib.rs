//! The fuzz targets' bodies, as plain functions: `fuzz_targets/*.rs` hand them libFuzzer's input,
//! and the main workspace's `mock-server/tests/fuzz_corpus.rs` includes this file to run them over
//! `fuzz/corpus/` on stable. A panic anywhere below is a finding.
//!
//! Uses only crates the mock's own tests already depend on, so that inclusion needs nothing new.

use std::sync::OnceLock;

use axum::body::{to_bytes, Body};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use synthflow::contract::{check_call_body, CheckOptions};
use synthflow_mock::error::Template;
use synthflow_mock::store::check_fixture;
use synthflow_mock::{app, AppState, AuthPolicy, Config, LoadOptions, Store, UnknownIdStatus};
use tower::ServiceExt;

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
        assert!(
            serde_json::from_slice::<serde_json::Value>(&rendered).is_ok(),
            "a rendered error body is JSON"
        );
        let _ = t.description();
    }
}

struct Harness {
    rt: tokio::runtime::Runtime,
    entries: Vec<synthflow_mock::http::Entry>,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let store = Store::embedded().expect("embedded fixtures load");
        let configs = [
            Config::default(),
            Config {
                auth: AuthPolicy::tokens(["fuzz-token"]),
                unknown_id: UnknownIdStatus::NotFound,
                ..Config::default()
            },
        ];
        Harness {
            rt: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
            entries: configs
                .into_iter()
                .map(|c| app(AppState::new(store.clone(), c)))
                .collect(),
        }
    })
}

/// Request handling through the one entry production serves (`synthflow_mock::app`): the input's first line is the request target (appended
/// to `/v2/calls/` when it does not start with `/`), each further line a `name: value` header,
/// both as raw bytes; the first byte picks the method and the configuration. Whatever hyper
/// itself would refuse (an unparsable target or header) is skipped: that never reaches the entry.
/// Every answer must be below 500 and, except to HEAD, carry a JSON body.
pub fn request(data: &[u8]) {
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
    let h = harness();
    let entry = h.entries[usize::from(selector >> 7)].clone();
    let (status, body) = h.rt.block_on(async {
        let resp = entry.oneshot(req).await.expect("the entry is infallible");
        let status = resp.status();
        (
            status,
            to_bytes(resp.into_body(), usize::MAX)
                .await
                .expect("in-memory body"),
        )
    });
    assert!(!status.is_server_error(), "{status}");
    if method != Method::HEAD {
        assert!(
            serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
            "{status} with a non-JSON body: {:?}",
            String::from_utf8_lossy(&body)
        );
    }
}
