//! `synthflow-check receiver`: a generative contract suite for the endpoints an **integrator**
//! writes and Synthflow calls — the post-call webhook receiver, the inbound-call webhook and
//! custom-action endpoints.
//!
//! Layout, one job per module:
//! - `generate`: seeded payloads (ChaCha8, no clock, no global RNG: a seed gives byte-identical
//!   sequences), plus the probes (another identity, malformed bodies) sent beside each;
//! - `properties`: the named properties and what one answer must satisfy for each;
//! - `shrink`: reduce a failing payload to a minimal one that still fails, re-signed each step;
//! - `config`: what a check is told ([`ReceiverCheck`]);
//! - `run`: send, time, watch the API mock, stop early, decide;
//! - `report`: the text report (with the `curl` replay line) and JUnit XML.
//!
//! [`Endpoint`] holds what differs between the three kinds of endpoint: which member is signed,
//! which fields a payload keeps while shrinking ([`Endpoint::required_fields`]) and how a payload
//! becomes an HTTP request.
//!
//! ```no_run
//! # async fn demo() {
//! use contract_tests::receiver::{check_receiver, Endpoint, ReceiverCheck};
//! let check = ReceiverCheck::new(Endpoint::PostCall, "http://127.0.0.1:9000/hook", "whsec").seed(7);
//! let outcome = check_receiver(check).await.expect("the check starts");
//! println!("{}", outcome.text());
//! assert!(outcome.passed());
//! # }
//! ```

use serde_json::Value;

mod config;
pub mod from_mock;
pub mod generate;
pub mod properties;
pub mod report;
mod run;
pub mod shrink;

pub use config::{ReceiverCheck, RunError};
pub use properties::Property;
pub use report::{Outcome, PropertyResult, Verdict};
pub use run::check_receiver;

/// The default custom-action body: the variables page's example.
pub const DEFAULT_ACTION_TEMPLATE: &str =
    r#"{"id": "{call_id}", "caller": "{user_phone_number}", "dialed_number": "{to_phone_number}"}"#;

/// Which of the integrator's endpoints is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The post-call webhook receiver (`external_webhook_url`): POST of the post-call payload,
    /// signed over `call.call_id`.
    PostCall,
    /// The inbound-call webhook (`inbound_call_webhook_url`): POST of `{"event": "call_inbound",
    /// ...}`, signed over `call_inbound.from_number` (`synthflow::webhook::inbound_signature_payload`).
    Inbound,
    /// A custom action: the method and body template the action was set up with; the payload is
    /// the variables filled into the template (and into `{name}` placeholders in the URL).
    Action(ActionSpec),
}

/// How a custom action calls its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// The body with `{variable}` placeholders (ignored for GET and DELETE).
    pub body_template: String,
    /// Headers sent with every request, `(name, value template)`: the action's `headers` (and
    /// its `custom_auth` in a header), filled like the body. Empty by default.
    pub headers: Vec<(String, String)>,
    /// Query parameters appended to the URL, `(name template, value template)`: the action's
    /// `query_parameters` (and its `custom_auth` in the query). Empty by default.
    pub query: Vec<(String, String)>,
}

impl Default for ActionSpec {
    fn default() -> Self {
        ActionSpec {
            method: "POST".into(),
            body_template: DEFAULT_ACTION_TEMPLATE.into(),
            headers: Vec::new(),
            query: Vec::new(),
        }
    }
}

impl ActionSpec {
    /// Whether requests carry a body: all methods but GET and DELETE, when the template is not
    /// blank (an action without `json_body_stringified` sends none).
    pub fn has_body(&self) -> bool {
        !matches!(self.method.to_ascii_uppercase().as_str(), "GET" | "DELETE")
            && !self.body_template.trim().is_empty()
    }

    /// The placeholders the generator gives a value: the body template's first (in order), then
    /// those of the header values and of the query parameters, without repeats.
    pub fn placeholders(&self) -> Vec<String> {
        let mut names = placeholders(&self.body_template);
        let rest = self.headers.iter().map(|(_, v)| v.as_str()).chain(
            self.query
                .iter()
                .flat_map(|(k, v)| [k.as_str(), v.as_str()]),
        );
        for text in rest {
            for name in placeholders(text) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }
}

/// One request, ready to send (before the signature header is added).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// The body bytes, if the request has one.
    pub body: Option<Vec<u8>>,
    /// Headers besides `Content-Type` and the signature (an action's own headers, filled).
    pub headers: Vec<(String, String)>,
    /// The string the signature is computed over.
    pub signed_over: String,
}

