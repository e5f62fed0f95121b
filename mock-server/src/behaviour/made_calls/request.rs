//! The body of `POST /v2/calls`, read strictly enough to name the field that is wrong.
//!
//! The vendor's schema (`required: [model_id, phone, name]`, every field a string,
//! `custom_variables` a list of `{key, value}`) plus `external_webhook_url`, documented in prose
//! only. Unknown fields are ignored; `null` counts as absent for an optional field. Where the
//! vendor is silent the mock assumes: a required string must not be empty, and
//! `external_webhook_url` must be an `http(s)` URL (something has to be delivered to it).

use serde_json::{Map, Value};

/// A valid `POST /v2/calls` body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MakeCallRequest {
    /// The agent.
    pub model_id: String,
    /// The number to call.
    pub phone: String,
    /// The person called.
    pub name: String,
    /// Caller id.
    pub from_phone_number: Option<String>,
    /// Pre-call variables, in order.
    pub custom_variables: Vec<(String, String)>,
    /// The person's email.
    pub lead_email: Option<String>,
    /// The person's time zone.
    pub lead_timezone: Option<String>,
    /// Per-call prompt override.
    pub prompt: Option<String>,
    /// Per-call greeting override.
    pub greeting: Option<String>,
    /// Where the post-call webhook goes.
    pub external_webhook_url: Option<String>,
}

/// Why a body is refused: the sentence the 400 says (it names the field).
pub type FieldError = String;

impl MakeCallRequest {
    /// Reads a body (bytes as received).
    pub fn parse(body: &[u8]) -> Result<MakeCallRequest, FieldError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| format!("request body is not valid JSON: {e}"))?;
        let Value::Object(obj) = value else {
            return Err(format!(
                "request body must be a JSON object, not {}",
                kind_of(&value)
            ));
        };
        let custom_variables = match obj.get("custom_variables") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| variable(i, item))
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(format!(
                    "custom_variables: must be a list of {{\"key\", \"value\"}} objects, not {}",
                    kind_of(other)
                ))
            }
        };
        let external_webhook_url = optional(&obj, "external_webhook_url")?;
        if let Some(url) = &external_webhook_url {
            let ok = url.parse::<http::Uri>().ok().is_some_and(|u| {
                matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some()
            });
            if !ok {
                return Err(format!(
                    "external_webhook_url: must be an http or https URL, not {url:?}"
                ));
            }
        }
        Ok(MakeCallRequest {
            model_id: required(&obj, "model_id")?,
            phone: required(&obj, "phone")?,
            name: required(&obj, "name")?,
            from_phone_number: optional(&obj, "from_phone_number")?,
            custom_variables,
            lead_email: optional(&obj, "lead_email")?,
            lead_timezone: optional(&obj, "lead_timezone")?,
            prompt: optional(&obj, "prompt")?,
            greeting: optional(&obj, "greeting")?,
            external_webhook_url,
        })
    }

    /// `custom_variables` as the call record's `prompt_variables` (a later key wins).
    pub fn prompt_variables(&self) -> Map<String, Value> {
        self.custom_variables
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect()
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn required(obj: &Map<String, Value>, field: &str) -> Result<String, FieldError> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(format!("{field}: field required")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("{field}: must not be empty")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("{field}: must be a string, not {}", kind_of(other))),
    }
}

fn optional(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, FieldError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{field}: must be a string, not {}", kind_of(other))),
    }
}

fn variable(i: usize, item: &Value) -> Result<(String, String), FieldError> {
    let Value::Object(o) = item else {
        return Err(format!(
            "custom_variables[{i}]: must be an object with \"key\" and \"value\", not {}",
            kind_of(item)
        ));
    };
    let get = |k: &str| match o.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(format!("custom_variables[{i}].{k}: field required")),
        Some(other) => Err(format!(
            "custom_variables[{i}].{k}: must be a string, not {}",
            kind_of(other)
        )),
    };
    Ok((get("key")?, get("value")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_example_body_is_read() {
        let r = MakeCallRequest::parse(
            br#"{"model_id":"m","phone":"+12345678987","name":"John",
                "from_phone_number":"+15555550100",
                "custom_variables":[{"key":"Company","value":"Synthflow"},{"key":"Role","value":"Sales Specialist"}],
                "prompt":"p","greeting":"g","external_webhook_url":"https://example.com/hook","other":1}"#,
        )
        .unwrap();
        assert_eq!(r.name, "John");
        assert_eq!(r.custom_variables.len(), 2);
        assert_eq!(r.prompt_variables()["Role"], "Sales Specialist");
        assert_eq!(
            r.external_webhook_url.as_deref(),
            Some("https://example.com/hook")
        );
    }

    #[test]
    fn each_refusal_names_its_field() {
        let cases: [(&[u8], &str); 9] = [
            (br#"{"phone":"1","name":"n"}"#, "model_id: field required"),
            (br#"{"model_id":"m","name":"n"}"#, "phone: field required"),
            (br#"{"model_id":"m","phone":"1"}"#, "name: field required"),
            (br#"{"model_id":1,"phone":"1","name":"n"}"#, "model_id: must be a string"),
            (br#"{"model_id":"m","phone":"1","name":"n","lead_email":true}"#, "lead_email:"),
            (br#"{"model_id":"m","phone":"1","name":"n","custom_variables":{}}"#, "custom_variables:"),
            (br#"{"model_id":"m","phone":"1","name":"n","custom_variables":[{"key":"k","value":2}]}"#, "custom_variables[0].value"),
            (b"[1]", "JSON object"),
            (b"{nope", "not valid JSON"),
        ];
        for (body, want) in cases {
            let e = MakeCallRequest::parse(body).unwrap_err();
            assert!(e.contains(want), "{}: {e}", String::from_utf8_lossy(body));
        }
    }
}
