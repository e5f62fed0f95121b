//! A value another thread fills in once, and readers wait for: the sorted ids of a large set,
//! and the fixture cache's record while the files are read. (`OnceLock::wait` does this from
//! Rust 1.86; the crate's minimum is 1.80.)

use std::sync::{Condvar, Mutex, OnceLock};

/// Filled once ([`Later::set`]); [`Later::wait`] blocks until it is.
#[derive(Debug, Default)]
pub struct Later<T> {
    value: OnceLock<T>,
    filled: Mutex<()>,
    woken: Condvar,
}

impl<T> Later<T> {
    /// Nothing yet.
    pub fn new() -> Self {
        Later {
            value: OnceLock::new(),
            filled: Mutex::new(()),
            woken: Condvar::new(),
        }
    }

    /// Fills it in (a second value is dropped) and wakes every waiter.
    pub fn set(&self, value: T) {
        let _ = self.value.set(value);
        let _guard = self.filled.lock().unwrap_or_else(|e| e.into_inner());
        self.woken.notify_all();
    }

    /// The value, once filled in.
    pub fn wait(&self) -> &T {
        if let Some(v) = self.value.get() {
            return v;
        }
        let mut guard = self.filled.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(v) = self.value.get() {
                return v;
            }
            guard = self.woken.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiter_gets_the_value_another_thread_sets_later() {
        let later = std::sync::Arc::new(Later::new());
        let setter = later.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            setter.set(42);
            setter.set(7);
        });
        assert_eq!(*later.wait(), 42);
        t.join().unwrap();
        assert_eq!(*later.wait(), 42, "the first value stays");
    }
}
