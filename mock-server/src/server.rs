//! Starting the service on a socket, for `main` and for tests: the in-process API.
//!
//! In the spirit of wiremock-rs: [`MockServer::start`] serves the embedded fixtures on a random
//! loopback port; [`MockServer::builder`] chooses the fixtures, faults, journal and admin API.
//! A running mock gives its base URL, takes new calls and scenarios, and exposes its journal; it
//! stops when dropped.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use synthflow_mock::{Fault, MockServer, Scenario};
//! let mock = MockServer::builder().journal(100).start().await?;
//! let id = mock.call_ids()[0].clone();
//! // The first two requests for this call get 429, then the call.
//! mock.set_scenario(&id, Scenario::first_n(2, Fault::code(429)))?;
//! let url = format!("{}/calls/{id}", mock.base_url());
//! // ... point the client under test at `url`, then verify what it sent:
//! assert!(mock.received_requests().iter().all(|r| r.path.ends_with(&id)));
//! # Ok(()) }
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;

use crate::fast_path::FastPath;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::faults::GlobalFaults;
use crate::journal::Entry;
use crate::routes::{app, AdminAccess, AppState, Config};
use crate::scenario::{Scenario, ScenarioError};
use crate::store::{check_fixture, Store, StoreError};

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
    reload: Option<crate::reload::ReloadHandle>,
}

impl MockServer {
    /// Starts a mock on the embedded fixtures, on `127.0.0.1` and a free port, with a journal
    /// of 1000 requests.
    pub async fn start() -> std::io::Result<MockServer> {
        MockServer::builder().start().await
    }

    /// A mock to configure before starting it.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// Starts a mock with the given state on the given address (port 0 = any free port).
    pub async fn start_with(state: AppState, addr: SocketAddr) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_app(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Ok(MockServer {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
            reload: None,
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

    /// The call ids it serves, sorted.
    pub fn call_ids(&self) -> Vec<String> {
        self.state.store().ids().to_vec()
    }

    /// Adds or replaces a call: `body` is the 200 body (the envelope with one call), checked like a
    /// fixture file. Returns its call id.
    pub fn add_call(&self, body: impl Into<Bytes>) -> Result<String, StoreError> {
        let body = body.into();
        let id = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v.pointer("/response/calls/0/call_id")
                    .and_then(|c| c.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let fixture = check_fixture(
            &format!("{id}.json"),
            body,
            &format!("added:{id}"),
            self.state.config().load,
        )
        .map_err(|b| StoreError::BadFiles(vec![b]))?;
        self.state.update_store(|s| s.insert(fixture));
        Ok(id)
    }

    /// Removes a call; true if it was there.
    pub fn remove_call(&self, id: &str) -> bool {
        self.state.update_store(|s| s.remove(id).is_some())
    }

    /// Sets the scenario of a call (see [`Scenario`]).
    pub fn set_scenario(&self, id: &str, scenario: Scenario) -> Result<(), ScenarioError> {
        self.state.set_scenario(id, scenario)
    }

    /// Replaces the global faults.
    pub fn set_faults(&self, faults: GlobalFaults) {
        self.state.set_faults(faults);
    }

    /// Every request journaled so far, oldest first (credentials redacted).
    pub fn received_requests(&self) -> Vec<Entry> {
        self.state.journal().entries()
    }

    /// Empties the journal and restarts every scenario.
    pub fn reset(&self) {
        self.state.journal().clear();
        self.state.reset_progress();
    }

    /// Watching its fixture folder for changes (builder's `watch`).
    pub fn is_watching(&self) -> bool {
        self.reload.is_some()
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.reload = None;
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
    /// See [`HEADER_READ_TIMEOUT`]; zero turns it off.
    pub header_read_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

/// Serves the whole mock for `state` (`app(state)` behind [`crate::fast_path::FastPath`]) until
/// `shutdown` completes, then stops accepting and drains in-flight requests.
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
    let router = app(state.clone());
    serve_connections(listener, shutdown, options, move |peer| {
        FastPath::new(state.clone(), router.clone(), peer)
    })
    .await
}

/// Serves any router on a listener until `shutdown` completes, then stops accepting and drains
/// in-flight requests (connections that are idle close at once). Each request carries its peer
/// address (`ConnectInfo<SocketAddr>`).
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ServeOptions::default()).await
}

/// [`serve`] with explicit connection settings.
pub async fn serve_with(
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
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut http = http1::Builder::new();
    // Zero turns the timeout off: a client that connects and sends nothing is then held until it
    // closes; the timer costs about 1,600 instructions a request (bench/callgrind.sh).
    if !options.header_read_timeout.is_zero() {
        http.timer(TokioTimer::new())
            .header_read_timeout(options.header_read_timeout);
    }
    let graceful = GracefulShutdown::new();
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
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service(peer)));
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

/// How to start a [`MockServer`].
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    config: Config,
    fixtures: Option<PathBuf>,
    addr: SocketAddr,
    watch: bool,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        MockServerBuilder {
            config: Config {
                journal_size: 1000,
                ..Config::default()
            },
            fixtures: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            watch: false,
        }
    }
}

impl MockServerBuilder {
    /// Serves this fixture folder instead of the embedded fixtures.
    pub fn fixtures(mut self, dir: impl AsRef<Path>) -> Self {
        self.fixtures = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The whole configuration at once.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Journal size (0 = off; default 1000).
    pub fn journal(mut self, size: usize) -> Self {
        self.config.journal_size = size;
        self
    }

    /// `Retry-After` on a 429 (`None` = no header; default 1 s).
    pub fn retry_after(mut self, secs: Option<u32>) -> Self {
        self.config.retry_after = secs;
        self
    }

    /// Faults on every request.
    pub fn faults(mut self, faults: GlobalFaults) -> Self {
        self.config.faults = faults;
        self
    }

    /// Serves the admin API (default off).
    pub fn admin(mut self, access: AdminAccess) -> Self {
        self.config.admin = access;
        self
    }

    /// Reloads the fixture folder when its files change (needs [`Self::fixtures`]).
    pub fn watch(mut self, on: bool) -> Self {
        self.watch = on;
        self
    }

    /// Listens there (default `127.0.0.1:0`).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Loads the fixtures and starts serving.
    pub async fn start(self) -> std::io::Result<MockServer> {
        let store = match &self.fixtures {
            Some(dir) => Store::from_dir(dir, self.config.load),
            None => Store::embedded(),
        }
        .map_err(|e: StoreError| std::io::Error::other(e.to_string()))?;
        let mut mock = MockServer::start_with(AppState::new(store, self.config), self.addr).await?;
        if let (true, Some(dir)) = (self.watch, &self.fixtures) {
            let handle = crate::reload::watch(dir, mock.state.clone())
                .map_err(|e| std::io::Error::other(format!("watch {}: {e}", dir.display())))?;
            mock.reload = Some(handle);
        }
        Ok(mock)
    }
}
