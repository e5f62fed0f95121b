//! Nothing but docs/rust.md: its Rust examples are this crate's doctests, compiled against the
//! mock without default features (what the page tells a test user to take).
#![doc = include_str!("../../../docs/rust.md")]
