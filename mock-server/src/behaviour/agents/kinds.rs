//! The eight action kinds of `POST /v2/actions`, and what a create or update body must hold
//! beyond the document's schema (checked by [`super::validate`] first).
//!
//! Every kind is accepted and stored. `CUSTOM_ACTION` and `INFORMATION_EXTRACTOR` are the ones a
//! call plays (the next step of the mock calls the custom action's URL and fills the extractor's
//! answer), so their bodies are checked to the point where playing them cannot fail on their
//! shape: the URL is an absolute http(s) URL once `<variable>` placeholders are filled, the JSON
//! body template is JSON once they are, header and query keys are not empty, custom auth has a
//! value when needed, the timeout is positive, and an extractor asks exactly one question (a
//! single choice with at least one choice).

use serde_json::{Map, Value};

use super::validate::{is_http_url, FieldError};

/// Every kind the document declares, in its order.
pub const KINDS: [&str; 8] = [
    "REAL_TIME_BOOKING",
    "INFORMATION_EXTRACTOR",
    "LIVE_TRANSFER",
    "SEND_SMS",
    "INCALL_SMS",
    "INCALL_WHATSAPP",
    "CUSTOM_ACTION",
    "CUSTOM_EVAL",
];

/// The extractor's three question forms.
const QUESTIONS: [&str; 3] = ["YES_NO", "SINGLE_CHOICE", "OPEN_QUESTION"];

/// The one kind a create or update body names, and its object. The document lets a body hold
/// any of the kind keys; one action has one kind, so exactly one must be there, and no other key.
pub fn kind_of_body(body: &Map<String, Value>) -> Result<(String, Value), FieldError> {
    if let Some(unknown) = body.keys().find(|k| !KINDS.contains(&k.as_str())) {
        return Err(format!(
            "{unknown}: unknown action kind (one of {})",
            KINDS.join(", ")
        ));
    }
    let mut kinds = body.iter();
    match (kinds.next(), kinds.next()) {
        (Some((k, v)), None) => {
            check_kind(k, v)?;
            Ok((k.clone(), v.clone()))
        }
        (None, _) => Err(format!(
            "request body: names no action kind (one of {})",
            KINDS.join(", ")
        )),
        (Some((a, _)), Some((b, _))) => Err(format!(
            "request body: names two action kinds ({a}, {b}); an action has one"
        )),
    }
}

/// The checks beyond the document for `kind`'s object (see the module docs).
pub fn check_kind(kind: &str, config: &Value) -> Result<(), FieldError> {
    let Some(obj) = config.as_object() else {
        return Err(format!("{kind}: must be an object"));
    };
    match kind {
        "CUSTOM_ACTION" => custom_action(obj),
        "INFORMATION_EXTRACTOR" => extractor(obj),
        _ => Ok(()),
    }
}

