//! Serving on a socket: the accept loop, for `main`, [`crate::MockServer`] and the tools' proxy.
//!
//! HTTP/1.1 with keep-alive and pipelining through hyper's connection builder rather than
//! `axum::serve`, for the idle timeout the latter lacks; each connection's requests go to
//! [`Entry::handle`] with the peer address. Graceful: when `shutdown` completes the listener
//! closes and in-flight requests finish, until [`ServeOptions::shutdown_timeout`]: then the
//! connections still busy are closed and counted in a log line. The open connections, their idle
//! timeout and their shutdown are kept by `conns`, without a timer or a signal polled per request.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use conns::{Conns, Counted, Served, Tracked};

mod conns;

use crate::http::Entry;
use crate::state::AppState;

/// How long a connection may sit with no request in flight, no new request and nothing written
/// before the server closes it: a client that connects and sends nothing, sends its request head
/// a byte at a time, or stops reading an answer is not held forever (`server::conns`).
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
/// rather than `axum::serve`, for the idle timeout the latter lacks. `service` makes the
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
    let http = http1::Builder::new();
    let conns = Conns::default();
    // Zero turns the idle timeout off: a client that connects and sends nothing is then held
    // until it closes.
    // Stopped when dropped: at the end, or when this future is dropped.
    let _watcher = match options.header_read_timeout {
        t if t.is_zero() => None,
        t => conns
            .watch_idle(t)
            .inspect_err(|e| {
                tracing::warn!("no thread to watch idle connections ({e}): they are not closed")
            })
            .ok(),
    };
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
            () = &mut shutdown => break,
        };
        // Small JSON answers: send them now rather than wait for Nagle.
        let _ = stream.set_nodelay(true);
        let (conn, open) = conns.open();
        let io = TokioIo::new(Tracked {
            io: stream,
            conn: conn.clone(),
        });
        let service = Counted {
            inner: service(peer),
            conn: conn.clone(),
        };
        tokio::spawn(Served::new(http.serve_connection(io, service), conn, open));
    }
    drop(listener);
    let busy = conns.len();
    conns.shut_down();
    match options.shutdown_timeout {
        None => conns.drained().await,
        Some(deadline) => {
            if tokio::time::timeout(deadline, conns.drained())
                .await
                .is_err()
            {
                let cut = conns.cut_all();
                tracing::warn!(
                    cut,
                    deadline_s = deadline.as_secs_f64(),
                    "shutdown deadline reached: closing {cut} connection(s) still busy"
                );
                conns.drained().await;
            } else {
                tracing::info!(connections = busy, "shutdown: every request finished");
            }
        }
    }
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
