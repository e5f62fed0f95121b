//! The HTTP side of the mock: the one entry ([`Entry`]) and what it routes to.
//!
//! - `body`: the body of every answer ([`MockBody`]);
//! - [`entry`]: every request goes through [`Entry::handle`]; it decides a plain fixture hit, or
//!   hands the request to the router, then writes refusal bodies, journals and logs;
//! - `decide`: the decisions every route shares, each in one place (a plain fixture hit, the
//!   fault a request gets and how it is applied, the JSON answer); it uses no other file here;
//! - `routes`: the API's routes and their handlers (they `?` into [`crate::error::Refusal`]);
//! - `make_call`: `POST /v2/calls`, a call made and played out by the clock;
//! - `logs`: `GET /v2/logs` and `/v2/logs/{id}`, the vendor's webhook logs from the delivery
//!   journal;
//! - `agents`, `actions`: `/v2/assistants` and `/v2/actions`, over [`crate::behaviour::agents`];
//! - `admin`: runtime control under `/__admin`, when enabled (`admin_webhooks`: its webhook part;
//!   `admin_guard`: its checks of `Host`, `Origin` and the journal's paging; `console`: the web
//!   console at `/__admin/ui`).

mod actions;
pub mod admin;
mod admin_guard;
mod admin_webhooks;
mod agents;
mod body;
mod console;
mod decide;
pub mod entry;
mod logs;
mod make_call;
mod routes;

pub use body::MockBody;
pub use entry::{Answer, Entry, LOG_TARGET};
