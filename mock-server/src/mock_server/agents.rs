//! Agents and actions on a running [`MockServer`]: what `POST /v2/assistants` and
//! `POST /v2/actions` create, from Rust, checked the same way.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! let mock = synthflow_mock::MockServer::start().await?;
//! let model_id = mock.add_agent(json!({
//!     "type": "outbound",
//!     "name": "Test-drive agent",
//!     "external_webhook_url": "http://127.0.0.1:3000/synthflow",
//!     "agent": {"prompt": "You call leads back.", "llm": "gpt-4.1"},
//! }))?;
//! let action_id = mock.add_action(json!({"INFORMATION_EXTRACTOR": {
//!     "OPEN_QUESTION": {"identifier": "purchase", "description": "What they want to buy"}
//! }}))?;
//! mock.attach_action(&model_id, &action_id)?;
//! // A call made with this model_id and no external_webhook_url now posts its webhook to
//! // http://127.0.0.1:3000/synthflow.
//! # Ok(()) }
//! ```

use serde_json::Value;

use super::{MockServer, MockServerBuilder};
use crate::behaviour::agents::seed::{parse_action, parse_agent};
use crate::behaviour::agents::{new_id, Agent, AgentConfig, AgentError, Attached};

impl MockServer {
    /// Starts an inbound call from `from_number` to `to_number` (an agent's number, or the agent
    /// `model_id`), as `POST /__admin/inbound-calls` does: the inbound webhook to the agent's
    /// `inbound_call_webhook_url`, then the call it routes. Returns the call id at once (the call
    /// is in the store once the webhook has decided).
    pub fn inbound_call(
        &self,
        from_number: &str,
        to_number: &str,
        model_id: Option<&str>,
    ) -> Result<String, String> {
        crate::play::start_inbound(
            &self.state,
            crate::play::InboundOrder {
                from_number: from_number.to_owned(),
                to_number: to_number.to_owned(),
                model_id: model_id.map(str::to_owned),
            },
        )
        .map(|(id, _)| id)
        .map_err(|e| e.to_string())
    }

    /// Adds an agent from a `POST /v2/assistants` body (checked as that endpoint checks it; a
    /// `model_id` member chooses its id). Returns its `model_id`, or why the body is refused.
    pub fn add_agent(&self, body: Value) -> Result<String, String> {
        let Value::Object(mut obj) = body else {
            return Err("an agent must be a JSON object".into());
        };
        let id = match obj.remove("model_id") {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => new_id(),
        };
        let agent = parse_agent(id.clone(), obj)?;
        self.state
            .agents()
            .insert_agent(agent)
            .map_err(|e| e.to_string())?;
        Ok(id)
    }

    /// Adds an action from a `POST /v2/actions` body (`{"CUSTOM_ACTION": {...}}`, checked; an
    /// `action_id` member chooses its id). Returns its `action_id`.
    pub fn add_action(&self, body: Value) -> Result<String, String> {
        let Value::Object(mut obj) = body else {
            return Err("an action must be a JSON object".into());
        };
        let id = match obj.remove("action_id") {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => new_id(),
        };
        let action = parse_action(id.clone(), obj)?;
        self.state.agents().insert_action(action);
        Ok(id)
    }

    /// Attaches an action to an agent (as `POST /v2/actions/attach` with `actions: [action_id]`).
    pub fn attach_action(&self, model_id: &str, action_id: &str) -> Result<(), AgentError> {
        self.state
            .agents()
            .attach(model_id, vec![Attached::plain(action_id)])
    }

    /// An agent as held now.
    pub fn agent(&self, model_id: &str) -> Option<Agent> {
        self.state.agents().agent(model_id)
    }
}

impl MockServerBuilder {
    /// Agents and actions: the bound, `strict` (`--strict-agents`), the seed (default: the
    /// embedded `fixtures/agents/`).
    pub fn agents(mut self, agents: AgentConfig) -> Self {
        self.config.agents = agents;
        self
    }
}
