//! Agents (`/v2/assistants`) and actions (`/v2/actions`): the configuration integrators' setup
//! code writes, kept per process, in memory, like made calls.
//!
//! - [`validate`]: a body against the vendor's own request schema (the whole document, vendored
//!   unchanged as `spec/synthflow-openapi.json`), plus the mock's limits (depth, name length);
//! - [`kinds`]: the eight action kinds, and the checks beyond the document for the two a call
//!   plays (`CUSTOM_ACTION`, `INFORMATION_EXTRACTOR`);
//! - [`store`]: [`Agents`], the bounded store (oldest evicted, said in the log), with every change
//!   all-or-nothing (an attach that fails attaches nothing);
//! - [`render`]: the vendor's response bodies for what the store holds;
//! - [`seed`]: the set a process starts with: `fixtures/agents/` embedded, or a folder
//!   (`--agents DIR`), every file checked at start with its name and the place that is wrong.
//!
//! Nothing here knows HTTP: the handlers (`http/agents.rs`, `http/actions.rs`) read requests and
//! map [`AgentError`] and [`validate::FieldError`] to the mock's refusals.

pub mod kinds;
pub mod render;
pub mod seed;
pub mod store;
pub mod validate;

use serde_json::{Map, Value};

pub use seed::{Seed, SeedError};
pub use store::{AgentError, Agents};

/// How many agents (and, separately, actions) are kept by default (`--max-agents`).
pub const DEFAULT_MAX_AGENTS: usize = 1_000;

/// The largest body the agents and actions endpoints read: 1 MiB (an agent's prompt can be long;
/// `POST /v2/calls` keeps its own, smaller limit). Past it: 413, before the body is read whole.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Agents and actions: the bound, whether `POST /v2/calls` needs a known agent, the seed.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// How many agents, and how many actions, are kept; the oldest is evicted past it.
    pub max_agents: usize,
    /// `POST /v2/calls` with a `model_id` that names no agent: 400 (`--strict-agents`) instead of
    /// accepted (the default: zero configuration).
    pub strict: bool,
    /// What a process starts with, and what a reset restores.
    pub seed: Seed,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            max_agents: DEFAULT_MAX_AGENTS,
            strict: false,
            seed: Seed::embedded(),
        }
    }
}

/// An agent as stored: the fields it was created with (unknown ones kept, for the round trip),
/// changed by each update, and what is attached to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    /// Its id (`model_id`).
    pub model_id: String,
    /// The fields of the create body, updated field by field (`agent` member by member).
    pub fields: Map<String, Value>,
    /// The actions attached, in the order attached.
    pub actions: Vec<Attached>,
    /// The phone numbers attached.
    pub phone_numbers: Vec<PhoneNumber>,
}

impl Agent {
    /// Its `external_webhook_url`, if it has one.
    pub fn external_webhook_url(&self) -> Option<&str> {
        self.fields
            .get("external_webhook_url")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Its `inbound_call_webhook_url`, if it has one.
    pub fn inbound_call_webhook_url(&self) -> Option<&str> {
        self.fields
            .get("inbound_call_webhook_url")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Its `name`.
    pub fn name(&self) -> &str {
        self.fields
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// An action attached to an agent, with the per-agent settings of `POST /v2/actions/attach`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attached {
    /// The action.
    pub action_id: String,
    /// `before`, `during` (the default) or `after`.
    pub attachment_type: Option<String>,
    /// The per-agent "when to use this action".
    pub trigger_condition: Option<String>,
    /// The per-agent input variable mapping, as sent.
    pub input_variables_mapping: Option<Value>,
}

impl Attached {
    /// An attachment with the defaults (`actions: [id]` in the attach body).
    pub fn plain(action_id: impl Into<String>) -> Self {
        Attached {
            action_id: action_id.into(),
            attachment_type: None,
            trigger_condition: None,
            input_variables_mapping: None,
        }
    }
}

/// A phone number attached to an agent (`PUT /v2/assistants/{model_id}/phone_numbers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    /// The number, E.164 as sent.
    pub number: String,
    /// Its slug: the number's digits (what `DELETE .../phone_numbers/{slug}` names).
    pub slug: String,
}

impl PhoneNumber {
    /// A number attached by number (`phone_numbers`) or by slug (`phone_number_slugs`).
    pub fn from_number(number: &str) -> Self {
        let slug: String = number.chars().filter(char::is_ascii_alphanumeric).collect();
        PhoneNumber {
            number: number.to_owned(),
            slug: if slug.is_empty() {
                number.to_owned()
            } else {
                slug
            },
        }
    }
}

/// An action as stored: its kind and the kind's object as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Its id (`action_id`).
    pub action_id: String,
    /// One of [`kinds::KINDS`].
    pub kind: String,
    /// The kind's object (`{"CUSTOM_ACTION": {...}}` holds `{...}`).
    pub config: Value,
}

impl Action {
    /// The name the vendor lists it under: a custom action's `name`, an extractor's
    /// `identifier`, else the kind.
    pub fn name(&self) -> String {
        kinds::display_name(&self.kind, &self.config)
    }
}

/// A new id in the format the document gives `model_id` and `action_id` (it says only "string";
/// the live ids are UUIDs).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
