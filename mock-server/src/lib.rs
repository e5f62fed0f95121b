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
//! # Layout
//!
//! Every request, from every caller, enters through one function, [`http::Entry::handle`]. Each
//! module below has one job, and the modules form layers without an import circle, between
//! top-level modules and between the files inside one (`http::entry` → `http::decide`, never back;
//! `tests/it/layout.rs` checks both, with files of at most 600 lines and clap only in `src/bin/`):
//!
//! - [`error`]: every refusal ([`ApiError`], [`Refusal`]) and the one place its JSON body is
//!   written, from the live service's error bodies;
//! - [`store`]: the fixtures, loaded and checked once, kept as the bytes to send (`store::list`: the
//!   list endpoint's index over them); [`auth`]: the live service's two 401s;
//! - [`behaviour`]: what the mock does beyond serving a fixture, on demand: faults, scenarios,
//!   agents and actions (`behaviour::agents`: the `/v2/assistants` and `/v2/actions` store,
//!   checked against the vendor's whole document), and made calls (`behaviour::made_calls`: the record of a `POST /v2/calls` from the fixture factory
//!   in [`tools`], its outcome and lifecycle);
//! - [`log_writer`]: the log's bounded, buffered writer (a request never waits for stderr);
//!   [`request_log`]: the per-request line, written into it without `tracing` when the binary asks;
//! - [`ring`]: a numbered ring bounded in entries and bytes, for every journal;
//! - [`journal`]: the last requests, credentials redacted, and the nearest ids of a miss;
//! - `expectations`: [`Expectation`]s and their counters, which the entry increments on every
//!   request whatever the journal keeps (below `state`, which holds them);
//! - [`webhook`]: the post-call webhook sender (queue, dispatcher task, retries, delivery journal,
//!   receiver faults), on its own HTTP client;
//! - `config`: [`Config`], how the mock behaves (fixed at start); `state`: [`AppState`] (what
//!   changes while it runs);
//! - [`http`]: the entry, the routes and the admin API;
//! - [`server`]: the accept loop on a socket (hyper's header-read timeout, hyper-util's graceful
//!   shutdown); [`reload`]: hot reload of a fixture folder;
//! - `mock_server`: [`MockServer`], the in-process API for tests, with [`CallBuilder`] and [`Scoped`] changes;
//! - [`mocks`]: ready-made `wiremock::Mock`s for suites that already use wiremock.
//!
//! The offline tools (generate, record, redact, validate, drift) live in `tools`, apart from the
//! HTTP layers; the command line (`src/bin/synthflow-mock/`, one file per subcommand) is the only
//! code that knows clap.
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

pub mod auth;
pub mod behaviour;
mod config;
pub mod error;
mod expectations;
pub mod http;
mod ids;
pub mod journal;
pub mod log_writer;
mod mock_server;
#[cfg(feature = "wiremock")]
pub mod mocks;
pub mod outgoing;
pub mod play;
pub mod redact;
#[cfg(feature = "watch")]
pub mod reload;
pub mod request_log;
pub mod ring;
pub mod server;
mod state;
pub mod store;
#[cfg(feature = "tools")]
pub mod tools;
// Without `tools`: the call factory of `POST /v2/calls` alone, not public.
#[cfg(not(feature = "tools"))]
#[allow(dead_code, unused_imports)]
mod tools;
pub mod webhook;

pub use auth::AuthPolicy;
pub use behaviour::agents::{Action, Agent, AgentConfig, Seed};
pub use behaviour::faults::{BodyFault, Fault, GlobalFaults, RandomFaults};
pub use behaviour::made_calls::{FinalCall, MadeCallConfig, Outcome, OutcomeRule};
pub use behaviour::scenario::{Advance, Scenario, ScenarioFile};
pub use error::{ApiError, Refusal};
pub use expectations::{Expectation, Times, VerificationError};
pub use journal::JournalEntry;
pub use mock_server::{CallBuilder, MockServer, MockServerBuilder, Scoped};
pub use server::{serve_app, serve_app_with, ServeOptions};
pub use state::{AdminAccess, AppState, Config, StoreGuard, UnknownIdStatus, UnknownValue};
pub use store::{LoadOptions, Store, StoreError};
pub use webhook::{
    BadBody, Delivery, PostError, ReceiverFaults, Secret, ShutdownReport, WebhookConfig,
    WebhookStats, Webhooks,
};

/// The whole mock as an in-process service over `state`: [`http::Entry`], the one entry `main`
/// serves. Drive it with `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> http::Entry {
    http::Entry::new(state)
}
