//! [`Agents`]: the agents and actions a process holds, behind one lock, bounded.
//!
//! Every change checks everything it needs before it writes anything, so a refused request leaves
//! the store as it was (an attach naming one unknown action attaches none). Past the bound
//! (`--max-agents`, for agents and for actions each) the oldest is evicted and the log says so;
//! an evicted or deleted action is detached from every agent.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde_json::{Map, Value};

use super::{new_id, Action, Agent, Attached, PhoneNumber, Seed};

/// Why a change to the agents and actions was refused (an unknown agent, action or phone number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// No agent has this `model_id`.
    #[error("no agent with model_id {0:?}")]
    UnknownAgent(String),
    /// No action has this `action_id` (or slug).
    #[error("no action with action_id {0:?}")]
    UnknownAction(String),
    /// The agent has no phone number with this slug.
    #[error("the agent has no phone number with slug {0:?}")]
    UnknownPhoneNumber(String),
}

/// One kind of record, in creation order.
#[derive(Debug)]
struct Shelf<T> {
    by_id: HashMap<String, T>,
    order: VecDeque<String>,
}

impl<T> Default for Shelf<T> {
    fn default() -> Self {
        Shelf {
            by_id: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<T: Clone> Shelf<T> {
    /// Inserts (or replaces, keeping its place); returns the ids evicted past `max`.
    fn put(&mut self, id: String, item: T, max: usize) -> Vec<String> {
        if self.by_id.insert(id.clone(), item).is_none() {
            self.order.push_back(id);
        }
        let mut evicted = Vec::new();
        while self.order.len() > max.max(1) {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
                evicted.push(old);
            }
        }
        evicted
    }

    fn remove(&mut self, id: &str) -> Option<T> {
        let item = self.by_id.remove(id)?;
        self.order.retain(|x| x != id);
        Some(item)
    }

    fn page(&self, limit: usize, offset: usize) -> (usize, Vec<T>) {
        let items = self
            .order
            .iter()
            .skip(offset)
            .take(limit)
            .filter_map(|id| self.by_id.get(id).cloned())
            .collect();
        (self.order.len(), items)
    }

    fn all(&self) -> Vec<T> {
        self.order
            .iter()
            .filter_map(|id| self.by_id.get(id).cloned())
            .collect()
    }
}

#[derive(Debug, Default)]
struct Book {
    agents: Shelf<Agent>,
    actions: Shelf<Action>,
}

impl Book {
    fn agent_mut(&mut self, id: &str) -> Result<&mut Agent, AgentError> {
        self.agents
            .by_id
            .get_mut(id)
            .ok_or_else(|| AgentError::UnknownAgent(id.to_owned()))
    }

    fn put_agent(&mut self, agent: Agent, max: usize) {
        for old in self.agents.put(agent.model_id.clone(), agent, max) {
            tracing::info!(target: "synthflow_mock::agents", model_id = %old, max, "agent evicted (--max-agents reached)");
        }
    }

    fn put_action(&mut self, action: Action, max: usize) {
        for old in self.actions.put(action.action_id.clone(), action, max) {
            tracing::info!(target: "synthflow_mock::agents", action_id = %old, max, "action evicted (--max-agents reached)");
            self.detach_everywhere(&old);
        }
    }

    fn detach_everywhere(&mut self, action_id: &str) {
        for agent in self.agents.by_id.values_mut() {
            agent.actions.retain(|a| a.action_id != action_id);
        }
    }

    /// The id of an action named by id, else by slug (its name).
    fn resolve_action(&self, id_or_slug: &str) -> Option<String> {
        if self.actions.by_id.contains_key(id_or_slug) {
            return Some(id_or_slug.to_owned());
        }
        self.actions
            .order
            .iter()
            .find(|id| self.actions.by_id[*id].name() == id_or_slug)
            .cloned()
    }
}

/// The agents and actions of a process (see the module docs).
#[derive(Debug)]
pub struct Agents {
    book: Mutex<Book>,
    max: usize,
}

impl Agents {
    /// A store holding `seed`, keeping at most `max` agents and `max` actions.
    pub fn new(max: usize, seed: &Seed) -> Self {
        let store = Agents {
            book: Mutex::new(Book::default()),
            max,
        };
        store.reset(seed);
        store
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets everything and holds `seed` again.
    pub fn reset(&self, seed: &Seed) {
        let mut book = self.book();
        *book = Book::default();
        for action in &seed.actions {
            book.put_action(action.clone(), self.max);
        }
        for agent in &seed.agents {
            let mut agent = agent.clone();
            agent
                .actions
                .retain(|a| book.actions.by_id.contains_key(&a.action_id));
            book.put_agent(agent, self.max);
        }
    }

    /// Creates an agent from a checked create body; returns its `model_id`.
    pub fn create_agent(&self, fields: Map<String, Value>) -> String {
        let model_id = new_id();
        self.insert_agent(Agent {
            model_id: model_id.clone(),
            fields,
            actions: Vec::new(),
            phone_numbers: Vec::new(),
        })
        .expect("a new agent names no action");
        model_id
    }

    /// Inserts (or replaces) a whole agent; every action it names must exist.
    pub fn insert_agent(&self, agent: Agent) -> Result<(), AgentError> {
        let mut book = self.book();
        if let Some(a) = agent
            .actions
            .iter()
            .find(|a| !book.actions.by_id.contains_key(&a.action_id))
        {
            return Err(AgentError::UnknownAction(a.action_id.clone()));
        }
        book.put_agent(agent, self.max);
        Ok(())
    }

    /// An agent by `model_id`.
    pub fn agent(&self, model_id: &str) -> Option<Agent> {
        self.book().agents.by_id.get(model_id).cloned()
    }

    /// One page of agents, oldest first, and how many there are.
    pub fn agents_page(&self, limit: usize, offset: usize) -> (usize, Vec<Agent>) {
        self.book().agents.page(limit, offset)
    }

    /// Every agent, oldest first.
    pub fn all_agents(&self) -> Vec<Agent> {
        self.book().agents.all()
    }

    /// Changes only the fields given; `agent` (the settings object) member by member.
    pub fn update_agent(
        &self,
        model_id: &str,
        fields: Map<String, Value>,
    ) -> Result<(), AgentError> {
        let mut book = self.book();
        let agent = book.agent_mut(model_id)?;
        for (k, v) in fields {
            match (agent.fields.get_mut(&k), v) {
                (Some(Value::Object(old)), Value::Object(new)) if k == "agent" => old.extend(new),
                (_, v) => {
                    agent.fields.insert(k, v);
                }
            }
        }
        Ok(())
    }

    /// Deletes an agent.
    pub fn delete_agent(&self, model_id: &str) -> Result<(), AgentError> {
        self.book()
            .agents
            .remove(model_id)
            .map(drop)
            .ok_or_else(|| AgentError::UnknownAgent(model_id.to_owned()))
    }

    /// Attaches phone numbers (a number already attached stays once).
    pub fn attach_phone_numbers(
        &self,
        model_id: &str,
        numbers: Vec<PhoneNumber>,
    ) -> Result<(), AgentError> {
        let mut book = self.book();
        let agent = book.agent_mut(model_id)?;
        for n in numbers {
            if !agent.phone_numbers.iter().any(|p| p.slug == n.slug) {
                agent.phone_numbers.push(n);
            }
        }
        Ok(())
    }

    /// Detaches the phone number with `slug`.
    pub fn detach_phone_number(&self, model_id: &str, slug: &str) -> Result<(), AgentError> {
        let mut book = self.book();
        let agent = book.agent_mut(model_id)?;
        let before = agent.phone_numbers.len();
        agent.phone_numbers.retain(|p| p.slug != slug);
        if agent.phone_numbers.len() == before {
            return Err(AgentError::UnknownPhoneNumber(slug.to_owned()));
        }
        Ok(())
    }

    /// Creates an action of `kind` (checked); returns its `action_id`.
    pub fn create_action(&self, kind: String, config: Value) -> String {
        let action_id = new_id();
        self.insert_action(Action {
            action_id: action_id.clone(),
            kind,
            config,
        });
        action_id
    }

    /// Inserts (or replaces) a whole action.
    pub fn insert_action(&self, action: Action) {
        self.book().put_action(action, self.max);
    }

    /// An action by `action_id`.
    pub fn action(&self, action_id: &str) -> Option<Action> {
        self.book().actions.by_id.get(action_id).cloned()
    }

    /// One page of actions, oldest first, and how many there are.
    pub fn actions_page(&self, limit: usize, offset: usize) -> (usize, Vec<Action>) {
        self.book().actions.page(limit, offset)
    }

    /// Every action, oldest first.
    pub fn all_actions(&self) -> Vec<Action> {
        self.book().actions.all()
    }

    /// The agents an action is attached to, oldest first.
    pub fn assistants_of(&self, action_id: &str) -> Vec<String> {
        let book = self.book();
        book.agents
            .all()
            .into_iter()
            .filter(|a| a.actions.iter().any(|x| x.action_id == action_id))
            .map(|a| a.model_id)
            .collect()
    }

    /// Updates an action: the same kind changes only the members given, another kind replaces it.
    pub fn update_action(
        &self,
        action_id: &str,
        kind: String,
        config: Value,
    ) -> Result<(), AgentError> {
        let mut book = self.book();
        let action = book
            .actions
            .by_id
            .get_mut(action_id)
            .ok_or_else(|| AgentError::UnknownAction(action_id.to_owned()))?;
        match (&mut action.config, config) {
            (Value::Object(old), Value::Object(new)) if action.kind == kind => old.extend(new),
            (_, config) => {
                action.kind = kind;
                action.config = config;
            }
        }
        Ok(())
    }

    /// Deletes an action and detaches it from every agent.
    pub fn delete_action(&self, action_id: &str) -> Result<(), AgentError> {
        let mut book = self.book();
        book.actions
            .remove(action_id)
            .ok_or_else(|| AgentError::UnknownAction(action_id.to_owned()))?;
        book.detach_everywhere(action_id);
        Ok(())
    }

    /// Attaches actions (named by id or slug) to an agent, all or none; attaching one already
    /// attached replaces its per-agent settings.
    pub fn attach(&self, model_id: &str, items: Vec<Attached>) -> Result<(), AgentError> {
        let mut book = self.book();
        if !book.agents.by_id.contains_key(model_id) {
            return Err(AgentError::UnknownAgent(model_id.to_owned()));
        }
        let mut resolved = Vec::with_capacity(items.len());
        for mut item in items {
            item.action_id = book
                .resolve_action(&item.action_id)
                .ok_or_else(|| AgentError::UnknownAction(item.action_id.clone()))?;
            resolved.push(item);
        }
        let agent = book.agent_mut(model_id)?;
        for item in resolved {
            match agent
                .actions
                .iter_mut()
                .find(|a| a.action_id == item.action_id)
            {
                Some(a) => *a = item,
                None => agent.actions.push(item),
            }
        }
        Ok(())
    }

    /// Detaches actions from an agent, all or none (each must exist; one not attached is a no-op).
    pub fn detach(&self, model_id: &str, action_ids: &[String]) -> Result<(), AgentError> {
        let mut book = self.book();
        if !book.agents.by_id.contains_key(model_id) {
            return Err(AgentError::UnknownAgent(model_id.to_owned()));
        }
        if let Some(id) = action_ids
            .iter()
            .find(|id| !book.actions.by_id.contains_key(*id))
        {
            return Err(AgentError::UnknownAction(id.clone()));
        }
        let agent = book.agent_mut(model_id)?;
        agent.actions.retain(|a| !action_ids.contains(&a.action_id));
        Ok(())
    }

    /// How many agents and actions are held.
    pub fn counts(&self) -> (usize, usize) {
        let book = self.book();
        (book.agents.order.len(), book.actions.order.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(name: &str) -> Map<String, Value> {
        json!({"type": "outbound", "name": name, "agent": {"prompt": "p", "llm": "gpt-4.1"}})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn the_oldest_agent_is_evicted_past_the_bound() {
        let store = Agents::new(2, &Seed::default());
        let a = store.create_agent(fields("a"));
        let b = store.create_agent(fields("b"));
        let c = store.create_agent(fields("c"));
        assert!(store.agent(&a).is_none());
        assert!(store.agent(&b).is_some() && store.agent(&c).is_some());
        assert_eq!(store.agents_page(20, 0).0, 2);
    }

    #[test]
    fn an_update_changes_only_the_fields_given() {
        let store = Agents::new(10, &Seed::default());
        let id = store.create_agent(fields("a"));
        let change =
            json!({"external_webhook_url": "http://127.0.0.1:9/h", "agent": {"llm": "gpt-5.1"}});
        store
            .update_agent(&id, change.as_object().unwrap().clone())
            .unwrap();
        let agent = store.agent(&id).unwrap();
        assert_eq!(agent.name(), "a");
        assert_eq!(agent.external_webhook_url(), Some("http://127.0.0.1:9/h"));
        assert_eq!(
            agent.fields["agent"],
            json!({"prompt": "p", "llm": "gpt-5.1"})
        );
    }

    #[test]
    fn an_attach_naming_one_unknown_action_attaches_nothing() {
        let store = Agents::new(10, &Seed::default());
        let agent = store.create_agent(fields("a"));
        let known = store.create_action("CUSTOM_EVAL".into(), json!({"question": "q"}));
        let err = store
            .attach(
                &agent,
                vec![Attached::plain(&known), Attached::plain("nope")],
            )
            .unwrap_err();
        assert_eq!(err, AgentError::UnknownAction("nope".into()));
        assert!(store.agent(&agent).unwrap().actions.is_empty());
        store.attach(&agent, vec![Attached::plain(&known)]).unwrap();
        assert_eq!(store.assistants_of(&known), vec![agent.clone()]);
        store.delete_action(&known).unwrap();
        assert!(store.agent(&agent).unwrap().actions.is_empty());
    }
}
