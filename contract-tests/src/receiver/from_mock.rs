//! A custom action read from a running mock (`synthflow-check receiver action --from-mock URL
//! --action-id ID | --model-id ID`): `GET {URL}/v2/actions/{action_id}` (or the agent's first
//! attached `CUSTOM_ACTION`, from `GET {URL}/v2/assistants/{model_id}?include_actions=true`), and
//! its `CUSTOM_ACTION` object turned into what the receiver check sends: the method
//! (`http_mode`, GET when absent, as the mock plays it), the URL, the headers, the query
//! parameters and the body template (`json_body_stringified`); `custom_auth` with `is_needed` is
//! one more header (`Authorization: <key> <value>`) or query parameter, as the mock sends it.

use std::fmt;

use serde_json::Value;

use super::ActionSpec;

/// Which action to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionRef {
    /// The action with this `action_id`.
    Action(String),
    /// The first `CUSTOM_ACTION` attached to the agent with this `model_id`.
    Agent(String),
}

/// A custom action as the mock holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockAction {
    /// Its `action_id`.
    pub action_id: String,
    /// Its `name`.
    pub name: String,
    /// Its `url` (a template).
    pub url: String,
    /// Method, body template, headers and query parameters.
    pub spec: ActionSpec,
}

/// Why the action could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromMockError {
    /// No answer from the mock (or the URL is not one).
    Unreachable {
        /// The URL asked.
        url: String,
        /// Why.
        reason: String,
    },
    /// The mock knows no action with this id.
    UnknownAction(String),
    /// The mock knows no agent with this id.
    UnknownAgent(String),
    /// The action is of another kind.
    NotCustomAction {
        /// Its id.
        action_id: String,
        /// Its `action_type`.
        kind: String,
    },
    /// The agent has no `CUSTOM_ACTION` attached.
    NoCustomAction {
        /// The agent's id.
        model_id: String,
        /// The kinds of what is attached.
        attached: Vec<String>,
    },
    /// Any other answer (a refused token, a body that is not the vendor's shape, a
    /// `CUSTOM_ACTION` the check cannot use).
    Unexpected(String),
}

impl fmt::Display for FromMockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FromMockError::Unreachable { url, reason } => {
                write!(f, "the mock did not answer GET {url}: {reason}")
            }
            FromMockError::UnknownAction(id) => write!(f, "the mock has no action {id:?}"),
            FromMockError::UnknownAgent(id) => write!(f, "the mock has no agent {id:?}"),
            FromMockError::NotCustomAction { action_id, kind } => write!(
                f,
                "action {action_id:?} is a {kind}, not a CUSTOM_ACTION: only a custom action calls an endpoint of yours"
            ),
            FromMockError::NoCustomAction { model_id, attached } => write!(
                f,
                "agent {model_id:?} has no CUSTOM_ACTION attached (attached: {})",
                if attached.is_empty() {
                    "none".to_owned()
                } else {
                    attached.join(", ")
                }
            ),
            FromMockError::Unexpected(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for FromMockError {}

/// Reads `what` from the mock at `base` (`http://HOST:PORT`; a trailing `/v2` is taken off),
/// sending `Authorization: Bearer {token}`.
pub async fn action_from_mock(
    base: &str,
    token: &str,
    what: &ActionRef,
) -> Result<MockAction, FromMockError> {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/v2").unwrap_or(base);
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| FromMockError::Unexpected(format!("cannot build the HTTP client: {e}")))?;
    let client = Mock { http, base, token };
    match what {
        ActionRef::Action(id) => {
            let action = client.action(id).await?;
            custom(id, &action)
        }
        ActionRef::Agent(model_id) => {
            let url = format!(
                "{base}/v2/assistants/{}?include_actions=true",
                segment(model_id)
            );
            let body = client
                .get(&url, || FromMockError::UnknownAgent(model_id.clone()))
                .await?;
            let ids: Vec<String> = body
                .pointer("/response/assistants/0/actions")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    FromMockError::Unexpected(format!(
                        "GET {url}: no response.assistants[0].actions in the answer"
                    ))
                })?
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let mut attached = Vec::new();
            for id in ids {
                let action = client.action(&id).await?;
                match kind(&action) {
                    "CUSTOM_ACTION" => return custom(&id, &action),
                    other => attached.push(format!("{id} ({other})")),
                }
            }
            Err(FromMockError::NoCustomAction {
                model_id: model_id.clone(),
                attached,
            })
        }
    }
}

struct Mock<'a> {
    http: reqwest::Client,
    base: &'a str,
    token: &'a str,
}

