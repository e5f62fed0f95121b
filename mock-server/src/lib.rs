//! `synthflow-mock`: an offline stand-in for Synthflow's `GET /v2/calls/{call_id}`.
//!
//! The pieces, in the order a request meets them:
//! - [`routes::app`] builds the whole service as an axum `Router` from an [`AppState`]; tests drive it
//!   in-process, `main` only binds and serves it;
//! - [`auth`] applies the live service's two 401s;
//! - [`store`] holds the fixtures, loaded and validated once at start-up and kept as the exact bytes
//!   to send, so the hot path is a hash lookup and a `Bytes` clone;
//! - [`error`] is the one enum every refusal goes through, with the live service's JSON bodies;
//! - [`server`] starts the router on a port (0 = any free one) for other crates' tests.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let mock = synthflow_mock::MockServer::start().await?;
//! println!("try {}/calls/<id>", mock.base_url());
//! # Ok(()) }
//! ```

pub mod auth;
pub mod error;
pub mod generate;
pub mod routes;
pub mod server;
pub mod store;
pub mod validate;

pub use auth::AuthPolicy;
pub use error::ApiError;
pub use routes::{app, AppState, Config, UnknownIdStatus};
pub use server::MockServer;
pub use store::{LoadOptions, Store, StoreError};