/// `<name>` placeholders filled with `0`, so a template can be checked as a URL or JSON.
fn filled(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('<') {
        match rest[start..].find('>') {
            Some(len) => {
                out.push_str(&rest[..start]);
                out.push('0');
                rest = &rest[start + len + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

fn custom_action(obj: &Map<String, Value>) -> Result<(), FieldError> {
    let url = obj.get("url").and_then(Value::as_str).unwrap_or("");
    if !is_http_url(&filled(url)) {
        return Err(format!(
            "CUSTOM_ACTION.url: must be an http or https URL (placeholders like <name> allowed), not {url:?}"
        ));
    }
    if let Some(name) = obj.get("name").and_then(Value::as_str) {
        if name.trim().is_empty() {
            return Err("CUSTOM_ACTION.name: must not be empty".to_owned());
        }
    }
    if let Some(body) = obj.get("json_body_stringified").and_then(Value::as_str) {
        if !body.trim().is_empty() {
            if let Err(e) = serde_json::from_str::<Value>(&filled(body)) {
                return Err(format!(
                    "CUSTOM_ACTION.json_body_stringified: must be JSON (placeholders like <name> allowed): {e}"
                ));
            }
        }
    }
    for list in ["headers", "query_parameters"] {
        if let Some(Value::Array(items)) = obj.get(list) {
            for (i, item) in items.iter().enumerate() {
                let key = item.get("key").and_then(Value::as_str).unwrap_or("");
                if key.trim().is_empty() {
                    return Err(format!("CUSTOM_ACTION.{list}[{i}].key: must not be empty"));
                }
            }
        }
    }
    if let Some(auth) = obj.get("custom_auth") {
        let needed = auth.get("is_needed").and_then(Value::as_bool) == Some(true);
        let value = auth.get("value").and_then(Value::as_str).unwrap_or("");
        if needed && value.is_empty() {
            return Err(
                "CUSTOM_ACTION.custom_auth.value: required when custom_auth.is_needed is true"
                    .to_owned(),
            );
        }
    }
    if let Some(t) = obj.get("failure_timeout").and_then(Value::as_i64) {
        if t <= 0 {
            return Err(format!(
                "CUSTOM_ACTION.failure_timeout: must be positive, not {t}"
            ));
        }
    }
    Ok(())
}

fn extractor(obj: &Map<String, Value>) -> Result<(), FieldError> {
    let asked: Vec<&str> = QUESTIONS
        .iter()
        .copied()
        .filter(|q| obj.contains_key(*q))
        .collect();
    match asked.as_slice() {
        [_] => {}
        [] => {
            return Err(format!(
                "INFORMATION_EXTRACTOR: names no question (one of {})",
                QUESTIONS.join(", ")
            ))
        }
        many => {
            return Err(format!(
                "INFORMATION_EXTRACTOR: names {} questions ({}); an extractor asks one",
                many.len(),
                many.join(", ")
            ))
        }
    }
    let q = asked[0];
    let identifier = obj[q]
        .get("identifier")
        .and_then(Value::as_str)
        .unwrap_or("");
    if identifier.trim().is_empty() {
        return Err(format!(
            "INFORMATION_EXTRACTOR.{q}.identifier: must not be empty"
        ));
    }
    if q == "SINGLE_CHOICE" {
        let n = obj[q]
            .get("choices")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if n == 0 {
            return Err(
                "INFORMATION_EXTRACTOR.SINGLE_CHOICE.choices: at least one choice".to_owned(),
            );
        }
    }
    Ok(())
}

/// The name an action is listed under (see [`super::Action::name`]).
pub fn display_name(kind: &str, config: &Value) -> String {
    let from = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let name = match kind {
        "CUSTOM_ACTION" => from(config.get("name")),
        "INFORMATION_EXTRACTOR" => QUESTIONS
            .iter()
            .find_map(|q| from(config.get(*q).and_then(|o| o.get("identifier")))),
        _ => None,
    };
    name.unwrap_or_else(|| kind.to_ascii_lowercase())
}

/// The description an action is listed under, if its object has one.
pub fn description(kind: &str, config: &Value) -> String {
    let d = match kind {
        "INFORMATION_EXTRACTOR" => QUESTIONS
            .iter()
            .find_map(|q| config.get(*q).and_then(|o| o.get("description"))),
        _ => config
            .get("description")
            .or_else(|| config.get("instructions")),
    };
    d.and_then(Value::as_str).unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn one_known_kind_is_required() {
        let e = kind_of_body(&body(json!({"TELEPATHY": {}}))).unwrap_err();
        assert!(e.starts_with("TELEPATHY: unknown action kind"), "{e}");
        assert!(kind_of_body(&body(json!({})))
            .unwrap_err()
            .contains("names no action kind"));
        let two = json!({"SEND_SMS": {}, "CUSTOM_EVAL": {}});
        assert!(kind_of_body(&body(two))
            .unwrap_err()
            .contains("two action kinds"));
    }

    #[test]
    fn a_custom_action_url_and_body_template_must_be_usable() {
        let ok = json!({"url": "https://crm.test/leads/<lead_id>", "json_body_stringified": "{\"n\": <n>, \"s\": \"<s>\"}"});
        assert!(check_kind("CUSTOM_ACTION", &ok).is_ok());
        let e = check_kind("CUSTOM_ACTION", &json!({"url": "ftp://x"})).unwrap_err();
        assert!(e.starts_with("CUSTOM_ACTION.url"), "{e}");
        let e = check_kind(
            "CUSTOM_ACTION",
            &json!({"url": "http://x.test", "json_body_stringified": "{nope"}),
        )
        .unwrap_err();
        assert!(e.starts_with("CUSTOM_ACTION.json_body_stringified"), "{e}");
        let e = check_kind(
            "CUSTOM_ACTION",
            &json!({"url": "http://x.test", "custom_auth": {"is_needed": true}}),
        )
        .unwrap_err();
        assert!(e.starts_with("CUSTOM_ACTION.custom_auth.value"), "{e}");
    }

    #[test]
    fn an_extractor_asks_exactly_one_question() {
        let ok = json!({"OPEN_QUESTION": {"identifier": "purchase"}});
        assert!(check_kind("INFORMATION_EXTRACTOR", &ok).is_ok());
        assert_eq!(display_name("INFORMATION_EXTRACTOR", &ok), "purchase");
        let e = check_kind(
            "INFORMATION_EXTRACTOR",
            &json!({"SINGLE_CHOICE": {"identifier": "c"}}),
        )
        .unwrap_err();
        assert!(e.contains("at least one choice"), "{e}");
        assert!(check_kind("INFORMATION_EXTRACTOR", &json!({})).is_err());
    }
}
