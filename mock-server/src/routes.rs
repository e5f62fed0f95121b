//! The service: `fn app(state) -> Router`, so tests drive it in-process and `main` only serves it.
//!
//! Routes: `GET /v2/calls/{call_id}` (the vendor's path under its `/v2` base), `GET /v2/calls`
//! (the list, [`crate::list`]), `GET /healthz`, and the admin API under `/__admin` when enabled
//! ([`crate::admin`]). The hot path of `GET /v2/calls/{call_id}` stays a lookup and a `Bytes`
//! clone while no scenario or global fault is set and the request has no `Prefer` header; faults
//! ([`crate::faults`]) and scenarios ([`crate::scenario`]) take the slower path only when asked.
//! Any other path is a 404 and any other method on a known path a 405 with `Allow`, both with JSON
//! bodies, as the live service answers. One log line per request (method, path, status, latency);
//! the `Authorization` header is never logged.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use arc_swap::ArcSwap;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::auth::AuthPolicy;
use crate::error::ApiError;
use crate::faults::{self, Fault, GlobalFaults};
use crate::journal::{self, Journal, Miss};
use crate::list::{ListIndex, ListQuery};
use crate::scenario::{Active, Scenario, ScenarioError, Turn, CLIENT_HEADER};
use crate::store::{LoadOptions, Store};

/// What the mock answers for a well-formed call id it has no fixture for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum UnknownIdStatus {
    /// The documented answer: 400 with the error body.
    #[default]
    #[value(name = "400")]
    BadRequest,
    /// What the public catalogue declares and some clients expect: 404.
    #[value(name = "404")]
    NotFound,
}

/// Who may use the admin API (`/__admin/...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AdminAccess {
    /// No admin API: its paths are 404 like any unknown route.
    #[default]
    Off,
    /// Served to loopback peers only; others get 403.
    Loopback,
    /// Served to any peer (only behind a network you trust).
    Any,
}

/// How the mock behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Which Bearer tokens are accepted.
    pub auth: AuthPolicy,
    /// 400 or 404 for an unknown id.
    pub unknown_id: UnknownIdStatus,
    /// `Retry-After` seconds on a forced 429 (`None`: no header, as the live service publishes none).
    pub retry_after: Option<u32>,
    /// The admin API.
    pub admin: AdminAccess,
    /// Size of the request journal (0 = off).
    pub journal_size: usize,
    /// Faults applied to every request at start (the admin API can change them).
    pub faults: GlobalFaults,
    /// How fixtures added at run time (admin API, hot reload) are checked.
    pub load: LoadOptions,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            auth: AuthPolicy::default(),
            unknown_id: UnknownIdStatus::default(),
            retry_after: Some(1),
            admin: AdminAccess::Off,
            journal_size: 0,
            faults: GlobalFaults::default(),
            load: LoadOptions::default(),
        }
    }
}

/// Shared state of the service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// One fixture set with what is derived from it; swapped whole, so a reader never sees half of a
/// change.
#[derive(Debug)]
struct Snapshot {
    store: Store,
    list: OnceLock<ListIndex>,
}

#[derive(Debug)]
struct Inner {
    snapshot: ArcSwap<Snapshot>,
    config: Config,
    faults: ArcSwap<GlobalFaults>,
    scenarios: RwLock<HashMap<String, Arc<Active>>>,
    /// Any scenario or global fault set: the hot path checks this one flag.
    dynamic: AtomicBool,
    journal: Journal,
    /// Serialises store writers (admin API, hot reload) so no update is lost.
    writer: Mutex<()>,
}

/// The fixture store in use, held for as long as this guard lives.
pub struct StoreGuard(arc_swap::Guard<Arc<Snapshot>>);

impl std::ops::Deref for StoreGuard {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.0.store
    }
}

impl AppState {
    /// State over a fixture store.
    pub fn new(store: Store, config: Config) -> Self {
        let faults = config.faults.clone();
        let state = AppState {
            inner: Arc::new(Inner {
                snapshot: ArcSwap::from_pointee(Snapshot {
                    store,
                    list: OnceLock::new(),
                }),
                journal: Journal::new(config.journal_size),
                config,
                faults: ArcSwap::from_pointee(faults),
                scenarios: RwLock::new(HashMap::new()),
                dynamic: AtomicBool::new(false),
                writer: Mutex::new(()),
            }),
        };
        state.refresh_dynamic();
        state
    }

