//! What the mock does beyond serving a fixture as stored, on demand: [`faults`] (a forced status,
//! latency, a broken body), [`scenario`] (a call served as a fault sequence and/or a lifecycle,
//! per client), [`agents`] (the agents and actions integrators' setup code creates), and [`made_calls`] (a call made through `POST /v2/calls`: its record from the
//! fixture factory, its outcome and lifecycle, the bound on how many are kept). All are data and
//! decisions only; the HTTP entry and the state apply them.

pub mod agents;
pub mod calls_you;
pub mod faults;
pub mod made_calls;
pub mod scenario;
