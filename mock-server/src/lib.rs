//! `synthflow-mock`: an offline stand-in for Synthflow's call API (`GET /v2/calls/{call_id}`, the
//! list endpoint, `POST /v2/calls` to make a call that plays out by the clock), on fixtures
//! embedded in the binary. Made calls are kept per process, in memory only (bounded).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let mock = synthflow_mock::MockServer::start().await?;
//! println!("point your client at {}", mock.base_url()); // http://127.0.0.1:PORT/v2
//! # Ok(()) }
//! ```
//!
//! # The API
//!
//! What a test uses is at the crate root: [`MockServer`] (with [`MockServerBuilder`],
//! [`CallBuilder`], [`Scoped`] changes and [`Expectation`]s), the behaviour it plays ([`Fault`],
//! [`GlobalFaults`], [`Scenario`], [`AgentConfig`], [`MadeCallConfig`], [`WebhookConfig`], ...),
//! and, for a test that drives the service without a socket, [`app`], [`AppState`], [`Config`],
//! [`Store`] and the [`Entry`] every request goes through. Two modules add to it behind a feature:
//! `mocks` (feature `wiremock`) and `tools` (feature `tools`). Nothing else is API: the layers
//! below are private, and `internals` (hidden from these docs) reaches them only for this
//! repository's binary, tests, benches and fuzz targets, with no stability promise.
//!
//! # Layout
//!
//! Every request, from every caller, enters through one function, `http::Entry::handle` (the
//! [`Entry`]). Each module below has one job, and the modules form layers without an import
//! circle, between top-level modules and between the files inside one (`http::entry` →
//! `http::decide`, never back; `tests/it/layout.rs` checks both, with files of at most 600 lines
//! and clap only in `src/bin/`). All but `mocks` and `tools` are private:
//!
//! - `error`: every refusal ([`ApiError`], [`Refusal`]) and the one place its JSON body is
//!   written, from the live service's error bodies;
//! - `store`: the fixtures, loaded and checked once, kept as the bytes to send (`store::list`: the
//!   list endpoint's index over them); `auth`: the live service's two 401s;
//! - `behaviour`: what the mock does beyond serving a fixture, on demand: faults, scenarios,
//!   agents and actions (`behaviour::agents`: the `/v2/assistants` and `/v2/actions` store,
//!   checked against the vendor's whole document), and made calls (`behaviour::made_calls`: the
//!   record of a `POST /v2/calls` from the fixture factory in `tools`, its outcome and
//!   lifecycle; `play`: a made call played out by the clock);
//! - `log_writer`: the log's bounded, buffered writer (a request never waits for stderr);
//!   `request_log`: the per-request line, written into it without `tracing` when the binary asks;
//! - `ring`: a numbered ring bounded in entries and bytes, for every journal;
//! - `journal`: the last requests, credentials redacted, and the nearest ids of a miss;
//! - `expectations`: [`Expectation`]s and their counters, which the entry increments on every
//!   request whatever the journal keeps (below `state`, which holds them);
//! - `outgoing`: every request the mock sends (where it may go, its journal); `webhook`: the
//!   post-call webhook sender (queue, dispatcher task, retries, delivery journal, receiver
//!   faults), on its own HTTP client;
//! - `config`: [`Config`], how the mock behaves (fixed at start); `state`: [`AppState`] (what
//!   changes while it runs);
//! - `http`: the entry, the routes and the admin API;
//! - `server`: the accept loop on a socket (hyper's header-read timeout, hyper-util's graceful
//!   shutdown); `reload`: hot reload of a fixture folder;
//! - `mock_server`: [`MockServer`], the in-process API for tests, with [`CallBuilder`] and
//!   [`Scoped`] changes;
//! - `mocks` (public): ready-made `wiremock::Mock`s for suites that already use wiremock;
//! - `internals` (public, hidden): the private modules above that the binary, this repository's
//!   tests, benches, fuzz targets and contract tests reach (`internals::http`,
//!   `internals::store`, ...), re-exported one module each so that nothing outside the crate
//!   names them any other way.
//!
//! The offline tools (generate, record, redact, validate, drift) live in `tools` (public with
//! feature `tools`), apart from the HTTP layers; the command line (`src/bin/synthflow-mock/`, one
//! file per subcommand) is the only code that knows clap.
//!
//! # Features
//!
//! `default = ["cli"]`. A test that only runs the mock in process takes `default-features = false`
//! and compiles the server alone (no clap, notify, tracing-subscriber,
//! wiremock, reqwest or
//! jsonschema), `POST /v2/calls` included (its call factory, with `fake` and `rand`, is always built):
//!
//! | feature | what it adds |
//! |---|---|
//! | `cli` | the `synthflow-mock` binary (with `tools`, `watch`) |
//! | `tools` | `tools`: generate, redact, validate (and `drift` over files, in the binary) |
//! | `online` | `tools::record` and the binary's `record` and `drift --against/--id`: the tools that call the live API (reqwest with rustls; not in the default build) |
//! | `validate` | the vendor's JSON Schema checks on fixture folders, added calls and (at build time) the embedded set; without it a call is checked by decoding it with the typed model |
//! | `watch` | `reload`: hot reload of a fixture folder |
//! | `wiremock` | `mocks`: ready-made `wiremock::Mock`s |

