//! The shared state of the service and its configuration, apart from the handlers.
//!
//! [`Config`] says how the mock behaves (fixed at start); [`AppState`] holds what changes while it
//! runs: the fixture set (swapped whole, so a reader never sees half a change), the global faults,
//! the per-call scenarios, the journal, the made calls (bounded), the hooks run when one ends
//! and the webhook sender. Every layer above (the HTTP entry, the admin API, hot
//! reload, the in-process [`crate::MockServer`]) reads and changes the mock through it; nothing here
//! knows about routes or HTTP answers.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use arc_swap::ArcSwap;
use bytes::Bytes;

use crate::behaviour::agents::Agents;
use crate::behaviour::faults::{Fault, GlobalFaults};
use crate::behaviour::made_calls::{FinalCall, Lifecycles, MadeLog};
use crate::behaviour::scenario::{Active, Scenario, ScenarioError};
pub use crate::config::{AdminAccess, Config, UnknownIdStatus, UnknownValue};
use crate::expectations::Registry;
use crate::journal::Journal;
use crate::store::list::{ListIndex, ListQuery};
use crate::store::summary::Summaries;
use crate::store::{Fixture, Store};
use crate::webhook::Webhooks;

/// Shared state of the service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// One fixture set with what is derived from it; swapped whole, so a reader never sees half of a
/// change. The derived indexes are built lazily on their first read; a made call carries those
/// already built over to the next snapshot, changed ([`AppState::add_made_call`]), while any other
/// change (admin API, reload) leaves them to be derived again.
#[derive(Debug)]
struct Snapshot {
    store: Store,
    list: OnceLock<ListIndex>,
    summaries: OnceLock<Arc<Summaries>>,
}

#[derive(Debug)]
struct Inner {
    snapshot: ArcSwap<Snapshot>,
    config: Config,
    faults: ArcSwap<GlobalFaults>,
    scenarios: RwLock<HashMap<String, Arc<Active>>>,
    /// Any scenario or global fault set: the hot path checks this one flag. Written only with the
    /// `scenarios` write lock held, from what that lock guards (see [`AppState::refresh_dynamic`]).
    dynamic: AtomicBool,
    journal: Journal,
    /// The expectations of [`crate::MockServer::expect`], counted by the entry.
    expectations: Registry,
    webhooks: Webhooks,
    /// Serialises store writers (admin API, hot reload) so no update is lost.
    writer: Mutex<()>,
    /// The made calls kept, oldest first (bounded).
    made: Mutex<MadeLog>,
    /// The lifecycle timers of made calls not final yet.
    lifecycles: Lifecycles,
    /// What runs when a made call reaches its final state.
    final_hooks: FinalHooks,
    /// The agents and actions (`/v2/assistants`, `/v2/actions`).
    agents: Agents,
}

type FinalHook = Arc<dyn Fn(&FinalCall) + Send + Sync>;

/// The callbacks of [`AppState::on_call_final`].
#[derive(Default)]
struct FinalHooks(RwLock<Vec<FinalHook>>);

