//! `state.rs`'s tests that need its insides (the scenarios' lock), apart to keep that file short.

use std::time::Duration;

use super::*;
use crate::behaviour::faults::Fault;

fn fault(code: u16) -> GlobalFaults {
    GlobalFaults {
        always: Some(Fault::code(code)),
        ..GlobalFaults::default()
    }
}

/// The race of issue #29 (item 5), made deterministic by holding the scenarios' write lock: a
/// `set_faults(none)` that computed the "anything dynamic" flag from the faults it had just
/// stored, then waited for the map, stored "nothing set" after a concurrent `set_faults(503)` had
/// stored "something set": the shortcut then served fixtures past the 503. With the flag computed
/// and stored under the lock, both writers wait for it and the last one's flag is right.
#[test]
fn the_dynamic_flag_is_right_after_two_racing_fault_writers() {
    let state = AppState::new(Store::embedded().unwrap(), Config::default());
    let held = state.inner.scenarios.write().unwrap();
    let clearing = {
        let state = state.clone();
        std::thread::spawn(move || state.set_faults(GlobalFaults::default()))
    };
    // The old code: `clearing` stored "no faults", read them, and now waits for the map.
    std::thread::sleep(Duration::from_millis(100));
    let setting = {
        let state = state.clone();
        std::thread::spawn(move || state.set_faults(fault(503)))
    };
    // The old code: `setting` stored the 503 and "something set" without the map (the faults
    // alone decided it), and is done.
    std::thread::sleep(Duration::from_millis(100));
    drop(held);
    clearing.join().unwrap();
    setting.join().unwrap();
    let nothing_set = state.faults().is_empty() && state.scenarios().is_empty();
    assert_eq!(
        state.is_plain(),
        nothing_set,
        "faults {:?}, flag says plain = {}",
        state.faults(),
        state.is_plain()
    );
}
