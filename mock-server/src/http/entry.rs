//! The one entry: every request the mock answers, from every caller, goes through [`Entry::handle`].
//!
//! `main`, [`crate::MockServer`], the in-process tests ([`crate::app`]), the property test and the
//! fuzz target all drive this function, so the path users hit is the path hostile input reaches.
//! It does three things, in this order:
//! 1. asks `decide::fixture_hit` whether the request is a plain fixture hit (a GET of a known id without
//!    a body, nothing dynamic set, no `Prefer` header, a token the policy accepts); if so the answer is the stored
//!    bytes, without route matching or boxed futures. The router's `GET /v2/calls/{id}` handler
//!    asks the same function, so the shortcut cannot drift from the router;
//! 2. otherwise hands the request to the router (`super::routes`) and, when it answers, writes the
//!    JSON body of a refusal ([`crate::error::render_response`]) and breaks the body of an answer
//!    marked for a body fault ([`crate::behaviour::faults::break_body`]);
//! 3. on both ways, journals the request (credentials redacted; admin requests excepted) and writes
//!    the one log line, with the real latency.
//!
//! Why a hand-written future rather than axum middleware: each `from_fn` layer boxes a future and
//! runs its own state machine per request; the plain hit here allocates nothing but its log line.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Uri};

use super::decide::{fixture_hit, Auth, JSON};
use super::MockBody;
use crate::behaviour::faults::{self, AppliedFault};
use crate::error::render_response;
use crate::journal::{self, IgnoredParams, Miss};
use crate::request_log;
use crate::state::AppState;

pub use crate::request_log::LOG_TARGET;

/// The id of a `/v2/calls/{id}` path as sent, when it needs no decoding; `None` otherwise (the
/// router decodes percent-escapes and refuses what is not an id).
fn raw_call_id(uri: &Uri) -> Option<&str> {
    let id = uri.path().strip_prefix("/v2/calls/")?;
    // memchr, not a `char` pattern: this runs on every request (bench/callgrind.sh).
    (!id.is_empty() && memchr::memchr2(b'/', b'%', id.as_bytes()).is_none()).then_some(id)
}

/// The mock as a service: see the module docs. Cheap to clone (the router is built once).
#[derive(Clone)]
pub struct Entry {
    state: AppState,
    router: Router,
    peer: Option<SocketAddr>,
    shortcut: bool,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("peer", &self.peer)
            .field("shortcut", &self.shortcut)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The entry over a state.
    pub fn new(state: AppState) -> Entry {
        Entry {
            router: super::routes::router(state.clone()),
            state,
            peer: None,
            shortcut: true,
        }
    }

    /// The same entry for a connection from `peer` (the admin API checks it).
    pub fn for_peer(&self, peer: SocketAddr) -> Entry {
        Entry {
            peer: Some(peer),
            ..self.clone()
        }
    }

    /// The same entry with the plain-hit shortcut off: every request goes through the router. For
    /// the test that compares both ways; production never turns it off.
    #[doc(hidden)]
    pub fn without_shortcut(mut self) -> Entry {
        self.shortcut = false;
        self
    }

    /// The state it serves.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Answers one request (see the module docs).
    pub fn handle<B>(&self, req: Request<B>) -> Answer
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        // Only what the log line needs, and only when it will be written.
        let start = request_log::enabled().then(request_log::Started::now);
        let journal = journal_entry(&self.state, &req);
        // A request with a body (a GET may carry one) goes to the router, which leaves the
        // connection usable after it (tests/bad_input.rs).
        if self.shortcut && req.body().is_end_stream() {
            let hit = raw_call_id(req.uri()).and_then(|id| {
                fixture_hit(
                    &self.state,
                    req.method(),
                    id,
                    req.headers(),
                    Auth::Unchecked,
                )
            });
            if let Some(body) = hit {
                // The router's answer has a type and a length; the length is not inserted here:
                // hyper writes it from the body's exact size (no header value to format, no
                // second insert), and the in-process answer adds it (`AxumAnswer`).
                let mut resp = Response::new(MockBody::Stored(Some(body)));
                resp.headers_mut().insert(header::CONTENT_TYPE, JSON);
                // The request is still here: the log line borrows its method and path.
                let log = start.map(|s| (s, req.method().as_str(), req.uri().path()));
                record(&self.state, journal, log, &resp);
                return Answer {
                    ready: Some(resp),
                    routed: None,
                };
            }
        }
        let finish = Finish {
            state: self.state.clone(),
            log: start.map(|s| (s, req.method().clone(), req.uri().clone())),
            journal,
        };
        let mut req = req.map(Body::new);
        if let Some(peer) = self.peer {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        Answer {
            ready: None,
            routed: Some(Box::pin(Routed {
                call: tower::ServiceExt::oneshot(self.router.clone(), req),
                finish: Some(finish),
            })),
        }
    }
}

