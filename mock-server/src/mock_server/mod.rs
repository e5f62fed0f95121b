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
//! let sent = mock.received_requests().expect("the journal is on");
//! assert!(sent.iter().all(|r| r.path.ends_with(&id)));
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::behaviour::faults::GlobalFaults;
use crate::behaviour::scenario::{Scenario, ScenarioError};
use crate::expectations::{Expectation, VerificationError};
use crate::journal::JournalEntry;
use crate::server::serve_app;
use crate::state::{AdminAccess, AppState, Config};
use crate::store::{check_fixture, Store, StoreError};
use crate::webhook::{Delivery, FaultError, ReceiverFaults, WebhookConfig, Webhooks};

mod agents;
mod call_builder;
mod scoped;

pub use call_builder::CallBuilder;
pub use scoped::Scoped;

/// What keeps a fixture folder watched (nothing can, without the `watch` feature).
#[cfg(feature = "watch")]
type Watcher = crate::reload::ReloadHandle;
#[cfg(not(feature = "watch"))]
type Watcher = std::convert::Infallible;

/// A running mock, stopped when dropped: the in-process server a test starts, as wiremock-rs'
/// `MockServer`. It serves the embedded fixtures (or a folder, with [`MockServer::builder`]) on
/// `127.0.0.1` and a random port; [`MockServer::base_url`] is the base URL to give the client.
/// Expectations are checked on [`MockServer::verify`] and when it is dropped.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use synthflow_mock::{CallBuilder, Expectation, Fault, MockServer, Scenario};
///
/// let mock = MockServer::start().await?;
/// let id = mock.add_call(CallBuilder::new("call-1").collected_variable("intent", "cancel"))?;
/// mock.set_scenario(&id, Scenario::first_n(1, Fault::code(429)))?; // one 429, then the call
/// mock.expect(Expectation::get_call(&id).times(2));
///
/// let url = format!("{}/calls/{id}", mock.base_url()); // http://127.0.0.1:PORT/v2/calls/call-1
/// // ... run the client under test against `url` (it must retry the 429) ...
/// mock.verify(); // or let the drop check it
/// # let _ = url;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    reload: Option<Watcher>,
    /// What [`MockServer::reset`] goes back to.
    initial: Initial,
    /// The runtime of a mock started with [`MockServer::start_blocking`] (dropped last).
    runtime: Option<tokio::runtime::Runtime>,
}

impl MockServer {
    /// Starts a mock on the embedded fixtures, on `127.0.0.1` and a free port, with a journal
    /// of 1000 requests.
    pub async fn start() -> std::io::Result<MockServer> {
        MockServer::builder().start().await
    }

    /// [`MockServer::start`] for tests without an async runtime: the mock runs on its own runtime
    /// (two worker threads), stopped with it. Call it outside any tokio runtime.
    pub fn start_blocking() -> std::io::Result<MockServer> {
        MockServer::builder().start_blocking()
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
            initial: Initial {
                store: state.store().clone(),
                scenarios: state.scenarios(),
                faults: (*state.faults()).clone(),
            },
            state,
            shutdown: Some(tx),
            task: Some(task),
            reload: None,
            runtime: None,
        })
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give a Synthflow client in place of `https://api.synthflow.ai/v2`:
    /// `http://127.0.0.1:PORT/v2`, **with** the `/v2`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// The server's root, `http://127.0.0.1:PORT`, **without** `/v2` (wiremock-rs' `uri()`): for
    /// `/healthz`, `/__admin` or building paths yourself.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The full URL of one call: `{base_url}/calls/{id}`.
    pub fn call_url(&self, id: &str) -> String {
        format!("{}/calls/{id}", self.base_url())
    }

    /// Adds an expectation on what this mock receives, checked by [`MockServer::verify`] and when
    /// the mock is dropped. It counts every matching request received from now on (add it before
    /// the client runs), whatever the journal's size, also with the journal off.
    pub fn expect(&self, expectation: Expectation) -> &Self {
        self.state.expectations().add(expectation);
        self
    }

    /// Checks every expectation now; panics with the unmet ones and every request received.
    pub fn verify(&self) {
        if let Err(msg) = self.check_expectations() {
            panic!("{msg}");
        }
    }

    /// Checks every expectation; `Err` is the message [`MockServer::verify`] panics with.
    pub fn check_expectations(&self) -> Result<(), VerificationError> {
        let received = self.received_requests();
        self.state.expectations().check(received.as_deref())
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
        let id = call_id_of(&body);
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

    /// [`MockServer::add_call`] until the guard is dropped: the call it replaced comes back, or
    /// the call goes. Its id: [`Scoped::call_id`].
    pub fn add_call_scoped(&self, body: impl Into<Bytes>) -> Result<Scoped, StoreError> {
        let body = body.into();
        let id = call_id_of(&body);
        let previous = self.state.store().get(&id).cloned();
        self.add_call(body)?;
        Ok(Scoped::call(self.state.clone(), id, previous))
    }

    /// [`MockServer::set_scenario`] until the guard is dropped: the call's previous scenario (from
    /// its start) comes back, or none.
    pub fn set_scenario_scoped(
        &self,
        id: &str,
        scenario: Scenario,
    ) -> Result<Scoped, ScenarioError> {
        let previous = self.state.scenarios().remove(id);
        self.set_scenario(id, scenario)?;
        Ok(Scoped::scenario(self.state.clone(), id, previous))
    }

    /// [`MockServer::set_faults`] until the guard is dropped: the previous faults come back.
    pub fn set_faults_scoped(&self, faults: GlobalFaults) -> Scoped {
        let previous = (*self.state.faults()).clone();
        self.set_faults(faults);
        Scoped::faults(self.state.clone(), previous)
    }

    /// Sets the scenario of a call (see [`Scenario`]).
    pub fn set_scenario(&self, id: &str, scenario: Scenario) -> Result<(), ScenarioError> {
        self.state.set_scenario(id, scenario)
    }

    /// Replaces the global faults.
    pub fn set_faults(&self, faults: GlobalFaults) {
        self.state.set_faults(faults);
    }

    /// The requests the journal kept, oldest first (credentials redacted): the last 1,000 by
    /// default. `None`: recording is off (`.journal(0)`), as wiremock-rs' `received_requests`;
    /// `Some(vec![])`: none received.
    pub fn received_requests(&self) -> Option<Vec<JournalEntry>> {
        let journal = self.state.journal();
        journal.is_on().then(|| journal.entries())
    }

    /// The post-call webhook sender (queue, stats, shutdown, `post_call`).
    pub fn webhooks(&self) -> &Webhooks {
        self.state.webhooks()
    }

    /// Every webhook delivery attempt so far, oldest first (no secret, no signature).
    pub fn webhook_deliveries(&self) -> Vec<Delivery> {
        self.state.webhooks().deliveries()
    }

    /// Replaces the webhook receiver faults (late, twice, out of order, bad signature, bad body);
    /// a `delay_ms` over the attempt timeout is refused.
    pub fn set_webhook_faults(&self, faults: ReceiverFaults) -> Result<(), FaultError> {
        self.state.webhooks().set_faults(faults)
    }

    /// Back to how it started, as wiremock-rs' `reset`: forgets every expectation, empties the
    /// journal, and puts back the calls, scenarios and global faults it started with (added and
    /// made calls are gone, every scenario starts again), and the agents and actions of the seed.
    pub fn reset(&self) {
        self.state.expectations().clear();
        self.state.journal().clear();
        self.state.set_store(self.initial.store.clone());
        for id in self.state.scenarios().keys() {
            self.state.remove_scenario(id);
        }
        for (id, scenario) in &self.initial.scenarios {
            // Set at start on a call of the initial set: it cannot be refused now.
            let _ = self.state.set_scenario(id, scenario.clone());
        }
        self.state.set_faults(self.initial.faults.clone());
        self.state.reset_progress();
        self.state.agents().reset(&self.state.config().agents.seed);
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
        // As wiremock-rs: unmet expectations fail the test when the mock goes out of scope, unless
        // the test is already failing (a second panic would abort and hide the first).
        if !std::thread::panicking() {
            if let Err(msg) = self.check_expectations() {
                panic!("{msg}");
            }
        }
    }
}