impl Mock<'_> {
    /// `response.actions[0]` of `GET /v2/actions/{id}`.
    async fn action(&self, id: &str) -> Result<Value, FromMockError> {
        let url = format!("{}/v2/actions/{}", self.base, segment(id));
        let mut body = self
            .get(&url, || FromMockError::UnknownAction(id.to_owned()))
            .await?;
        match body.pointer_mut("/response/actions/0") {
            Some(a) => Ok(a.take()),
            None => Err(FromMockError::Unexpected(format!(
                "GET {url}: no response.actions[0] in the answer"
            ))),
        }
    }

    /// The JSON answer of `GET url`; a 400 or 404 is `unknown()` (the mock answers an unknown
    /// id with the vendor's 400).
    async fn get(
        &self,
        url: &str,
        unknown: impl FnOnce() -> FromMockError,
    ) -> Result<Value, FromMockError> {
        let unreachable = |e: reqwest::Error| FromMockError::Unreachable {
            url: url.to_owned(),
            reason: error_chain(e),
        };
        let resp = self
            .http
            .get(url)
            .bearer_auth(self.token)
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(unreachable)?;
        match status {
            200..=299 => serde_json::from_slice(&bytes).map_err(|e| {
                FromMockError::Unexpected(format!("GET {url}: the answer is not JSON: {e}"))
            }),
            400 | 404 => Err(unknown()),
            _ => {
                let text = String::from_utf8_lossy(&bytes);
                let short: String = text.chars().take(300).collect();
                Err(FromMockError::Unexpected(format!(
                    "GET {url}: HTTP {status}: {short}"
                )))
            }
        }
    }
}

fn kind(action: &Value) -> &str {
    action
        .get("action_type")
        .and_then(Value::as_str)
        .unwrap_or("(no action_type)")
}

/// The check's view of a listed action, which must be a `CUSTOM_ACTION`.
fn custom(id: &str, action: &Value) -> Result<MockAction, FromMockError> {
    if kind(action) != "CUSTOM_ACTION" {
        return Err(FromMockError::NotCustomAction {
            action_id: id.to_owned(),
            kind: kind(action).to_owned(),
        });
    }
    let config = action.get("CUSTOM_ACTION").ok_or_else(|| {
        FromMockError::Unexpected(format!("action {id:?}: no CUSTOM_ACTION object"))
    })?;
    let text = |k: &str| config.get(k).and_then(Value::as_str);
    let method = text("http_mode").unwrap_or("GET").to_ascii_uppercase();
    if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
        return Err(FromMockError::Unexpected(format!(
            "action {id:?}: http_mode {method:?} is not a method the check sends"
        )));
    }
    let url = text("url")
        .ok_or_else(|| FromMockError::Unexpected(format!("action {id:?}: no url")))?
        .to_owned();
    let mut headers = pairs(config.get("headers"));
    let mut query = pairs(config.get("query_parameters"));
    if let Some(auth) = config.get("custom_auth") {
        if auth.get("is_needed").and_then(Value::as_bool) == Some(true) {
            let field =
                |k: &str, d: &str| auth.get(k).and_then(Value::as_str).unwrap_or(d).to_owned();
            let (key, value) = (field("key", "Bearer"), field("value", ""));
            if field("location", "header").eq_ignore_ascii_case("query") {
                query.push((key, value));
            } else {
                headers.retain(|(n, _)| !n.trim().eq_ignore_ascii_case("authorization"));
                headers.push(("Authorization".to_owned(), format!("{key} {value}")));
            }
        }
    }
    Ok(MockAction {
        action_id: id.to_owned(),
        name: text("name").unwrap_or_default().to_owned(),
        url,
        spec: ActionSpec {
            method,
            body_template: text("json_body_stringified").unwrap_or_default().to_owned(),
            headers,
            query,
        },
    })
}

/// `[{"key": K, "value": V}, ...]` as pairs (a value that is not a string as its JSON text).
fn pairs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let key = i.get("key")?.as_str()?.to_owned();
            let value = match i.get("value")? {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((key, value))
        })
        .collect()
}

/// An id as one path segment.
fn segment(id: &str) -> String {
    super::percent_encode(id)
}

/// The error and its causes.
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_custom_action_gives_its_method_headers_query_body_and_auth() {
        let listed = json!({
            "action_id": "a-1",
            "action_type": "CUSTOM_ACTION",
            "CUSTOM_ACTION": {
                "http_mode": "put",
                "url": "http://127.0.0.1:9/orders/{call_id}",
                "name": "lookup",
                "headers": [{"key": "X-Caller", "value": "<user_phone_number>"}],
                "query_parameters": [{"key": "n", "value": 3}],
                "json_body_stringified": "{\"id\": \"{call_id}\"}",
                "custom_auth": {"is_needed": true, "key": "Bearer", "value": "tok"}
            }
        });
        let a = custom("a-1", &listed).unwrap();
        assert_eq!(a.url, "http://127.0.0.1:9/orders/{call_id}");
        assert_eq!(a.name, "lookup");
        assert_eq!(a.spec.method, "PUT");
        assert_eq!(
            a.spec.headers,
            [
                ("X-Caller".to_owned(), "<user_phone_number>".to_owned()),
                ("Authorization".to_owned(), "Bearer tok".to_owned())
            ]
        );
        assert_eq!(a.spec.query, [("n".to_owned(), "3".to_owned())]);
        assert_eq!(a.spec.body_template, "{\"id\": \"{call_id}\"}");
        let other = json!({"action_type": "SEND_SMS", "SEND_SMS": {}});
        assert_eq!(
            custom("s-1", &other),
            Err(FromMockError::NotCustomAction {
                action_id: "s-1".into(),
                kind: "SEND_SMS".into()
            })
        );
    }
}
