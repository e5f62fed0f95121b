//! What the mock does beyond serving a fixture as stored, on demand: [`faults`] (a forced status,
//! latency, a broken body) and [`scenario`] (a call served as a fault sequence and/or a lifecycle,
//! per client). Both are data and decisions only; the HTTP entry applies them.

pub mod faults;
pub mod scenario;
