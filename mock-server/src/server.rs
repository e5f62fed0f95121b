//! Starting the service on a socket, for `main` and for other crates' tests.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::routes::{app, AppState, Config};
use crate::store::Store;

/// A running mock, stopped when dropped.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let mock = synthflow_mock::MockServer::start().await?;
/// let url = format!("{}/calls/{}", mock.base_url(), mock.state().store().ids()[0]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl MockServer {
    /// Starts a mock on the embedded fixtures, on `127.0.0.1` and a free port.
    pub async fn start() -> std::io::Result<MockServer> {
        let store = Store::embedded().map_err(std::io::Error::other)?;
        MockServer::start_with(
            AppState::new(store, Config::default()),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
    }

    /// Starts a mock with the given state on the given address (port 0 = any free port).
    pub async fn start_with(state: AppState, addr: SocketAddr) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let router = app(state.clone());
        let task = tokio::spawn(serve(listener, router, async {
            let _ = rx.await;
        }));
        Ok(MockServer {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give a client, ending in `/v2` like the vendor's.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// `http://host:port`, without the `/v2`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The state it serves.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => t.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// How long a connection may take to send a request head (and may sit idle between requests)
/// before the server closes it, so a client that connects and sends nothing is not held forever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection settings of [`serve_with`]; [`serve`] uses the defaults.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

/// Serves the router on a listener until `shutdown` completes, then stops accepting and drains
/// in-flight requests (connections that are idle close at once).
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ServeOptions::default()).await
}

/// [`serve`] with explicit connection settings.
///
/// HTTP/1.1 with keep-alive and pipelining, through hyper's connection builder rather than
/// `axum::serve`, for the header-read timeout the latter lacks.
pub async fn serve_with(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
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
        let service = TowerToHyperService::new(router.clone());
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A connection's own failure (reset, timeout, bad request head) concerns only it.
            let _ = conn.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
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
