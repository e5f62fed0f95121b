//! Serving on a socket: the accept loop, for `main`, [`crate::MockServer`] and the tools' proxy.
//!
//! HTTP/1.1 with keep-alive and pipelining through hyper's connection builder rather than
//! `axum::serve`, for the header-read timeout the latter lacks (hyper's own,
//! `http1::Builder::header_read_timeout` on tokio's timer); each connection's requests go to
//! [`Entry::handle`] with the peer address. Graceful: when `shutdown` completes the listener
//! closes and every connection is asked to finish (hyper-util's `GracefulShutdown`: idle ones
//! close at once, busy ones after their answer), until [`ServeOptions::shutdown_timeout`]: then
//! the connections still busy are closed (their tasks aborted) and counted in a log line.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::http::Entry;
use crate::state::AppState;

/// How long the server waits for a whole request head, from when it starts waiting for one (a new
/// connection, or a keep-alive connection after its last answer): a client that connects and
/// sends nothing, sends its head a byte at a time, stops mid-head or sits idle between requests
/// is closed then (hyper's `header_read_timeout`, which may answer 408 first). Not covered: a
/// client that stops reading an answer holds its connection until shutdown, whose
/// [`SHUTDOWN_TIMEOUT`] closes it.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long in-flight requests may take to finish once shutdown starts, by default: well under
/// the 30 s orchestrators give (Kubernetes' default grace period).
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection settings of [`serve_router_with`]; [`serve_router`] uses the defaults.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// See [`HEADER_READ_TIMEOUT`]; zero turns it off.
    pub header_read_timeout: Duration,
    /// Once shutdown starts, how long in-flight requests may take before their connections are
    /// closed (see [`SHUTDOWN_TIMEOUT`]); `None`: as long as they take.
    pub shutdown_timeout: Option<Duration>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: HEADER_READ_TIMEOUT,
            shutdown_timeout: Some(SHUTDOWN_TIMEOUT),
        }
    }
}

/// Serves the whole mock for `state` (every request through [`Entry::handle`]) until `shutdown`
/// completes, then stops accepting and drains in-flight requests.
pub async fn serve_app(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_app_with(listener, state, shutdown, ServeOptions::default()).await
}

/// [`serve_app`] with explicit connection settings.
pub async fn serve_app_with(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    // What the mock listens on, its outgoing requests never reach.
    if let Ok(own) = listener.local_addr() {
        state.webhooks().outgoing().add_own_address(own);
    }
    let entry = Entry::new(state);
    serve_connections(listener, shutdown, options, move |peer| {
        entry.for_peer(peer)
    })
    .await
}

/// Serves another router (not the mock: the record proxy of the tools) on a listener until `shutdown` completes, then stops accepting and drains
/// in-flight requests (connections that are idle close at once). Each request carries its peer
/// address (`ConnectInfo<SocketAddr>`).
pub async fn serve_router(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router_with(listener, router, shutdown, ServeOptions::default()).await
}

/// [`serve_router`] with explicit connection settings.
pub async fn serve_router_with(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    serve_connections(listener, shutdown, options, move |peer| {
        let service = tower::ServiceExt::map_request(
            router.clone(),
            move |mut req: http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        );
        TowerToHyperService::new(service)
    })
    .await
}

/// The accept loop: HTTP/1.1 with keep-alive and pipelining, through hyper's connection builder
/// rather than `axum::serve`, for the header-read timeout the latter lacks. `service` makes the
/// service of one connection from its peer address.
async fn serve_connections<S, B>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
    service: impl Fn(SocketAddr) -> S,
) -> std::io::Result<()>
where
    S: hyper::service::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<B>,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new());
    // Zero turns the timeout off: a client that connects and sends nothing is then held until it
    // closes (hyper's own default, with a timer, would be 30 s).
    http.header_read_timeout(Some(options.header_read_timeout).filter(|t| !t.is_zero()));
    let graceful = GracefulShutdown::new();
    // Each connection's task, so that the shutdown deadline can count and close the busy ones.
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Per-connection failures (reset before accept) and running out of file
                    // descriptors must not stop the server; back off briefly on the latter.
                    tracing::warn!("accept failed: {e}");
                    if !is_connection_error(&e) {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
            // Connections that ended leave the set.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            () = &mut shutdown => break,
        };
        // Small JSON answers: send them now rather than wait for Nagle.
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(TokioIo::new(stream), service(peer));
        let watched = graceful.watch(connection);
        // A connection's own failure (reset, bad request head, header timeout) concerns only it.
        tasks.spawn(async move {
            let _ = watched.await;
        });
    }
    drop(listener);
    while tasks.try_join_next().is_some() {}
    let open = tasks.len();
    let drained = graceful.shutdown();
    match options.shutdown_timeout {
        None => drained.await,
        Some(deadline) => {
            if tokio::time::timeout(deadline, drained).await.is_err() {
                while tasks.try_join_next().is_some() {}
                let cut = tasks.len();
                tracing::warn!(
                    cut,
                    deadline_s = deadline.as_secs_f64(),
                    "shutdown deadline reached: closing {cut} connection(s) still busy"
                );
            } else {
                tracing::info!(connections = open, "shutdown: every request finished");
            }
        }
    }
    // Aborts what is left (the connections cut at the deadline) and waits for their tasks.
    tasks.shutdown().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
