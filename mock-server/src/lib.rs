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
//! module below has one job, and the modules form layers without an import circle
//! (`tests/it/layout.rs` checks it, with files of at most 600 lines and clap only in `src/bin/`):
//!
//! - [`error`]: every refusal ([`ApiError`], [`Refusal`]) and the one place its JSON body is
//!   written, from the live service's error bodies;
//! - [`store`]: the fixtures, loaded and checked once, kept as the bytes to send (`store::list`: the
//!   list endpoint's index over them); [`auth`]: the live service's two 401s;
//! - [`behaviour`]: what the mock does beyond serving a fixture, on demand: faults, scenarios, and
//!   made calls (`behaviour::made_calls`: the record of a `POST /v2/calls` from the fixture factory
//!   in [`tools`], its outcome and lifecycle);
//! - [`request_log`]: the per-request line, a `tracing` event (the binary writes it through
//!   `tracing-appender`'s non-blocking writer: a request never waits for stderr);
//! - [`ring`]: a numbered ring bounded in entries and bytes, for every journal;
//! - [`journal`]: the last requests, credentials redacted, and the nearest ids of a miss;
//! - [`webhook`]: the post-call webhook sender (queue, dispatcher task, retries, delivery journal,
//!   receiver faults), on its own HTTP client;
//! - `state`: [`Config`] (fixed at start) and [`AppState`] (what changes while it runs);
//! - [`http`]: the entry, the routes and the admin API;
//! - [`server`]: the accept loop on a socket (hyper's header-read timeout, hyper-util's graceful
//!   shutdown); [`reload`]: hot reload of a fixture folder;
//! - `mock`: [`MockServer`], the in-process API for tests, with [`Expectation`]s and [`CallBuilder`];
//! - [`mocks`]: ready-made `wiremock::Mock`s for suites that already use wiremock.
//!
//! The offline tools (generate, record, redact, validate, drift) live in `tools`, apart from the
//! HTTP layers; the command line (`src/bin/synthflow-mock/`, one file per subcommand) is the only
//! code that knows clap.
//!
//! # Features
//!
//! `default = ["cli"]`. A test that only runs the mock in process takes `default-features = false`
//! and compiles the server alone (no clap, fake, rand, notify, tracing-subscriber,
//! tracing-appender, wiremock, reqwest or jsonschema):
//!
//! | feature | what it adds |
//! |---|---|
//! | `cli` | the `synthflow-mock` binary (with `tools`, `watch`, `wiremock`) |
//! | `tools` | `tools`: generate, record, redact, validate; the call factory behind `POST /v2/calls` (without it that route answers 500 and logs why) |
//! | `validate` | the vendor's JSON Schema checks on fixture folders, added calls and (at build time) the embedded set; without it a call is checked by decoding it with the typed model |
//! | `watch` | `reload`: hot reload of a fixture folder |
//! | `wiremock` | `mocks`: ready-made `wiremock::Mock`s |

pub mod auth;
pub mod behaviour;
pub mod error;
pub mod http;
pub mod journal;
mod mock;
#[cfg(feature = "wiremock")]
pub mod mocks;
pub mod outgoing;
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
pub mod webhook;

pub use auth::AuthPolicy;
pub use behaviour::faults::{BodyFault, Fault, GlobalFaults, RandomFaults};
pub use behaviour::made_calls::{FinalCall, MadeCallConfig, Outcome, OutcomeRule};
pub use behaviour::scenario::{Advance, Scenario, ScenarioFile};
pub use error::{ApiError, Refusal};
pub use journal::Entry as JournalEntry;
pub use mock::{CallBuilder, Expectation, MockServer, MockServerBuilder, Times, VerificationError};
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