    /// The fixtures (the set in use when called; a later swap does not change what this holds).
    pub fn store(&self) -> StoreGuard {
        StoreGuard(self.inner.snapshot.load())
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The request journal.
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    /// The list index of the fixture set in use, derived on first use.
    fn list_page(&self, q: &ListQuery) -> Bytes {
        let snap = self.inner.snapshot.load();
        snap.list
            .get_or_init(|| ListIndex::build(&snap.store))
            .page(q)
    }

    /// Replaces the whole fixture set; scenarios are derived again from the new fixtures.
    pub fn set_store(&self, store: Store) {
        let _w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.swap_locked(store);
    }

    /// Changes the fixture set with `f` (on a copy, swapped in whole when `f` returns).
    pub fn update_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let _w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut store = self.inner.snapshot.load().store.clone();
        let r = f(&mut store);
        self.swap_locked(store);
        r
    }

    fn swap_locked(&self, store: Store) {
        {
            let previous = self.inner.snapshot.load();
            let mut sc = self
                .inner
                .scenarios
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let old = std::mem::take(&mut *sc);
            for (id, active) in old {
                let Some(fixture) = store.get(&id) else {
                    tracing::warn!(call_id = %id, "scenario dropped: its call is gone");
                    continue;
                };
                // An unchanged call keeps its scenario and every client's progress.
                if previous
                    .store
                    .get(&id)
                    .is_some_and(|f| f.body == fixture.body)
                {
                    sc.insert(id, active);
                    continue;
                }
                match Active::new(active.scenario.clone(), fixture) {
                    Ok(a) => {
                        sc.insert(id, Arc::new(a));
                    }
                    Err(e) => {
                        tracing::error!(call_id = %id, error = %e, "scenario kept on the previous body");
                        sc.insert(id, active);
                    }
                }
            }
        }
        self.inner.snapshot.store(Arc::new(Snapshot {
            store,
            list: OnceLock::new(),
        }));
        self.refresh_dynamic();
    }

    /// Sets the scenario of a call id (replacing any, progress reset).
    pub fn set_scenario(&self, id: &str, scenario: Scenario) -> Result<(), ScenarioError> {
        let store = self.store();
        let fixture = store
            .get(id)
            .ok_or_else(|| ScenarioError::UnknownCall(id.to_owned()))?;
        let active = Active::new(scenario, fixture)?;
        self.inner
            .scenarios
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), Arc::new(active));
        self.refresh_dynamic();
        Ok(())
    }

    /// Removes the scenario of a call id; true if there was one.
    pub fn remove_scenario(&self, id: &str) -> bool {
        let had = self
            .inner
            .scenarios
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .is_some();
        self.refresh_dynamic();
        had
    }

    /// Every scenario, by call id.
    pub fn scenarios(&self) -> HashMap<String, Scenario> {
        self.inner
            .scenarios
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.scenario.clone()))
            .collect()
    }

    /// Starts every scenario again for every client, and the random fault sequence.
    pub fn reset_progress(&self) {
        for a in self
            .inner
            .scenarios
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            a.reset();
        }
        if let Some(r) = &self.inner.faults.load().random {
            r.reset();
        }
    }

    /// The global faults.
    pub fn faults(&self) -> Arc<GlobalFaults> {
        self.inner.faults.load_full()
    }

    /// Replaces the global faults.
    pub fn set_faults(&self, faults: GlobalFaults) {
        self.inner.faults.store(Arc::new(faults));
        self.refresh_dynamic();
    }

    /// Nothing dynamic is set (no scenario, no global fault) and no journal records requests:
    /// a plain GET of a fixture may then take [`crate::fast_path`].
    pub fn is_plain(&self) -> bool {
        !self.inner.dynamic.load(Ordering::Acquire) && !self.inner.journal.is_on()
    }

    fn refresh_dynamic(&self) {
        let any = !self.inner.faults.load().is_empty()
            || !self
                .inner
                .scenarios
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty();
        self.inner.dynamic.store(any, Ordering::Release);
    }

    fn scenario(&self, id: &str) -> Option<Arc<Active>> {
        self.inner
            .scenarios
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }
}

/// The whole service.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/v2/calls/{call_id}", get(get_call))
        .route("/v2/calls", get(list_calls))
        .route("/healthz", get(healthz));
    if state.config().admin != AdminAccess::Off {
        router = router.merge(crate::admin::routes(state.clone()));
    }
    let mut router = router
        .fallback(|| async { ApiError::RouteNotFound })
        .layer(crate::finish::FinishLayer::new(state.clone()));
    // The journal's size is fixed at start: without one, requests do not pay for its layer.
    if state.journal().is_on() {
        router = router.layer(middleware::from_fn_with_state(
            state.clone(),
            journal::record,
        ));
    }
    router.with_state(state)
}