/// What a mock started with, for [`MockServer::reset`] (the store is persistent: a cheap clone).
#[derive(Debug)]
struct Initial {
    store: Store,
    scenarios: HashMap<String, Scenario>,
    faults: GlobalFaults,
}

/// The call id of a 200 body (empty if it has none: the fixture check then refuses it).
fn call_id_of(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/response/calls/0/call_id")
                .and_then(|c| c.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// How to start a [`MockServer`].
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    config: Config,
    fixtures: Option<PathBuf>,
    addr: SocketAddr,
    #[cfg_attr(not(feature = "watch"), allow(dead_code))]
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

    /// The whole configuration at once. Its `journal_size` applies as given (`Config::default()`
    /// has the journal off; expectations count all the same).
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

    /// How post-call webhooks are sent (default URL, secret, retry policy).
    pub fn webhooks(mut self, config: WebhookConfig) -> Self {
        self.config.webhooks = config;
        self
    }

    /// Serves the admin API (default off).
    pub fn admin(mut self, access: AdminAccess) -> Self {
        self.config.admin = access;
        self
    }

    /// How calls made through `POST /v2/calls` behave (lifecycle duration, bound, outcome rules).
    pub fn made_calls(mut self, made: crate::behaviour::made_calls::MadeCallConfig) -> Self {
        self.config.made_calls = made;
        self
    }

    /// Reloads the fixture folder when its files change (needs [`Self::fixtures`]).
    #[cfg(feature = "watch")]
    pub fn watch(mut self, on: bool) -> Self {
        self.watch = on;
        self
    }

    /// Listens there (default `127.0.0.1:0`).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// [`Self::start`] on a runtime of its own (see [`MockServer::start_blocking`]).
    pub fn start_blocking(self) -> std::io::Result<MockServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let mut mock = runtime.block_on(self.start())?;
        mock.runtime = Some(runtime);
        Ok(mock)
    }

    /// Loads the fixtures and starts serving.
    pub async fn start(self) -> std::io::Result<MockServer> {
        let store = match &self.fixtures {
            Some(dir) => Store::from_dir(dir, self.config.load),
            None => Store::embedded(),
        }
        .map_err(|e: StoreError| std::io::Error::other(e.to_string()))?;
        #[cfg_attr(not(feature = "watch"), allow(unused_mut))]
        let mut mock = MockServer::start_with(AppState::new(store, self.config), self.addr).await?;
        #[cfg(feature = "watch")]
        if let (true, Some(dir)) = (self.watch, &self.fixtures) {
            let handle = crate::reload::watch(dir, mock.state.clone())
                .map_err(|e| std::io::Error::other(format!("watch {}: {e}", dir.display())))?;
            mock.reload = Some(handle);
        }
        Ok(mock)
    }
}