/// The journal entry's request half, when the journal is on or an expectation counts requests
/// (admin requests excepted).
fn journal_entry<B>(state: &AppState, req: &Request<B>) -> Option<journal::JournalEntry> {
    let wanted = state.journal().is_on() || state.expectations().is_on();
    (wanted && !req.uri().path().starts_with(super::admin::PREFIX)).then(|| journal::JournalEntry {
        seq: 0,
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        method: journal::field(req.method().as_str()),
        path: journal::field(req.uri().path()),
        query: req
            .uri()
            .query()
            .map(|q| journal::field(&crate::redact::query(q))),
        headers: journal::redact_headers(
            req.headers(),
            std::slice::from_ref(&state.config().webhooks.signature_header),
        ),
        status: 0,
        fault: None,
        nearest_ids: Vec::new(),
        ignored_params: Vec::new(),
    })
}

/// Counts an answer in the expectations, journals and logs it: the same on both ways. `log`: when the request started, its
/// method and path.
fn record<T>(
    state: &AppState,
    journal: Option<journal::JournalEntry>,
    log: Option<(request_log::Started, &str, &str)>,
    resp: &http::Response<T>,
) {
    if let Some(mut entry) = journal {
        entry.status = resp.status().as_u16();
        entry.fault = resp
            .extensions()
            .get::<AppliedFault>()
            .map(|f| f.0.to_string());
        entry.nearest_ids = resp
            .extensions()
            .get::<Miss>()
            .map(|m| m.0.clone())
            .unwrap_or_default();
        entry.ignored_params = resp
            .extensions()
            .get::<IgnoredParams>()
            .map(|m| m.0.clone())
            .unwrap_or_default();
        // Every request counts, whatever the journal keeps (`crate::expectations`).
        state.expectations().observe(&entry);
        if state.journal().is_on() {
            state.journal().push(entry);
        }
    }
    if let Some((start, method, path)) = log {
        request_log::write(start, method, path, resp.status().as_u16());
    }
}

/// What the entry keeps of a request until its answer is ready: the log line's start, and the
/// journal entry's request half (taken before the router consumes the request).
struct Finish {
    state: AppState,
    log: Option<(request_log::Started, Method, Uri)>,
    journal: Option<journal::JournalEntry>,
}

impl Finish {
    /// The router's answer made final: refusal bodies, body faults, then [`record`].
    fn routed(self, resp: Response) -> Response {
        let resp = render_response(self.state.store().errors(), resp);
        let resp = faults::break_body(resp);
        let log = self
            .log
            .as_ref()
            .map(|(start, method, uri)| (*start, method.as_str(), uri.path()));
        record(&self.state, self.journal, log, &resp);
        resp
    }
}

/// The answer of [`Entry::handle`]: ready at once for a plain hit, else the router's.
///
/// The router's part is boxed: it holds the request and the router's future (about a kilobyte),
/// and hyper moves the answer several times before it is polled, each move a `memcpy` of its
/// whole size; a plain hit's answer is then only its response (bench/callgrind.sh: ~150
/// instructions a request).
pub struct Answer {
    ready: Option<Response<MockBody>>,
    routed: Option<Pin<Box<Routed>>>,
}

pin_project_lite::pin_project! {
    /// The router's answer on its way, and what is done with it once it is ready.
    struct Routed {
        #[pin]
        call: tower::util::Oneshot<Router, Request<Body>>,
        finish: Option<Finish>,
    }
}

impl Answer {
    /// Whether the plain-hit shortcut answered (before the answer is awaited). For the tests that
    /// compare both ways; not part of the API.
    #[doc(hidden)]
    pub fn is_shortcut(&self) -> bool {
        self.ready.is_some()
    }
}

impl Future for Answer {
    type Output = Result<Response<MockBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(resp) = this.ready.take() {
            return Poll::Ready(Ok(resp));
        }
        let routed = this
            .routed
            .as_mut()
            .expect("Answer polled after completion")
            .as_mut()
            .project();
        let Ok(resp) = std::task::ready!(routed.call.poll(cx));
        let finish = routed
            .finish
            .take()
            .expect("Answer polled after completion");
        Poll::Ready(Ok(finish.routed(resp).map(MockBody::Routed)))
    }
}

impl<B> hyper::service::Service<Request<B>> for Entry
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response<MockBody>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, req: Request<B>) -> Answer {
        self.handle(req)
    }
}

/// For in-process callers (`tower::ServiceExt::oneshot`): the same [`Entry::handle`], the answer's
/// body as an axum [`Body`].
impl<B> tower::Service<Request<B>> for Entry
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AxumAnswer;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> AxumAnswer {
        AxumAnswer {
            inner: self.handle(req),
        }
    }
}

pin_project_lite::pin_project! {
    /// [`Answer`] with an axum body.
    pub struct AxumAnswer {
        #[pin]
        inner: Answer,
    }
}

impl Future for AxumAnswer {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(resp) = std::task::ready!(self.project().inner.poll(cx));
        let (mut parts, body) = resp.into_parts();
        if let MockBody::Stored(_) = &body {
            // What hyper writes on the wire for the shortcut's answer (see `Entry::handle`).
            if let Some(len) = http_body::Body::size_hint(&body).exact() {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            }
        }
        let body = body.into_axum();
        Poll::Ready(Ok(Response::from_parts(parts, body)))
    }
}
