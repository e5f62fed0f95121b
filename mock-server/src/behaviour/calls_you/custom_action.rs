//! A `CUSTOM_ACTION` played during a call: the HTTP request its vendor object describes (method,
//! URL, headers, query parameters, `json_body_stringified`, custom auth), filled from the call's
//! variables ([`super::template`]), sent through the outgoing door (kind `action`: target rules,
//! timeout, answer bound, redaction, journal), and its answer folded into the call as the
//! `executed_actions.{name}` entry.
//!
//! Choices where the vendor is silent (docs/webhooks.md, "Synthflow calls you"):
//! - the timeout is the action's `failure_timeout` (seconds, as the document says), else
//!   [`DEFAULT_TIMEOUT`], at most [`MAX_TIMEOUT`];
//! - `custom_auth` with `is_needed` adds `Authorization: <key> <value>` (`location: header`, the
//!   default) or the query parameter `<key>=<value>` (`location: query`);
//! - variables: the call's system variables, its custom (pre-call) variables, the action's
//!   `variables_before_the_call`, and for `variables_during_the_call` (extracted from the
//!   conversation live) their `example`;
//! - the entry: `{name, action_type: "custom_action", description, parameters_hard_coded: null,
//!   error_message, return_value}`; a failure (refused, no answer in time, a non-2xx, an answer
//!   that is not JSON) is an `error_message` and `return_value: null`, and never stops the call.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{json, Value};

use super::template::{fill, Escape};
use crate::outgoing::{AttemptOf, Delivery, OutRequest, Outgoing, Sent};

/// An action's timeout when it sets no `failure_timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest timeout an action may set.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// The variables a template may name, by name.
pub type Vars = BTreeMap<String, String>;

/// A custom action, read from its vendor object.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomAction {
    /// Its `name` (the `executed_actions` key).
    pub name: String,
    /// Its `description`.
    pub description: String,
    /// `http_mode`.
    pub method: Method,
    /// `url` (a template).
    pub url: String,
    /// `headers` (templates).
    pub headers: Vec<(String, String)>,
    /// `query_parameters` (templates).
    pub query: Vec<(String, String)>,
    /// `json_body_stringified` (a template), if any.
    pub body: Option<String>,
    /// `custom_auth` when `is_needed`: location, key, value.
    pub auth: Option<(String, String, String)>,
    /// From `failure_timeout`.
    pub timeout: Duration,
    /// `run_action_before_call_start`.
    pub before_call: bool,
    /// `variables_before_the_call` and the examples of `variables_during_the_call`.
    pub own_vars: Vars,
}

fn pairs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    Some((
                        i.get("key")?.as_str()?.to_owned(),
                        match i.get("value")? {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl CustomAction {
    /// Reads the `CUSTOM_ACTION` object (what the store keeps as the action's config).
    pub fn from_config(config: &Value) -> Result<CustomAction, String> {
        let s = |k: &str| config.get(k).and_then(Value::as_str).map(str::to_owned);
        let url = s("url").ok_or("CUSTOM_ACTION.url: missing")?;
        let name = s("name").ok_or("CUSTOM_ACTION.name: missing")?;
        let method = match s("http_mode").as_deref().unwrap_or("GET") {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "PATCH" => Method::PATCH,
            "DELETE" => Method::DELETE,
            other => {
                return Err(format!(
                    "CUSTOM_ACTION.http_mode: {other:?} is not a method"
                ))
            }
        };
        let auth = config.get("custom_auth").and_then(|a| {
            a.get("is_needed").and_then(Value::as_bool).filter(|n| *n)?;
            Some((
                a.get("location")
                    .and_then(Value::as_str)
                    .unwrap_or("header")
                    .to_owned(),
                a.get("key")
                    .and_then(Value::as_str)
                    .unwrap_or("Bearer")
                    .to_owned(),
                a.get("value")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            ))
        });
        let timeout = config
            .get("failure_timeout")
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TIMEOUT)
            .clamp(Duration::from_millis(100), MAX_TIMEOUT);
        let mut own_vars: Vars = pairs(config.get("variables_before_the_call"))
            .into_iter()
            .collect();
        if let Some(during) = config
            .get("variables_during_the_call")
            .and_then(Value::as_array)
        {
            for v in during {
                if let Some(n) = v.get("name").and_then(Value::as_str) {
                    let example = v.get("example").and_then(Value::as_str).unwrap_or("");
                    own_vars.insert(n.to_owned(), example.to_owned());
                }
            }
        }
        Ok(CustomAction {
            name,
            description: s("description").unwrap_or_default(),
            method,
            url,
            headers: pairs(config.get("headers")),
            query: pairs(config.get("query_parameters")),
            body: s("json_body_stringified").filter(|b| !b.trim().is_empty()),
            auth,
            timeout,
            before_call: config
                .get("run_action_before_call_start")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            own_vars,
        })
    }

    /// The request for a call whose variables are `call_vars` (they win over the action's own).
    pub fn request(&self, call_vars: &Vars) -> Prepared {
        let lookup = |n: &str| call_vars.get(n).or_else(|| self.own_vars.get(n)).cloned();
        let mut url = fill(&self.url, &lookup, Escape::Url);
        let mut query: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    fill(k, &lookup, Escape::Url),
                    fill(v, &lookup, Escape::Url)
                )
            })
            .collect();
        let mut headers = HeaderMap::new();
        for (k, v) in &self.headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(k.trim().as_bytes()),
                HeaderValue::from_str(&fill(v, &lookup, Escape::Header)),
            ) else {
                continue;
            };
            headers.append(name, value);
        }
        if let Some((location, key, value)) = &self.auth {
            if location.eq_ignore_ascii_case("query") {
                query.push(format!(
                    "{}={}",
                    fill(key, &lookup, Escape::Url),
                    fill(value, &lookup, Escape::Url)
                ));
            } else if let Ok(v) =
                HeaderValue::from_str(&format!("{key} {}", fill(value, &lookup, Escape::Header)))
            {
                headers.insert(http::header::AUTHORIZATION, v);
            }
        }
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&query.join("&"));
        }
        let body = self
            .body
            .as_deref()
            .map(|b| Bytes::from(fill(b, &lookup, Escape::Json)))
            .unwrap_or_default();
        Prepared {
            method: self.method.clone(),
            url,
            headers,
            body,
        }
    }

    /// Sends the action for call `call_id` once, journals the attempt, and gives its
    /// `executed_actions` entry.
    pub async fn run(&self, out: &Outgoing, call_id: &str, call_vars: &Vars) -> Value {
        let p = self.request(call_vars);
        let sent_headers = p.headers.clone();
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let t0 = Instant::now();
        let sent = out
            .send(OutRequest {
                kind: "action",
                url: &p.url,
                method: p.method.clone(),
                headers: p.headers,
                body: p.body.clone(),
                timeout: self.timeout,
            })
            .await;
        let latency_ms = t0.elapsed().as_millis() as u64;
        let (result, outcome, entry) = outcome_of(&sent);
        let of = AttemptOf {
            kind: "action",
            call_id,
            url: &p.url,
            attempt: 1,
            signed: false,
            fault: None,
            duplicate: false,
            model_id: call_vars.get("model_id").map(String::as_str),
            method: p.method.as_str(),
            headers: &sent_headers,
            secret_headers: &[],
            body: &p.body,
        };
        out.record(Delivery::new(&of, result, outcome, latency_ms, at));
        let (error, value) = entry;
        if let Some(e) = &error {
            tracing::warn!(call_id, action = %self.name, error = %e, "custom action failed (the call goes on)");
        }
        json!({
            "name": self.name,
            "action_type": "custom_action",
            "description": self.description,
            "parameters_hard_coded": null,
            "error_message": error,
            "return_value": value,
        })
    }
}