#![warn(missing_docs)]
// Every type a public item hands out can be named: at the root, or under `internals`.
#![warn(unnameable_types)]

mod auth;
mod behaviour;
mod config;
mod error;
mod expectations;
mod http;
mod journal;
mod log_writer;
mod mock_server;
#[cfg(feature = "wiremock")]
pub mod mocks;
mod outgoing;
mod play;
mod redact;
#[cfg(feature = "watch")]
mod reload;
mod request_log;
mod ring;
mod server;
mod state;
mod store;
#[cfg(feature = "tools")]
pub mod tools;
// Without `tools`: the call factory of `POST /v2/calls` alone, not public.
#[cfg(not(feature = "tools"))]
#[allow(dead_code, unused_imports)]
mod tools;
mod webhook;

/// Internals for the `synthflow-mock` binary and this repository's own tests, benches, fuzz
/// targets and contract tests: the private layers under the API, one module each. No stability
/// promise and not part of the documented API; a test user needs nothing here (what it needs is
/// at the crate root, in `mocks` and in `tools`).
#[doc(hidden)]
pub mod internals {
    /// `auth`: the API key and admin token checks.
    pub mod auth {
        pub use crate::auth::*;
    }
    /// `behaviour`: faults, scenarios, agents and actions, made calls, calls to the user.
    pub mod behaviour {
        pub use crate::behaviour::*;
    }
    /// `error`: every refusal and its JSON body.
    pub mod error {
        pub use crate::error::*;
    }
    /// `http`: the entry, the routes and the admin API.
    pub mod http {
        pub use crate::http::*;
    }
    /// `journal`: the last requests.
    pub mod journal {
        pub use crate::journal::*;
    }
    /// `log_writer`: the log's bounded, buffered writer.
    pub mod log_writer {
        pub use crate::log_writer::*;
    }
    /// `outgoing`: the requests the mock sends, their targets and journal.
    pub mod outgoing {
        pub use crate::outgoing::*;
    }
    /// `redact`: credentials and URLs made safe to log.
    pub mod redact {
        pub use crate::redact::*;
    }
    /// `reload`: hot reload of a fixture folder.
    #[cfg(feature = "watch")]
    pub mod reload {
        pub use crate::reload::*;
    }
    /// `request_log`: the per-request log line.
    pub mod request_log {
        pub use crate::request_log::*;
    }
    /// `ring`: the numbered ring, bounded in entries and bytes, behind every journal.
    pub mod ring {
        pub use crate::ring::*;
    }
    /// `server`: the accept loop on a socket.
    pub mod server {
        pub use crate::server::*;
    }
    /// `store`: the fixtures, loaded and checked.
    pub mod store {
        pub use crate::store::*;
    }
}

pub use auth::{AdminToken, AuthPolicy, Region};
pub use behaviour::agents::{
    Action, Agent, AgentConfig, AgentError, Attached, PhoneNumber, Seed, SeedError,
};
pub use behaviour::calls_you::inbound::InboundConfig;
pub use behaviour::faults::{
    BodyFault, Fault, FaultParseError, GlobalFaults, RandomFaults, RetryAfter,
};
pub use behaviour::made_calls::{FinalCall, MadeCallConfig, Outcome, OutcomeRule};
pub use behaviour::scenario::{Advance, Scenario, ScenarioError, ScenarioFile};
pub use error::{ApiError, Refusal};
pub use expectations::{Expectation, Times, VerificationError};
pub use http::{Entry, MockBody};
pub use journal::JournalEntry;
pub use mock_server::{CallBuilder, MockServer, MockServerBuilder, Scoped};
pub use outgoing::Allow;
pub use server::{serve_app, serve_app_with, ServeOptions};
pub use state::{AdminAccess, AppState, Config, StoreGuard, UnknownIdStatus, UnknownValue};
pub use store::{BadFile, LoadOptions, Store, StoreError};
pub use webhook::{
    BadBody, Delivery, FaultError, PostError, ReceiverFaults, Secret, ShutdownReport,
    WebhookConfig, WebhookStats, Webhooks,
};

/// The whole mock as an in-process service over `state`: the [`Entry`] every request goes through,
/// the one `main` serves. Drive it with `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> Entry {
    Entry::new(state)
}
