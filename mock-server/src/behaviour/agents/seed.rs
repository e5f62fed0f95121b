//! The agents and actions a process starts with (and a reset restores): the few realistic ones
//! embedded from `fixtures/agents/`, or every `*.json` file of a folder (`--agents DIR`).
//!
//! A file holds one record. An action: `{"action_id": "...", "<KIND>": {...}}`, the create body
//! of `POST /v2/actions` plus its id. An agent: the create body of `POST /v2/assistants` plus
//! `model_id` and, optionally, `actions` (ids of actions in the same folder, attached in order).
//! Each is checked like a request body; a bad file stops the start with its path and the field.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::validate::{check_value, request_schema};
use super::{kinds, Action, Agent, Attached};

/// The embedded seed: (file name, text).
const EMBEDDED: [(&str, &str); 4] = [
    (
        "lead-webhook.action.json",
        include_str!("../../../fixtures/agents/lead-webhook.action.json"),
    ),
    (
        "purchase-intent.action.json",
        include_str!("../../../fixtures/agents/purchase-intent.action.json"),
    ),
    (
        "outbound-sales.agent.json",
        include_str!("../../../fixtures/agents/outbound-sales.agent.json"),
    ),
    (
        "inbound-support.agent.json",
        include_str!("../../../fixtures/agents/inbound-support.agent.json"),
    ),
];

/// Agents and actions to start with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seed {
    /// The actions, in file name order.
    pub actions: Vec<Action>,
    /// The agents, in file name order.
    pub agents: Vec<Agent>,
}

/// A seed file that cannot be used: which file, and why (the field is named).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct SeedError {
    /// The file.
    pub file: PathBuf,
    /// Why, naming the field.
    pub reason: String,
}

impl Seed {
    /// The embedded set (`fixtures/agents/`, checked by a test).
    pub fn embedded() -> Seed {
        let files = EMBEDDED.iter().map(|(name, text)| {
            (
                PathBuf::from("fixtures/agents").join(name),
                text.to_string(),
            )
        });
        Seed::from_texts(files).expect("the embedded agents are checked by a test")
    }

    /// Every `*.json` file of `dir`, in name order.
    pub fn from_dir(dir: &Path) -> Result<Seed, SeedError> {
        let err = |file: &Path, reason: String| SeedError {
            file: file.to_owned(),
            reason,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| err(dir, format!("cannot read: {e}")))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut texts = Vec::with_capacity(files.len());
        for f in files {
            let text =
                std::fs::read_to_string(&f).map_err(|e| err(&f, format!("cannot read: {e}")))?;
            texts.push((f, text));
        }
        Seed::from_texts(texts)
    }

    /// Records from (file, text) pairs: actions first, then agents (which may name them).
    pub fn from_texts(
        files: impl IntoIterator<Item = (PathBuf, String)>,
    ) -> Result<Seed, SeedError> {
        let mut seed = Seed::default();
        let mut agents = Vec::new();
        for (file, text) in files {
            let err = |reason: String| SeedError {
                file: file.clone(),
                reason,
            };
            let value: Value =
                serde_json::from_str(&text).map_err(|e| err(format!("not valid JSON: {e}")))?;
            let Value::Object(mut obj) = value else {
                return Err(err("must be a JSON object".into()));
            };
            if let Some(id) = obj.remove("action_id") {
                let id = id_of(id, "action_id").map_err(err)?;
                seed.actions.push(parse_action(id, obj).map_err(err)?);
            } else if let Some(id) = obj.remove("model_id") {
                let id = id_of(id, "model_id").map_err(err)?;
                agents.push((file.clone(), parse_agent(id, obj).map_err(err)?));
            } else {
                return Err(err(
                    "has neither action_id (an action) nor model_id (an agent)".into(),
                ));
            }
        }
        for (file, agent) in agents {
            if let Some(a) = agent
                .actions
                .iter()
                .find(|a| !seed.actions.iter().any(|x| x.action_id == a.action_id))
            {
                return Err(SeedError {
                    file,
                    reason: format!(
                        "actions: no action with action_id {:?} in the set",
                        a.action_id
                    ),
                });
            }
            seed.agents.push(agent);
        }
        Ok(seed)
    }
}

fn id_of(v: Value, field: &str) -> Result<String, String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(format!("{field}: must be a non-empty string")),
    }
}

/// An action record (its `action_id` taken out): the create body, checked.
pub fn parse_action(action_id: String, obj: Map<String, Value>) -> Result<Action, String> {
    let body = Value::Object(obj);
    check_value(&body, request_schema("/actions", "post"))?;
    let (kind, config) = kinds::kind_of_body(body.as_object().expect("an object"))?;
    Ok(Action {
        action_id,
        kind,
        config,
    })
}

/// An agent record (its `model_id` taken out): the create body, checked, and `actions`.
pub fn parse_agent(model_id: String, mut obj: Map<String, Value>) -> Result<Agent, String> {
    let actions = match obj.remove("actions") {
        None => Vec::new(),
        Some(Value::Array(ids)) => ids
            .into_iter()
            .enumerate()
            .map(|(i, id)| id_of(id, &format!("actions[{i}]")).map(Attached::plain))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("actions: must be a list of action ids".into()),
    };
    let body = Value::Object(obj);
    check_value(&body, request_schema("/assistants", "post"))?;
    let Value::Object(fields) = body else {
        unreachable!("checked to be an object above")
    };
    Ok(Agent {
        model_id,
        fields,
        actions,
        phone_numbers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_set_loads_with_agents_that_name_their_actions() {
        let seed = Seed::embedded();
        assert_eq!((seed.actions.len(), seed.agents.len()), (2, 2));
        assert!(seed.agents.iter().any(|a| !a.actions.is_empty()));
        assert!(seed
            .agents
            .iter()
            .all(|a| a.external_webhook_url().is_some()));
    }

    #[test]
    fn a_bad_file_is_named_with_its_field() {
        let files = vec![(
            PathBuf::from("agents/x.json"),
            r#"{"model_id":"m","type":"outbound","name":"n","agent":{"llm":1}}"#.to_owned(),
        )];
        let e = Seed::from_texts(files).unwrap_err();
        assert_eq!(
            e.to_string(),
            "agents/x.json: agent.llm: must be a string, not a number"
        );
        let files = vec![(
            PathBuf::from("agents/y.json"),
            r#"{"model_id":"m","type":"outbound","name":"n","agent":{},"actions":["gone"]}"#
                .to_owned(),
        )];
        let e = Seed::from_texts(files).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("agents/y.json: actions: no action"),
            "{e}"
        );
    }
}
