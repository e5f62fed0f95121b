//! Micro-benchmarks of the request hot path and of fixture loading.
//!
//! `cargo bench -p synthflow-mock --bench hot_path` (release build). What each measures:
//! - `store/get_hit`, `store/get_miss`: the id lookup;
//! - `auth/check_*`: the Bearer check on a realistic header map;
//! - `router/*`: one whole request through `synthflow_mock::app` in-process (routing, auth,
//!   the logging middleware with no subscriber, the error-render layer), body collected;
//! - `error/render_400`: building one fresh error body (new request_id and timestamp);
//! - `store/load_embedded`: start-up parsing and validation of the embedded fixture set.

use axum::body::{to_bytes, Body};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use http::{header, HeaderMap, HeaderValue, Request};
use synthflow_mock::{app, ApiError, AppState, AuthPolicy, Config, Store};
use tower::ServiceExt;

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
    h.insert(header::USER_AGENT, HeaderValue::from_static("bench/1"));
    h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
    h.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer sk-bench-0123456789abcdef"),
    );
    h
}

fn store_and_auth(c: &mut Criterion) {
    let store = Store::embedded().expect("embedded fixtures");
    let id = store.ids()[0].clone();
    c.bench_function("store/get_hit", |b| {
        b.iter(|| black_box(store.get(black_box(&id))))
    });
    c.bench_function("store/get_miss", |b| {
        b.iter(|| black_box(store.get(black_box("00000000-0000-0000-0000-000000000000"))))
    });
    let h = headers();
    c.bench_function("auth/check_any_bearer", |b| {
        b.iter(|| black_box(AuthPolicy::AnyBearer.check(black_box(&h)).is_ok()))
    });
    let listed = AuthPolicy::tokens(["sk-bench-0123456789abcdef"]);
    c.bench_function("auth/check_token_list", |b| {
        b.iter(|| black_box(listed.check(black_box(&h)).is_ok()))
    });
    let e = store.errors().bad_request.clone();
    c.bench_function("error/render_400", |b| b.iter(|| black_box(e.render())));
    let _ = ApiError::MalformedCallId; // the variant the 400 template answers
}

fn router(c: &mut Criterion) {
    let store = Store::embedded().expect("embedded fixtures");
    let id = store.ids()[0].clone();
    let router = app(AppState::new(store, Config::default()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let request = |uri: &str| {
        let mut req = Request::get(uri).body(Body::empty()).expect("request");
        *req.headers_mut() = headers();
        req
    };
    let ok_uri = format!("/v2/calls/{id}");
    for (name, uri) in [
        ("router/200_fixture", ok_uri.as_str()),
        ("router/400_unknown_id", "/v2/calls/no-such-call"),
        ("router/404_route", "/v2/nothing-here"),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let resp = router
                        .clone()
                        .oneshot(request(uri))
                        .await
                        .expect("infallible");
                    black_box(to_bytes(resp.into_body(), usize::MAX).await.expect("body"))
                })
            })
        });
    }
}

fn loading(c: &mut Criterion) {
    c.bench_function("store/load_embedded", |b| {
        b.iter(|| black_box(Store::embedded().expect("embedded fixtures").len()))
    });
}

criterion_group!(benches, store_and_auth, router, loading);
criterion_main!(benches);