impl Endpoint {
    /// The name used in reports and on the command line: `post-call`, `inbound`, `action`.
    pub fn name(&self) -> &'static str {
        match self {
            Endpoint::PostCall => "post-call",
            Endpoint::Inbound => "inbound",
            Endpoint::Action(_) => "action",
        }
    }

    /// The fields a payload keeps while shrinking, as JSON pointers (every ancestor is kept too).
    /// This is the one definition of "required" the docs (docs/contract-suite.md) repeat:
    /// - post-call: `call`, `call.call_id` (what the signature covers) and `call.status`;
    /// - inbound: `event`, `call_inbound`, `call_inbound.from_number` (signed) and
    ///   `call_inbound.to_number`;
    /// - action: the `call_id` variable.
    pub fn required_fields(&self) -> &'static [&'static str] {
        match self {
            Endpoint::PostCall => &["/call", "/call/call_id", "/call/status"],
            Endpoint::Inbound => &[
                "/event",
                "/call_inbound",
                "/call_inbound/from_number",
                "/call_inbound/to_number",
            ],
            Endpoint::Action(_) => &["/call_id"],
        }
    }

    /// The pointer of the member the signature covers.
    pub fn identity_pointer(&self) -> &'static str {
        match self {
            Endpoint::PostCall => "/call/call_id",
            Endpoint::Inbound => "/call_inbound/from_number",
            Endpoint::Action(_) => "/call_id",
        }
    }

    /// The string the signature of `payload` covers.
    pub fn signed_over(&self, payload: &Value) -> String {
        match self {
            Endpoint::Inbound => synthflow::webhook::inbound_signature_payload(payload).to_owned(),
            _ => payload
                .pointer(self.identity_pointer())
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        }
    }

    /// `payload` with its signed member set to `identity` (a probe for another call).
    pub fn with_identity(&self, payload: &Value, identity: &str) -> Value {
        let mut v = payload.clone();
        if let Some(slot) = v.pointer_mut(self.identity_pointer()) {
            *slot = Value::String(identity.to_owned());
        }
        v
    }

    /// The request that delivers `payload` to `url`.
    pub fn render(&self, url: &str, payload: &Value) -> Delivery {
        let signed_over = self.signed_over(payload);
        match self {
            Endpoint::PostCall | Endpoint::Inbound => Delivery {
                method: "POST".into(),
                url: url.to_owned(),
                // A JSON value in memory always serialises.
                body: Some(serde_json::to_vec(payload).unwrap_or_default()),
                headers: Vec::new(),
                signed_over,
            },
            Endpoint::Action(spec) => {
                let mut url = fill(url, payload, Fill::Url);
                let query: Vec<String> = spec
                    .query
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{}={}",
                            fill(k, payload, Fill::Url),
                            fill(v, payload, Fill::Url)
                        )
                    })
                    .collect();
                if !query.is_empty() {
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.push_str(&query.join("&"));
                }
                Delivery {
                    method: spec.method.to_ascii_uppercase(),
                    url,
                    body: spec
                        .has_body()
                        .then(|| fill(&spec.body_template, payload, Fill::Json).into_bytes()),
                    headers: spec
                        .headers
                        .iter()
                        .map(|(k, v)| (k.trim().to_owned(), fill(v, payload, Fill::Header)))
                        .collect(),
                    signed_over,
                }
            }
        }
    }
}

/// The most characters of one variable filled into a URL.
const URL_VALUE_CHARS: usize = 256;

#[derive(Clone, Copy)]
enum Fill {
    Json,
    Url,
    Header,
}

