//! Typed model, client and contract checks for Synthflow's `GET /v2/calls/{call_id}`.
//!
//! This crate is shared by the mock server (`synthflow-mock`) and the contract suite
//! (`contract-tests`), so the shape of the API is written down once:
//!
//! - [`model`]: serde types of the 200 envelope, the call record and the error bodies. They are
//!   tolerant (unknown enum values and extra members are kept) and lossless (decode → encode gives
//!   the same JSON value), because the live service runs ahead of its published document.
//! - [`client`]: a small reqwest client with the three regional hosts, whose errors tell a 400
//!   from an auth failure from a rate limit, and which never prints its token.
//! - [`contract`] (feature `contract`, on by default): the checks — JSON Schema from the vendored
//!   OpenAPI document, invariants of a real call, lossless round trip — used by the mock's
//!   start-up validation, its `validate` command and the contract suite alike.
//! - [`webhook`]: the post-call webhook payload, built from a `GET` record, and its signature
//!   (`sign`, `verify_signature` in constant time).
//!
//! ```
//! use synthflow::model::{GetCallResponse, CallStatus};
//! let body = br#"{"status":"ok","response":{"pagination":{"total_records":1,"limit":1,"offset":0},
//!   "calls":[{"call_id":"c1","status":"user-canceled"}]}}"#;
//! let envelope: GetCallResponse = serde_json::from_slice(body).unwrap();
//! let call = envelope.call().unwrap();
//! // A status the vendor's document does not list is kept, not an error.
//! assert_eq!(call.status, Some(CallStatus::Unknown("user-canceled".into())));
//! ```

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "contract")]
pub mod contract;
pub mod model;
pub mod violation;
pub mod webhook;

#[cfg(feature = "client")]
pub use client::{Client, ClientBuilder, ClientError, Region};
pub use model::{Call, GetCallResponse};
