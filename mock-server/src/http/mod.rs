//! The HTTP side of the mock: the one entry ([`Entry`]) and what it routes to.
//!
//! - `body`: the body of every answer ([`MockBody`]);
//! - [`entry`]: every request goes through [`Entry::handle`]; it decides a plain fixture hit, or
//!   hands the request to the router, then writes refusal bodies, journals and logs;
//! - `routes`: the API's routes and their handlers (they `?` into [`crate::error::Refusal`]);
//! - `make_call`: `POST /v2/calls`, a call made and played out by the clock;
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
pub mod entry;
mod make_call;
mod routes;

pub use body::MockBody;
pub use entry::{fixture_hit, Answer, Entry, LOG_TARGET};
