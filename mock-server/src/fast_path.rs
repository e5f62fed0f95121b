//! The fast path: a plain `GET /v2/calls/{id}` for a fixture, answered before the router.
//!
//! `app(state)` is the whole service and the reference for every answer. When the mock has nothing
//! dynamic to do (no scenario, no global fault, no journal) and the request is the common one — a
//! GET of a known id, without percent-escapes or a `Prefer` header, with a Bearer token the policy
//! accepts — the answer is the fixture's bytes whatever the router would do, so [`FastPath`]
//! answers it directly: no route matching, no path extraction, no boxed futures. Everything else
//! goes to the router unchanged. `tests/fast_path.rs` checks that both answer the same.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::body::Body;
use axum::response::Response;
use axum::Router;
use futures_util::future::{Either, Ready};
use http::{header, HeaderValue, Method, Request};
use http_body_util::{Either as BodyEither, Full};

use crate::routes::AppState;

/// The fixture answer for a request, when the fast path may give it; `None`: ask the router.
pub fn answer<B>(state: &AppState, req: &Request<B>) -> Option<Response> {
    answer_body(state, req).map(|body| with_json_type(Response::new(Body::from(body))))
}

fn with_json_type<T>(mut resp: http::Response<T>) -> http::Response<T> {
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The fixture's bytes when the fast path may answer (and the request's log line, if enabled).
fn answer_body<B>(state: &AppState, req: &Request<B>) -> Option<bytes::Bytes> {
    if req.method() != Method::GET || !state.is_plain() {
        return None;
    }
    let id = req.uri().path().strip_prefix("/v2/calls/")?;
    if id.is_empty() || id.contains(['/', '%']) || req.headers().contains_key("prefer") {
        return None;
    }
    state.config().auth.check(req.headers()).ok()?;
    let body = state.store().get(id)?.body.clone();
    if tracing::enabled!(target: "synthflow_mock::request", tracing::Level::INFO) {
        tracing::info!(
            target: "synthflow_mock::request",
            method = "GET",
            path = req.uri().path(),
            status = 200u16,
            latency_us = 0u64,
            "request"
        );
    }
    Some(body)
}

/// The service the server runs per connection: [`answer`] first, else the router with the peer
/// address as `ConnectInfo` (the admin API checks it).
#[derive(Clone)]
pub struct FastPath {
    state: AppState,
    router: Router,
    peer: SocketAddr,
}

impl FastPath {
    /// The fast path in front of `router`, for a connection from `peer`.
    pub fn new(state: AppState, router: Router, peer: SocketAddr) -> Self {
        FastPath {
            state,
            router,
            peer,
        }
    }
}

impl<B> hyper::service::Service<Request<B>> for FastPath
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    /// The fixture body as is (no boxing), or whatever the router answers.
    type Response = http::Response<BodyEither<Full<bytes::Bytes>, Body>>;
    type Error = Infallible;
    type Future = Either<Ready<Result<Self::Response, Infallible>>, RouterAnswer>;

    fn call(&self, req: Request<B>) -> Self::Future {
        if let Some(body) = answer_body(&self.state, &req) {
            let resp = with_json_type(http::Response::new(BodyEither::Left(Full::new(body))));
            return Either::Left(futures_util::future::ready(Ok(resp)));
        }
        let mut req = req.map(Body::new);
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        Either::Right(RouterAnswer {
            inner: tower::ServiceExt::oneshot(self.router.clone(), req),
        })
    }
}

pin_project_lite::pin_project! {
    /// The router's answer, its body wrapped as the right side of the fast path's body type.
    pub struct RouterAnswer {
        #[pin]
        inner: tower::util::Oneshot<Router, Request<Body>>,
    }
}

impl std::future::Future for RouterAnswer {
    type Output = Result<http::Response<BodyEither<Full<bytes::Bytes>, Body>>, Infallible>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        self.project()
            .inner
            .poll(cx)
            .map(|r| r.map(|resp| resp.map(BodyEither::Right)))
    }
}
