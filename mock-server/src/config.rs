//! How the mock behaves, fixed at start: [`Config`] and the small option types it holds. Apart
//! from [`crate::state`], which holds what changes while the mock runs.

use std::fmt;
use std::str::FromStr;

use crate::auth::{AdminToken, AuthPolicy};
use crate::behaviour::agents::AgentConfig;
use crate::behaviour::faults::GlobalFaults;
use crate::behaviour::made_calls::MadeCallConfig;
use crate::store::LoadOptions;
use crate::webhook::WebhookConfig;

/// What the mock answers for a well-formed call id it has no fixture for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownIdStatus {
    /// The documented answer: 400 with the error body.
    #[default]
    BadRequest,
    /// What the public catalogue declares and some clients expect: 404.
    NotFound,
}

impl UnknownIdStatus {
    /// Every value, as the command line writes it.
    pub const VALUES: [&'static str; 2] = ["400", "404"];
}

impl FromStr for UnknownIdStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s {
            "400" => Ok(UnknownIdStatus::BadRequest),
            "404" => Ok(UnknownIdStatus::NotFound),
            _ => Err(UnknownValue::new(s, &Self::VALUES)),
        }
    }
}

impl fmt::Display for UnknownIdStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnknownIdStatus::BadRequest => "400",
            UnknownIdStatus::NotFound => "404",
        })
    }
}

/// A value that is not one of an option's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not one of: {}", .expected.join(", "))]
pub struct UnknownValue {
    /// What was given.
    pub value: String,
    /// What is accepted.
    pub expected: Vec<&'static str>,
}

impl UnknownValue {
    fn new(value: &str, expected: &[&'static str]) -> Self {
        UnknownValue {
            value: value.to_owned(),
            expected: expected.to_vec(),
        }
    }
}

/// Who may use the admin API (`/__admin/...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminAccess {
    /// No admin API: its paths are 404 like any unknown route.
    #[default]
    Off,
    /// Served to loopback peers only; others get 403.
    Loopback,
    /// Served to any peer (only behind a network you trust).
    Any,
}

impl AdminAccess {
    /// Every value, as the command line writes it.
    pub const VALUES: [&'static str; 3] = ["off", "loopback", "any"];
}

impl FromStr for AdminAccess {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s {
            "off" => Ok(AdminAccess::Off),
            "loopback" => Ok(AdminAccess::Loopback),
            "any" => Ok(AdminAccess::Any),
            _ => Err(UnknownValue::new(s, &Self::VALUES)),
        }
    }
}

impl fmt::Display for AdminAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AdminAccess::Off => "off",
            AdminAccess::Loopback => "loopback",
            AdminAccess::Any => "any",
        })
    }
}

/// How the mock behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Which Bearer tokens are accepted.
    pub auth: AuthPolicy,
    /// 400 or 404 for an unknown id.
    pub unknown_id: UnknownIdStatus,
    /// `Retry-After` seconds on a forced 429 (`None`: no header, as the live service publishes none).
    pub retry_after: Option<u32>,
    /// The admin API.
    pub admin: AdminAccess,
    /// Size of the request journal (0 = off).
    pub journal_size: usize,
    /// Faults applied to every request at start (the admin API can change them).
    pub faults: GlobalFaults,
    /// How fixtures added at run time (admin API, hot reload) are checked.
    pub load: LoadOptions,
    /// Bytes the request journal may hold (0 = off); see [`crate::journal::DEFAULT_MAX_BYTES`].
    pub journal_bytes: usize,
    /// The token admin requests must carry as `Authorization: Bearer` (`None`: none needed).
    pub admin_token: Option<AdminToken>,
    /// The host the mock was told to listen on (`--host`): an admin request's `Host` may name it
    /// besides a loopback name.
    pub host: Option<String>,
    /// How post-call webhooks are sent (default URL, secret, retry policy, queue).
    pub webhooks: WebhookConfig,
    /// Calls made through `POST /v2/calls`: lifecycle duration, bound, outcome rules.
    pub made_calls: MadeCallConfig,
    /// Agents and actions: the bound, `--strict-agents`, the seed.
    pub agents: AgentConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            auth: AuthPolicy::default(),
            unknown_id: UnknownIdStatus::default(),
            retry_after: Some(1),
            admin: AdminAccess::Off,
            journal_size: 0,
            faults: GlobalFaults::default(),
            load: LoadOptions::default(),
            journal_bytes: crate::journal::DEFAULT_MAX_BYTES,
            admin_token: None,
            host: None,
            webhooks: WebhookConfig::default(),
            made_calls: MadeCallConfig::default(),
            agents: AgentConfig::default(),
        }
    }
}
