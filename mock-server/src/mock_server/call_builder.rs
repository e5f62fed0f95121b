//! [`CallBuilder`]: a call body for [`crate::MockServer::add_call`] without hand-editing an envelope.
//!
//! It starts from a complete, valid call (the embedded hand-made fixture of a completed outbound
//! call) and changes only what the test says, so the result passes the same checks as a fixture
//! file unless the test itself makes it inconsistent (then `add_call` says which field and why).

use bytes::Bytes;
use serde_json::{json, Value};

use crate::store::Store;

/// The embedded call every builder starts from.
const TEMPLATE_ID: &str = "3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0";

/// A call body (the 200 envelope with one call), built field by field.
///
/// ```
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use synthflow_mock::{CallBuilder, MockServer};
/// let mock = MockServer::start().await?;
/// let id = mock.add_call(
///     CallBuilder::new("my-call-1")
///         .transcript([("bot", "Hello, how can I help?"), ("human", "Cancel my order.")])
///         .collected_variable("intent", "cancel"),
/// )?;
/// assert_eq!(id, "my-call-1");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CallBuilder {
    envelope: Value,
}

impl CallBuilder {
    /// A completed outbound call with this id (everything else from the template call).
    pub fn new(call_id: &str) -> CallBuilder {
        let store = Store::embedded().expect("the embedded fixtures load (checked at build time)");
        let body = &store
            .get(TEMPLATE_ID)
            .expect("the template call is embedded")
            .body;
        let envelope: Value = serde_json::from_slice(body).expect("an embedded fixture is JSON");
        CallBuilder { envelope }
            .set("/call_id", json!(call_id))
            .set(
                "/recording_url",
                json!(format!("https://recordings.synthflow.ai/{call_id}.mp3")),
            )
    }

    fn call(&mut self) -> &mut Value {
        self.envelope
            .pointer_mut("/response/calls/0")
            .expect("the template has one call")
    }

    /// Sets any field of the call by JSON Pointer relative to the call (`/status`,
    /// `/telephony_duration`...), creating it if absent.
    pub fn set(mut self, pointer: &str, value: Value) -> Self {
        let call = self.call();
        match call.pointer_mut(pointer) {
            Some(slot) => *slot = value,
            None => {
                if let (Some(obj), Some(key)) = (call.as_object_mut(), pointer.strip_prefix('/')) {
                    obj.insert(key.to_owned(), value);
                }
            }
        }
        self
    }

    /// The agent (`model_id`); the collected variables, keyed by agent, move with it.
    pub fn model_id(mut self, model_id: &str) -> Self {
        let call = self.call();
        let old = call["model_id"].as_str().unwrap_or_default().to_owned();
        if let Some(vars) = call["collected_variables"].as_object_mut() {
            if let Some(v) = vars.remove(&old) {
                vars.insert(model_id.to_owned(), v);
            }
        }
        self.set("/model_id", json!(model_id))
    }

    /// The lead's name.
    pub fn name(self, name: &str) -> Self {
        self.set("/name", json!(name))
    }

    /// The call's status (`completed`, `failed`, `no-answer`...).
    pub fn status(self, status: &str) -> Self {
        self.set("/status", json!(status))
    }

    /// Why it ended (`human_goodbye`, `voicemail`...).
    pub fn end_call_reason(self, reason: &str) -> Self {
        self.set("/end_call_reason", json!(reason))
    }

    /// The transcript, as `(speaker, text)` turns (`bot`/`human`), written as the vendor writes it.
    pub fn transcript<'a>(self, turns: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let text = turns
            .into_iter()
            .map(|(who, what)| format!("{who}: {what}"))
            .collect::<Vec<_>>()
            .join("\n");
        self.set("/transcript", json!(text))
    }

    /// One collected variable of the call's agent, as collected (`{"value": .., "collected": true}`
    /// under `collected_variables[model_id]`).
    pub fn collected_variable(mut self, key: &str, value: impl Into<Value>) -> Self {
        let call = self.call();
        let agent = call["model_id"].as_str().unwrap_or_default().to_owned();
        if !call["collected_variables"].is_object() {
            call["collected_variables"] = json!({});
        }
        let vars = &mut call["collected_variables"][agent];
        if !vars.is_object() {
            *vars = json!({});
        }
        vars[key] = json!({"value": value.into(), "collected": true});
        self
    }

    /// One prompt variable.
    pub fn prompt_variable(mut self, key: &str, value: impl Into<Value>) -> Self {
        let call = self.call();
        if !call["prompt_variables"].is_object() {
            call["prompt_variables"] = json!({});
        }
        call["prompt_variables"][key] = value.into();
        self
    }

    /// The body bytes.
    pub fn build(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(&self.envelope).expect("a JSON value encodes"))
    }
}

impl From<CallBuilder> for Bytes {
    fn from(b: CallBuilder) -> Bytes {
        b.build()
    }
}
