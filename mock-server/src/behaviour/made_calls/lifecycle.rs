//! The timers of the made calls still playing their lifecycle: one tokio task per call, kept by
//! call id so that a call evicted, removed or left at shutdown loses its timer (and the final
//! body and webhook URL it holds) at once, instead of an hour later.
//!
//! Why a registry and not detached tasks: with `--max-made-calls 100` and `Prefer:
//! call-duration=3600000`, 30,000 POSTs left 30,000 sleeping tasks each holding its call's final
//! body (93 MB resident) though only 100 calls were served; and at shutdown nothing could name the
//! calls whose webhooks would never be sent.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{FinalCall, Made};

/// A made call that had not reached its final state when its timer was cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// The call id.
    pub call_id: String,
    /// Where its post-call webhook would have gone (the request's or its agent's URL; the
    /// caller may fill in the default URL), redacted. None: nowhere, no URL was set.
    pub webhook_url: Option<String>,
}

impl fmt::Display for Unfinished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.webhook_url {
            Some(u) => write!(f, "{} (webhook to {u})", self.call_id),
            None => write!(f, "{} (no webhook: no URL was set)", self.call_id),
        }
    }
}

struct Running {
    /// Told apart from a later timer of the same id.
    generation: u64,
    abort: tokio::task::AbortHandle,
    webhook_url: Option<String>,
}

/// The lifecycle timers running. Cheap to clone.
#[derive(Clone, Default)]
pub struct Lifecycles {
    running: Arc<Mutex<HashMap<String, Running>>>,
    next: Arc<AtomicU64>,
}

impl fmt::Debug for Lifecycles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lifecycles({})", self.len())
    }
}

impl Lifecycles {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the timer of `made`: after its `final_after`, if `still_current` says the call is
    /// still the one made, `fire` gets its [`FinalCall`]. Needs a tokio runtime.
    pub fn start(
        &self,
        made: &Made,
        still_current: impl FnOnce(&FinalCall) -> bool + Send + 'static,
        fire: impl FnOnce(FinalCall) + Send + 'static,
    ) {
        let call = FinalCall {
            call_id: made.fixture.id.clone(),
            webhook_url: made.webhook_url.clone(),
            body: made.fixture.body.clone(),
        };
        let after = made.final_after;
        self.spawn(&made.fixture.id, made.webhook_url.clone(), async move {
            tokio::time::sleep(after).await;
            if still_current(&call) {
                fire(call);
            }
        });
    }

    /// Runs `play`, the lifecycle of call `call_id` (whose post-call webhook would go to
    /// `webhook_url`), as a task kept under the call's id until it ends: cancelled when the call
    /// is evicted or removed, named at shutdown. A lifecycle already running for the id is
    /// cancelled. Needs a tokio runtime.
    pub fn spawn(
        &self,
        call_id: &str,
        webhook_url: Option<String>,
        play: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let generation = self.next.fetch_add(1, Ordering::Relaxed);
        let me = self.clone();
        let id = call_id.to_owned();
        // Held across the spawn: the task cannot remove its entry before it is inserted.
        let mut running = self.lock();
        let task = tokio::spawn(async move {
            play.await;
            let mut r = me.lock();
            if r.get(&id).is_some_and(|x| x.generation == generation) {
                r.remove(&id);
            }
        });
        let previous = running.insert(
            call_id.to_owned(),
            Running {
                generation,
                abort: task.abort_handle(),
                webhook_url,
            },
        );
        if let Some(p) = previous {
            p.abort.abort();
        }
    }

    /// Cancels the timer of `call_id` (evicted or removed): true if one was running.
    pub fn cancel(&self, call_id: &str) -> bool {
        match self.lock().remove(call_id) {
            Some(r) => {
                r.abort.abort();
                true
            }
            None => false,
        }
    }

    /// Cancels every timer whose call `keep` does not keep.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        self.lock().retain(|id, r| {
            let k = keep(id);
            if !k {
                r.abort.abort();
            }
            k
        });
    }

    /// Cancels every timer (shutdown) and names the calls they were playing, sorted by id.
    pub fn cancel_all(&self) -> Vec<Unfinished> {
        let mut out: Vec<Unfinished> = self
            .lock()
            .drain()
            .map(|(call_id, r)| {
                r.abort.abort();
                Unfinished {
                    call_id,
                    webhook_url: r.webhook_url.as_deref().map(crate::redact::url),
                }
            })
            .collect();
        out.sort_by(|a, b| a.call_id.cmp(&b.call_id));
        out
    }

    /// Timers running.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// No timer is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
