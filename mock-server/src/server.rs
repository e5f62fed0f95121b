//! Starting the service on a socket, for `main` and for other crates' tests.

use std::future::Future;
use std::net::SocketAddr;

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

/// Serves the router on a listener until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