impl fmt::Debug for FinalHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.read().map_or(0, |h| h.len());
        write!(f, "FinalHooks({n})")
    }
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
        let made_cap = config.made_calls.max_calls;
        let agents = Agents::new(config.agents.max_agents, &config.agents.seed);
        let state = AppState {
            inner: Arc::new(Inner {
                snapshot: ArcSwap::from_pointee(Snapshot {
                    store,
                    list: OnceLock::new(),
                    summaries: OnceLock::new(),
                }),
                journal: Journal::with_bytes(config.journal_size, config.journal_bytes),
                webhooks: Webhooks::new(config.webhooks.clone()),
                config,
                faults: ArcSwap::from_pointee(faults),
                scenarios: RwLock::new(HashMap::new()),
                dynamic: AtomicBool::new(false),
                expectations: Registry::default(),
                writer: Mutex::new(()),
                made: Mutex::new(MadeLog::new(made_cap)),
                lifecycles: Lifecycles::default(),
                final_hooks: FinalHooks::default(),
                agents,
            }),
        };
        state.refresh_dynamic(
            &state
                .inner
                .scenarios
                .write()
                .unwrap_or_else(|e| e.into_inner()),
        );
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

    /// The expectations counted on every request (`MockServer::expect`).
    pub(crate) fn expectations(&self) -> &Registry {
        &self.inner.expectations
    }

    /// The agents and actions held.
    pub fn agents(&self) -> &Agents {
        &self.inner.agents
    }

    /// The post-call webhook sender: its queue, delivery journal and receiver faults.
    pub fn webhooks(&self) -> &Webhooks {
        &self.inner.webhooks
    }

    /// The list index of the fixture set in use, derived on first use.
    pub(crate) fn list_page(&self, q: &ListQuery) -> Bytes {
        let snap = self.inner.snapshot.load();
        snap.list
            .get_or_init(|| ListIndex::build(&snap.store))
            .page(q)
    }

    /// The web console's call index of the fixture set in use, derived on first use.
    pub fn summaries(&self) -> Arc<Summaries> {
        let snap = self.inner.snapshot.load();
        snap.summaries
            .get_or_init(|| Arc::new(Summaries::build(&snap.store)))
            .clone()
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
        // A made call removed (admin API, reload) loses its lifecycle timer now.
        self.inner.lifecycles.retain(|id| store.get(id).is_some());
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
                // An unchanged call keeps its scenario and every client's progress (the same
                // `Bytes` is told at once, without comparing the bodies: many made calls).
                if previous
                    .store
                    .get(&id)
                    .is_some_and(|f| same_bytes(&f.body, &fixture.body))
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
            self.refresh_dynamic(&sc);
        }
        self.inner.snapshot.store(Arc::new(Snapshot {
            store,
            list: OnceLock::new(),
            summaries: OnceLock::new(),
        }));
    }

    /// Sets the scenario of a call id (replacing any, progress reset).
    pub fn set_scenario(&self, id: &str, scenario: Scenario) -> Result<(), ScenarioError> {
        let store = self.store();
        let fixture = store
            .get(id)
            .ok_or_else(|| ScenarioError::UnknownCall(id.to_owned()))?;
        let active = Active::new(scenario, fixture)?;
        let mut sc = self
            .inner
            .scenarios
            .write()
            .unwrap_or_else(|e| e.into_inner());
        sc.insert(id.to_owned(), Arc::new(active));
        self.refresh_dynamic(&sc);
        Ok(())
    }

    /// Stores a made call with the scenario that plays it, in one swap (no request sees the
    /// call without its lifecycle), and evicts the oldest made calls beyond
    /// [`MadeCallConfig::max_calls`](crate::MadeCallConfig::max_calls). The evicted ids are returned. O(log calls held): the
    /// store is persistent and the list index and console summaries, where already derived, take
    /// the new call (and lose the evicted ones) rather than being derived again.
    pub fn add_made_call(
        &self,
        fixture: Fixture,
        scenario: Scenario,
    ) -> Result<Vec<String>, ScenarioError> {
        let active = Arc::new(Active::new(scenario, &fixture)?);
        let _w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let evicted = self
            .inner
            .made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(fixture.id.clone());
        self.put_made_locked(fixture, Some(active), &evicted);
        // Evicted means gone: the timer and the final body it holds go now.
        for old in &evicted {
            self.inner.lifecycles.cancel(old);
        }
        Ok(evicted)
    }

    /// A made call's lifecycle ended: its record becomes `fixture` (the final record with what
    /// the call did, its actions' answers among them), served as it is from now on (its scenario
    /// dropped). Only if the call held is still `made_body` (not evicted, removed or replaced);
    /// true when it was settled.
    pub fn settle_made_call(&self, made_body: &Bytes, fixture: Fixture) -> bool {
        let _w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let current = self
            .inner
            .snapshot
            .load()
            .store
            .get(&fixture.id)
            .is_some_and(|f| same_bytes(&f.body, made_body));
        if current {
            self.put_made_locked(fixture, None, &[]);
        }
        current
    }

    /// Puts a made call in the store, with its scenario (`None`: the call has none any more),
    /// and takes the `evicted` calls out, in one swap. O(log calls held): the store is persistent
    /// and the list index and console summaries, where already derived, take the change rather
    /// than being derived again. The caller holds the writer lock.
    fn put_made_locked(&self, fixture: Fixture, active: Option<Arc<Active>>, evicted: &[String]) {
        let id = fixture.id.clone();
        let previous = self.inner.snapshot.load();
        // A persistent store: the clone shares every node, each change copies O(log n) of them.
        let mut store = previous.store.clone();
        let mut removed: Vec<Fixture> =
            evicted.iter().filter_map(|old| store.remove(old)).collect();
        removed.extend(store.insert(fixture));
        {
            let mut sc = self
                .inner
                .scenarios
                .write()
                .unwrap_or_else(|e| e.into_inner());
            for old in evicted {
                sc.remove(old);
            }
            match active {
                Some(a) => {
                    sc.insert(id.clone(), a);
                }
                None => {
                    sc.remove(&id);
                }
            }
            self.refresh_dynamic(&sc);
        }
        let added: Vec<&Fixture> = store.get(&id).into_iter().collect();
        let list = OnceLock::new();
        if let Some(l) = previous.list.get() {
            let _ = list.set(l.changed(&removed, &added));
        }
        let summaries = OnceLock::new();
        if let Some(s) = previous.summaries.get() {
            let _ = summaries.set(Arc::new(s.changed(&removed, &added)));
        }
        drop(added);
        // No other call changed, so no other scenario needs deriving again: the swap alone (not
        // `swap_locked`, which would compare every scenario's call, O(made calls) per change).
        self.inner.snapshot.store(Arc::new(Snapshot {
            store,
            list,
            summaries,
        }));
    }

    /// The lifecycle timers of made calls not final yet (cancelled on eviction, removal and
    /// shutdown).
    pub fn lifecycles(&self) -> &Lifecycles {
        &self.inner.lifecycles
    }

    /// How many made calls are kept.
    pub fn made_calls(&self) -> usize {
        self.inner
            .made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Registers `f` to run each time a made call reaches its final state (once per call, on the
    /// runtime's timer task, after `GET` serves the final body). Hooks must not block: hand the
    /// work to a task or a queue (the post-call webhook sender does).
    pub fn on_call_final(&self, f: impl Fn(&FinalCall) + Send + Sync + 'static) {
        self.inner
            .final_hooks
            .0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::new(f));
    }

    /// A made call reached its final state: its post-call webhook is queued (to its
    /// `external_webhook_url`, else the configured default URL; none: nothing is sent), then every
    /// hook of [`AppState::on_call_final`] runs on `c`, in registration order.
    pub(crate) fn call_final(&self, c: &FinalCall) {
        // Refusals (no URL, a full queue) are logged by the sender itself.
        let _ = self
            .inner
            .webhooks
            .post_call(c.webhook_url.as_deref(), &c.body);
        let hooks = self
            .inner
            .final_hooks
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for h in hooks {
            h(c);
        }
    }

    /// Removes the scenario of a call id; true if there was one.
    pub fn remove_scenario(&self, id: &str) -> bool {
        let mut sc = self
            .inner
            .scenarios
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let had = sc.remove(id).is_some();
        self.refresh_dynamic(&sc);
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
        // Under the scenarios' write lock, as every write of the flag.
        let sc = self
            .inner
            .scenarios
            .write()
            .unwrap_or_else(|e| e.into_inner());
        self.inner.faults.store(Arc::new(faults));
        self.refresh_dynamic(&sc);
    }

    /// Nothing dynamic is set (no scenario, no global fault): a GET of a fixture is then answered
    /// with its bytes as stored, unless the request itself asks for a fault. For the entry and the
    /// tests of its shortcut; not part of the API.
    #[doc(hidden)]
    pub fn is_plain(&self) -> bool {
        !self.inner.dynamic.load(Ordering::Acquire)
    }

    /// The global fault of the next request (the fixed one merged with a random draw), if any;
    pub(crate) fn global_fault(&self) -> Option<Fault> {
        let g = self.inner.faults.load();
        let mut f = g.always.unwrap_or_default();
        if let Some(drawn) = g.random.as_ref().and_then(|r| r.draw()) {
            f.merge(drawn);
        }
        (!f.is_empty()).then_some(f)
    }

    /// Sets the "anything dynamic" flag from `scenarios`, the map under its write lock, which the
    /// caller holds: writers of the flag are serialised by that lock, and each computes it from
    /// what it just wrote. (Computed after the lock was released, a remove racing a set could
    /// store "nothing set" last while a scenario was set: the shortcut then ignored it.)
    fn refresh_dynamic(&self, scenarios: &HashMap<String, Arc<Active>>) {
        let any = !self.inner.faults.load().is_empty() || !scenarios.is_empty();
        self.inner.dynamic.store(any, Ordering::Release);
    }

    pub(crate) fn scenario(&self, id: &str) -> Option<Arc<Active>> {
        self.inner
            .scenarios
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }
}

/// The same bytes: the same buffer (a clone), else equal contents.
fn same_bytes(a: &Bytes, b: &Bytes) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
