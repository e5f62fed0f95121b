//! `synthflow-mock`: an offline stand-in for Synthflow's `GET /v2/calls/{call_id}`.
//!
//! The pieces, in the order a request meets them:
//! - [`routes::app`] builds the whole service as an axum `Router` from an [`AppState`]; tests drive it
//!   in-process, `main` only binds and serves it;
//! - [`auth`] applies the live service's two 401s;
//! - [`store`] holds the fixtures, loaded and validated once at start-up and kept as the exact bytes
//!   to send, so the hot path is a hash lookup and a `Bytes` clone;
//! - [`error`] is the one enum every refusal goes through, with the live service's JSON bodies;
//! - [`faults`] forces statuses, latency, dropped connections and broken bodies on demand;
//! - [`scenario`] serves a call as a lifecycle and/or a fault sequence, per client;
//! - [`list`] answers `GET /v2/calls` from the same fixtures;
//! - [`journal`] keeps the last requests (credentials redacted), [`admin`] exposes it and runtime
//!   control under `/__admin`, [`reload`] hot-reloads a fixture folder;
//! - [`server`] starts the router on a port (0 = any free one): the in-process API for tests;
//!   [`mocks`] has ready-made `wiremock::Mock`s for suites that already use wiremock.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let mock = synthflow_mock::MockServer::start().await?;
//! println!("try {}/calls/<id>", mock.base_url());
//! # Ok(()) }
//! ```

pub mod admin;
pub mod auth;
pub mod error;
pub mod fast_path;
pub mod faults;
pub mod finish;
pub mod journal;
pub mod list;
pub mod mocks;
pub mod reload;
pub mod routes;
pub mod scenario;
pub mod server;
pub mod store;
pub mod tools;

pub use auth::AuthPolicy;
pub use error::ApiError;
pub use faults::{BodyFault, Fault, GlobalFaults, RandomFaults};
pub use routes::{app, AdminAccess, AppState, Config, UnknownIdStatus};
pub use scenario::{Advance, Scenario, ScenarioFile};
pub use server::{serve_app_with, MockServer, MockServerBuilder, ServeOptions};
pub use store::{LoadOptions, Store, StoreError};
