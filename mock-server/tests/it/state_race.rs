//! The fast path's "anything dynamic set" flag under concurrent writers (issue #29, item 5).
//!
//! A scenario removed on one thread while another is set used to be able to leave the flag saying
//! "nothing set" (the remover computed it from the map after releasing the write lock, and stored
//! it last): the plain-hit shortcut then served the fixture past the scenario. The flag is now
//! computed under the lock. The window was a few instructions wide, so this is a stress test:
//! many rounds of the race, the invariant checked after each.

use std::sync::{Arc, Barrier};

use synthflow_mock::{AppState, Config, Fault, GlobalFaults, Scenario, Store};

const ROUNDS: usize = 20_000;

#[test]
fn the_plain_flag_agrees_with_the_scenarios_and_faults_after_racing_writers() {
    let state = AppState::new(Store::embedded().unwrap(), Config::default());
    let ids = state.store().ids().to_vec();
    let (x, y) = (ids[0].clone(), ids[1].clone());
    let scenario = || Scenario::first_n(1, Fault::code(429));
    let start = Arc::new(Barrier::new(3));
    let end = Arc::new(Barrier::new(3));
    let remover = {
        let (state, x, start, end) = (state.clone(), x.clone(), start.clone(), end.clone());
        std::thread::spawn(move || {
            for round in 0..ROUNDS {
                start.wait();
                if round % 2 == 0 {
                    state.remove_scenario(&x);
                } else {
                    state.set_faults(GlobalFaults::default());
                }
                end.wait();
            }
        })
    };
    let setter = {
        let (state, y, start, end) = (state.clone(), y.clone(), start.clone(), end.clone());
        std::thread::spawn(move || {
            for _ in 0..ROUNDS {
                start.wait();
                state.set_scenario(&y, scenario()).unwrap();
                end.wait();
            }
        })
    };
    let mut stale = 0;
    for round in 0..ROUNDS {
        // Before each round: X has a scenario, or a global fault is set; Y has none.
        if round % 2 == 0 {
            state.set_scenario(&x, scenario()).unwrap();
        } else {
            state.set_faults(GlobalFaults {
                always: Some(Fault::code(503)),
                ..GlobalFaults::default()
            });
        }
        state.remove_scenario(&y);
        start.wait();
        end.wait();
        // Y's scenario is set whatever the order: the flag must say so.
        assert!(!state.scenarios().is_empty());
        if state.is_plain() {
            stale += 1;
        }
    }
    remover.join().unwrap();
    setter.join().unwrap();
    assert_eq!(
        stale, 0,
        "{stale} of {ROUNDS} rounds left a scenario set with the flag saying 'nothing set'"
    );
}