fn json_body(body: Bytes) -> Response {
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// `GET /v2/calls/{call_id}`: auth, then the stored body as is; faults and scenarios when any
/// is set or the request has a `Prefer` header.
async fn get_call(
    State(state): State<AppState>,
    call_id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    // The request itself rather than a `HeaderMap` extractor, which would clone every header.
    let headers = req.headers();
    state.config().auth.check(headers)?;
    let Ok(Path(call_id)) = call_id else {
        return Err(ApiError::MalformedCallId);
    };
    if !state.inner.dynamic.load(Ordering::Acquire) && !headers.contains_key("prefer") {
        // The hot path: a lookup and a clone of `Bytes`.
        return match state.store().get(&call_id) {
            Some(fixture) => Ok(json_body(fixture.body.clone())),
            None => Ok(miss(&state, &call_id)),
        };
    }
    let prefer = Fault::from_prefer(headers)
        .map_err(|e| ApiError::BadQuery.with_description(format!("Prefer: {e}")));
    let prefer = match prefer {
        Ok(p) => p,
        Err(resp) => return Ok(resp),
    };
    let mut step_body = None;
    let fault = match prefer {
        Some(f) => Some((f, true)),
        None => {
            let turn = state.scenario(&call_id).map(|a| {
                let client = headers
                    .get(CLIENT_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                a.next(client)
            });
            match turn {
                Some(Turn::Fault(f)) => Some((f, false)),
                Some(Turn::Step { body, .. }) => {
                    step_body = Some(body);
                    global_fault(&state)
                }
                Some(Turn::Fixture) | None => global_fault(&state),
            }
        }
    };
    let mut resp = answer_with(&state, fault.as_ref(), || match step_body {
        Some(body) => json_body(body),
        None => match state.store().get(&call_id) {
            Some(fixture) => json_body(fixture.body.clone()),
            None => miss(&state, &call_id),
        },
    })
    .await;
    if let Some((f, from_prefer)) = &fault {
        faults::mark(&mut resp, f, *from_prefer);
    }
    Ok(resp)
}

fn global_fault(state: &AppState) -> Option<(Fault, bool)> {
    let g = state.inner.faults.load();
    let mut f = g.always.unwrap_or_default();
    if let Some(drawn) = g.random.as_ref().and_then(|r| r.draw()) {
        f.merge(drawn);
    }
    (!f.is_empty()).then_some((f, false))
}

/// Waits for the fault's latency, then the forced status or the normal answer.
async fn answer_with(
    state: &AppState,
    fault: Option<&(Fault, bool)>,
    normal: impl FnOnce() -> Response,
) -> Response {
    if let Some((f, _)) = fault {
        f.delay().await;
        if let Some(err) = f.error(state.config().retry_after) {
            return err.into_response();
        }
    }
    normal()
}

/// The refusal for a well-formed or malformed id with no fixture, with the nearest known ids
/// logged and journaled.
fn miss(state: &AppState, call_id: &str) -> Response {
    if !is_well_formed(call_id) {
        return ApiError::MalformedCallId.into_response();
    }
    let store = state.store();
    let nearest = journal::nearest(call_id, store.ids());
    tracing::warn!(
        target: "synthflow_mock::miss",
        call_id = %call_id,
        nearest = ?nearest,
        "unknown call id"
    );
    let mut resp = ApiError::UnknownCallId {
        as_404: state.config().unknown_id == UnknownIdStatus::NotFound,
    }
    .into_response();
    resp.extensions_mut().insert(Miss(nearest));
    resp
}

/// `GET /v2/calls`: the list endpoint (see [`crate::list`]).
async fn list_calls(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    state.config().auth.check(&headers)?;
    let Ok(Query(pairs)) = query else {
        return Ok(ApiError::BadQuery.with_description("query string cannot be decoded"));
    };
    let q = match ListQuery::parse(&pairs) {
        Ok(q) => q,
        Err(reason) => return Ok(ApiError::BadQuery.with_description(reason)),
    };
    let fault = match Fault::from_prefer(&headers) {
        Ok(Some(f)) => Some((f, true)),
        Ok(None) => global_fault(&state),
        Err(e) => return Ok(ApiError::BadQuery.with_description(format!("Prefer: {e}"))),
    };
    let mut resp = answer_with(&state, fault.as_ref(), || json_body(state.list_page(&q))).await;
    if let Some((f, from_prefer)) = &fault {
        faults::mark(&mut resp, f, *from_prefer);
    }
    Ok(resp)
}

/// The peer of a request, when the server was started with connect info.
pub fn peer(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// A call id can be one: 1 to 128 characters of letters, digits and `-_.:~`.
pub fn is_well_formed(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'~'))
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"status\":\"ok\",\"calls\":{}}}", state.store().len()),
    )
}