/// Replaces each placeholder (`{name}`, `{{name}}` or `<name>`; name: ASCII letters, digits,
/// `_` — the forms the vendor's pages show) in `template` with the variable of that name in
/// `vars`: JSON-escaped (without quotes) in a body, percent-encoded in a URL, as is without
/// control characters in a header (as the mock sends it). A placeholder with no variable becomes
/// the empty string; a URL or a header takes at most [`URL_VALUE_CHARS`] characters of a value.
fn fill(template: &str, vars: &Value, mode: Fill) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((start, end, name)) = next_placeholder(rest) {
        out.push_str(&rest[..start]);
        let value = vars.get(name).map(scalar_text).unwrap_or_default();
        match mode {
            Fill::Json => {
                let quoted = Value::String(value).to_string();
                out.push_str(&quoted[1..quoted.len() - 1]);
            }
            // A URL has practical limits (clients and servers refuse very long ones):
            // long values are tested in bodies; in a URL each is cut short.
            Fill::Url => {
                let short: String = value.chars().take(URL_VALUE_CHARS).collect();
                out.push_str(&percent_encode(&short));
            }
            // Servers limit a header's size too (often 8 KB for them all).
            Fill::Header => out.extend(
                value
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(URL_VALUE_CHARS),
            ),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The next placeholder in `s`: its byte range and name.
fn next_placeholder(s: &str) -> Option<(usize, usize, &str)> {
    let bytes = s.as_bytes();
    for i in 0..bytes.len() {
        // `{` and `<` are ASCII, so `i` is a character boundary whenever they match.
        let (open, close) = match bytes[i] {
            b'{' if s[i..].starts_with("{{") => ("{{", "}}"),
            b'{' => ("{", "}"),
            b'<' => ("<", ">"),
            _ => continue,
        };
        let after = &s[i + open.len()..];
        let n = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if n > 0 && after[n..].starts_with(close) {
            return Some((i, i + open.len() + n + close.len(), &after[..n]));
        }
    }
    None
}

/// The text of a variable: a string as is, anything else as JSON (`null` as the empty string).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `s` percent-encoded but for RFC 3986's unreserved characters (a URL path segment or query value).
fn percent_encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

/// The names of the placeholders in a template, in order, without repeats.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some((_, end, name)) = next_placeholder(rest) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
        rest = &rest[end..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_action_template_is_filled_json_escaped_and_the_url_percent_encoded() {
        let e = Endpoint::Action(ActionSpec::default());
        let vars =
            json!({"call_id": "c\"1", "user_phone_number": "+1 555", "to_phone_number": null});
        let d = e.render("http://h/orders/{call_id}", &vars);
        let body: Value = serde_json::from_slice(d.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"id": "c\"1", "caller": "+1 555", "dialed_number": ""})
        );
        assert_eq!(d.url, "http://h/orders/c%221");
        assert_eq!(d.signed_over, "c\"1");
    }

    #[test]
    fn an_actions_headers_and_query_are_filled_and_their_placeholders_generated() {
        let spec = ActionSpec {
            method: "PUT".into(),
            body_template: r#"{"id": "{call_id}"}"#.into(),
            headers: vec![("X-Caller".into(), "<user_phone_number>".into())],
            query: vec![("src".into(), "{{source}}".into())],
        };
        assert_eq!(
            spec.placeholders(),
            ["call_id", "user_phone_number", "source"]
        );
        let vars = json!({"call_id": "c-1", "user_phone_number": "+1 555\n", "source": "a b"});
        let d = Endpoint::Action(spec.clone()).render("http://h/x?y=1", &vars);
        assert_eq!(d.method, "PUT");
        assert_eq!(d.url, "http://h/x?y=1&src=a%20b");
        assert_eq!(d.headers, [("X-Caller".to_owned(), "+1 555".to_owned())]);
        // A blank template sends no body.
        let blank = ActionSpec {
            body_template: " ".into(),
            ..spec
        };
        assert!(!blank.has_body());
    }

    #[test]
    fn placeholders_are_listed_once_and_json_braces_are_not_placeholders() {
        assert_eq!(
            placeholders(r#"{"a": "{x}", "b": {"c": "{y}{x}"}}"#),
            ["x", "y"]
        );
        // The other forms the vendor's pages show, and text that only looks like one.
        assert_eq!(
            placeholders(
                r#"{"n": "<first_name>", "m": "{{email}}", "t": "a < b > c", "u": "{ x }"}"#
            ),
            ["first_name", "email"]
        );
        let vars = serde_json::json!({"first_name": "Zoë", "email": "a@b"});
        assert_eq!(
            fill("<first_name>/{{email}}/{first_name}", &vars, Fill::Json),
            "Zoë/a@b/Zoë"
        );
    }

    #[test]
    fn the_inbound_signature_covers_from_number() {
        let p = json!({"event": "call_inbound", "call_inbound": {"from_number": "+1", "to_number": "+2"}});
        assert_eq!(Endpoint::Inbound.signed_over(&p), "+1");
        let q = Endpoint::Inbound.with_identity(&p, "+3");
        assert_eq!(Endpoint::Inbound.signed_over(&q), "+3");
    }
}