/// What one send gave, as the journal and the `executed_actions` entry say it.
#[allow(clippy::type_complexity)]
fn outcome_of(
    sent: &Sent,
) -> (
    Result<&crate::outgoing::Answer, String>,
    &'static str,
    (Option<String>, Value),
) {
    match sent {
        Sent::Answer(a) if (200..300).contains(&a.status) => {
            if a.cut {
                let why = format!(
                    "the answer is over {} bytes: cut, not used",
                    crate::outgoing::MAX_ANSWER_BYTES
                );
                return (Ok(a), "failed", (Some(why), Value::Null));
            }
            match serde_json::from_slice::<Value>(&a.body) {
                Ok(v) => (Ok(a), "delivered", (None, v)),
                Err(_) => (
                    Ok(a),
                    "failed",
                    (Some("the answer is not JSON".to_owned()), Value::Null),
                ),
            }
        }
        Sent::Answer(a) => (
            Ok(a),
            "failed",
            (Some(format!("HTTP {}", a.status)), Value::Null),
        ),
        Sent::Refused(r) => (
            Err(format!("not sent: {r}")),
            "refused",
            (Some(format!("not sent: {r}")), Value::Null),
        ),
        Sent::Failed(r) | Sent::Error(r) => {
            (Err(r.clone()), "failed", (Some(r.clone()), Value::Null))
        }
    }
}

/// A custom action's request, filled.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The method.
    pub method: Method,
    /// The URL, query included.
    pub url: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (empty when the action has no template).
    pub body: Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action() -> CustomAction {
        CustomAction::from_config(&json!({
            "http_mode": "POST",
            "url": "http://127.0.0.1:9/orders/{call_id}",
            "name": "lookup_order",
            "run_action_before_call_start": false,
            "headers": [{"key": "X-Caller", "value": "<user_phone_number>"}],
            "query_parameters": [{"key": "src", "value": "{{source}}"}],
            "json_body_stringified": "{\"call\": \"{call_id}\", \"to\": \"{to_phone_number}\", \"order\": \"{order_id}\"}",
            "custom_auth": {"is_needed": true, "location": "header", "key": "Bearer", "value": "tok"},
            "failure_timeout": 3,
            "variables_before_the_call": [{"key": "source", "value": "mock"}],
            "variables_during_the_call": [{"name": "order_id", "example": "A-17"}]
        }))
        .unwrap()
    }

    #[test]
    fn the_request_is_filled_from_the_calls_and_the_actions_variables() {
        let vars: Vars = [
            ("call_id".to_owned(), "c-9".to_owned()),
            ("to_phone_number".to_owned(), "+15550001".to_owned()),
            ("user_phone_number".to_owned(), "+15550002".to_owned()),
        ]
        .into_iter()
        .collect();
        let a = action();
        assert_eq!(a.timeout, Duration::from_secs(3));
        let p = a.request(&vars);
        assert_eq!(p.method, Method::POST);
        assert_eq!(p.url, "http://127.0.0.1:9/orders/c-9?src=mock");
        assert_eq!(p.headers["x-caller"], "+15550002");
        assert_eq!(p.headers["authorization"], "Bearer tok");
        let body: Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(
            body,
            json!({"call": "c-9", "to": "+15550001", "order": "A-17"})
        );
    }

    #[test]
    fn a_missing_url_or_name_or_an_unknown_method_is_refused() {
        assert!(CustomAction::from_config(&json!({"name": "x"})).is_err());
        assert!(CustomAction::from_config(&json!({"url": "http://h/"})).is_err());
        assert!(CustomAction::from_config(
            &json!({"url": "http://h/", "name": "x", "http_mode": "TRACE"})
        )
        .is_err());
    }
}
