//! Changes scoped to part of a test: [`Scoped`], from `MockServer::{add_call,set_scenario,set_faults}_scoped`,
//! undoes its change when dropped (as wiremock-rs' `register_as_scoped` and its `MockGuard`).

use crate::behaviour::faults::GlobalFaults;
use crate::behaviour::scenario::Scenario;
use crate::state::AppState;
use crate::store::Fixture;

/// A change to a running mock, undone when this guard is dropped.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use synthflow_mock::{Fault, GlobalFaults, MockServer};
/// let mock = MockServer::start().await?;
/// {
///     let _slow = mock.set_faults_scoped(GlobalFaults {
///         always: Some(Fault::code(503)),
///         ..GlobalFaults::default()
///     });
///     // ... every request answers 503 here ...
/// }
/// // ... and the mock is back to its faults before.
/// # Ok(()) }
/// ```
#[must_use = "the change is undone as soon as the guard is dropped: bind it (`let _guard = ...`)"]
#[derive(Debug)]
pub struct Scoped {
    state: AppState,
    undo: Option<Undo>,
}

#[derive(Debug)]
enum Undo {
    Call {
        id: String,
        previous: Option<Fixture>,
    },
    Scenario {
        id: String,
        previous: Option<Scenario>,
    },
    Faults(GlobalFaults),
}

impl Scoped {
    pub(super) fn call(state: AppState, id: String, previous: Option<Fixture>) -> Scoped {
        Scoped {
            state,
            undo: Some(Undo::Call { id, previous }),
        }
    }

    pub(super) fn scenario(state: AppState, id: &str, previous: Option<Scenario>) -> Scoped {
        Scoped {
            state,
            undo: Some(Undo::Scenario {
                id: id.to_owned(),
                previous,
            }),
        }
    }

    pub(super) fn faults(state: AppState, previous: GlobalFaults) -> Scoped {
        Scoped {
            state,
            undo: Some(Undo::Faults(previous)),
        }
    }

    /// The call id the change is about (`None` for faults).
    pub fn call_id(&self) -> Option<&str> {
        match &self.undo {
            Some(Undo::Call { id, .. } | Undo::Scenario { id, .. }) => Some(id),
            _ => None,
        }
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        match self.undo.take() {
            Some(Undo::Call { id, previous }) => self.state.update_store(|s| match previous {
                Some(f) => {
                    s.insert(f);
                }
                None => {
                    s.remove(&id);
                }
            }),
            Some(Undo::Scenario { id, previous }) => match previous {
                // The call may be gone by now: nothing to put back then.
                Some(sc) => {
                    let _ = self.state.set_scenario(&id, sc);
                }
                None => {
                    self.state.remove_scenario(&id);
                }
            },
            Some(Undo::Faults(previous)) => self.state.set_faults(previous),
            None => {}
        }
    }
}
