//! The cargo-fuzz targets replayed as a plain test: each target's named seeds (`fuzz/seeds/<t>/`)
//! and the minimized corpus of its last long run (`fuzz/corpus/<t>/`, `cargo fuzz cmin`), so every
//! input a past run found stays a regression test at no fuzzing cost, on the stable toolchain.
//! The targets drive HTTP inputs through `Entry::handle`, the entry production serves
//! (fuzz/src/lib.rs); docs/fuzzing.md says how the corpus is made.
//!
//! The replay is shown able to fail: a deliberately broken handler, fed to the same targets over
//! the same corpus, must be reported, with the inputs that showed it.

#[path = "../../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use axum::body::{to_bytes, Body};
use http::{Request, StatusCode};
use targets::{production, Reply};

use crate::support;

/// Largest committed corpus of one target: kept small (docs/fuzzing.md).
const MAX_CORPUS_BYTES: u64 = 512 * 1024;

fn files(dir: &str, target: &str) -> Vec<PathBuf> {
    let dir = support::repo().join("fuzz").join(dir).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `f` over every seed and corpus input of `target`; the inputs on which it panicked, each
/// as `path: message`.
fn replay(target: &str, f: &dyn Fn(&[u8])) -> Vec<String> {
    let seeds = files("seeds", target);
    assert!(!seeds.is_empty(), "no seeds for {target}");
    // The minimized corpus of the last campaign (docs/fuzzing.md, "Last run").
    let corpus = files("corpus", target);
    assert!(
        !corpus.is_empty(),
        "no minimized corpus for {target} in fuzz/corpus/"
    );
    let inputs: Vec<PathBuf> = seeds.into_iter().chain(corpus).collect();
    inputs
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            let err = catch_unwind(AssertUnwindSafe(|| f(&bytes))).err()?;
            let msg = err
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Some(format!("{}: {msg}", p.display()))
        })
        .collect()
}

fn assert_survives(target: &str, f: &dyn Fn(&[u8])) {
    let failed = replay(target, f);
    assert!(failed.is_empty(), "{target}: {failed:#?}");
}

#[test]
fn fixture_target_survives_its_corpus() {
    assert_survives("fixture", &targets::fixture);
}

#[test]
fn request_target_survives_its_corpus() {
    assert_survives("request", &targets::request);
}

#[test]
fn make_call_target_survives_its_corpus() {
    assert_survives("make_call", &targets::make_call);
}

#[test]
fn prefer_target_survives_its_corpus() {
    assert_survives("prefer", &targets::prefer);
}

#[test]
fn scenario_target_survives_its_corpus() {
    assert_survives("scenario", &targets::scenario);
}

#[test]
fn webhook_target_survives_its_corpus() {
    assert_survives("webhook", &targets::webhook);
}

#[test]
fn committed_corpora_stay_small() {
    for t in [
        "fixture",
        "request",
        "make_call",
        "prefer",
        "scenario",
        "webhook",
    ] {
        let bytes: u64 = files("corpus", t)
            .iter()
            .map(|p| p.metadata().unwrap().len())
            .sum();
        assert!(bytes <= MAX_CORPUS_BYTES, "fuzz/corpus/{t}: {bytes} bytes");
    }
}

/// Reads a request's body, for a handler that looks at it before answering.
fn read(req: Request<Body>) -> (http::request::Parts, bytes::Bytes) {
    let (parts, body) = req.into_parts();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bytes = rt.block_on(to_bytes(body, usize::MAX)).unwrap();
    (parts, bytes)
}

#[test]
fn replay_reports_a_body_parser_that_refuses_custom_variables() {
    // The broken parser: a valid body with a `custom_variables` member is refused as 400.
    let broken = |entry: &synthflow_mock::Entry, req: Request<Body>| {
        let (parts, body) = read(req);
        if body.windows(16).any(|w| w == b"custom_variables") {
            return Reply {
                status: StatusCode::BAD_REQUEST,
                headers: Default::default(),
                body: Some(r#"{"status":"error"}"#.into()),
            };
        }
        production(entry, Request::from_parts(parts, Body::from(body)))
    };
    let failed = replay("make_call", &|d| targets::make_call_with(d, &broken));
    assert!(!failed.is_empty(), "the broken parser went unnoticed");
    for f in &failed {
        let path = f.split(": ").next().unwrap();
        let input = std::fs::read(path).unwrap();
        assert!(
            input.windows(16).any(|w| w == b"custom_variables"),
            "{f}: reported, but has no custom_variables"
        );
    }
}

#[test]
fn replay_reports_a_handler_whose_refusals_are_not_json() {
    // The broken handler: a request with an `Authorization` header gets a plain-text body.
    let broken = |entry: &synthflow_mock::Entry, req: Request<Body>| {
        let has_auth = req.headers().contains_key("authorization");
        let mut reply = production(entry, req);
        if has_auth && reply.body.is_some() {
            reply.body = Some("Unauthorized".into());
        }
        reply
    };
    let failed = replay("request", &|d| targets::request_with(d, &broken));
    assert!(!failed.is_empty(), "the broken handler went unnoticed");
    assert!(
        failed.iter().all(|f| f.contains("non-JSON body")),
        "{failed:#?}"
    );
}
