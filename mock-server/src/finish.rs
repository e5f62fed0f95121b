//! The one layer every response passes through on its way out: it writes the JSON body of a
//! refusal ([`crate::error::render_response`]), breaks the body of a response marked for a body
//! fault ([`crate::faults::break_body`]), and logs the request as one `tracing` line.
//!
//! Why one hand-written layer rather than three `axum::middleware::from_fn`s: each of those boxes a
//! future and runs its own async state machine per request; together they cost more instructions
//! than the rest of the hot path (see `bench/callgrind.sh`). This layer is a plain future that does
//! its work once the inner response is ready, with nothing allocated when there is nothing to do.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use http::{Method, Uri};
use tower::{Layer, Service};

use crate::routes::AppState;

/// Applies [`Finish`] to a router.
#[derive(Clone)]
pub struct FinishLayer {
    state: AppState,
}

impl FinishLayer {
    /// The layer over a state (its error bodies are the ones written).
    pub fn new(state: AppState) -> Self {
        FinishLayer { state }
    }
}

impl<S> Layer<S> for FinishLayer {
    type Service = Finish<S>;
    fn layer(&self, inner: S) -> Finish<S> {
        Finish {
            inner,
            state: self.state.clone(),
        }
    }
}

/// See the module docs.
#[derive(Clone)]
pub struct Finish<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for Finish<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = FinishFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // Only what the log line needs, and only when it will be written.
        let log = tracing::enabled!(target: "synthflow_mock::request", tracing::Level::INFO)
            .then(|| (Instant::now(), req.method().clone(), req.uri().clone()));
        FinishFuture {
            inner: self.inner.call(req),
            state: Some(self.state.clone()),
            log,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Finish`].
    pub struct FinishFuture<F> {
        #[pin]
        inner: F,
        state: Option<AppState>,
        log: Option<(Instant, Method, Uri)>,
    }
}

impl<F> Future for FinishFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(resp) = std::task::ready!(this.inner.poll(cx));
        let state = this
            .state
            .take()
            .expect("FinishFuture polled after completion");
        let resp = crate::error::render_response(&state, resp);
        let resp = crate::faults::break_body(resp);
        if let Some((start, method, uri)) = this.log.take() {
            tracing::info!(
                target: "synthflow_mock::request",
                %method,
                path = uri.path(),
                status = resp.status().as_u16(),
                latency_us = start.elapsed().as_micros() as u64,
                "request"
            );
        }
        Poll::Ready(Ok(resp))
    }
}
