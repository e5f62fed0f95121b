//! Checks a request body for the agents and actions endpoints against the vendor's own request
//! schema (`spec/synthflow-openapi.json`, vendored unchanged and embedded here), plus the mock's
//! limits: JSON depth at most [`MAX_DEPTH`], names at most [`MAX_NAME_CHARS`] characters.
//!
//! Why interpret the document rather than hand-write a type per action kind: the document declares
//! eight action kinds and some sixty agent fields, each with types, enums and required members;
//! reading them from the document keeps the mock's refusals exactly as wide as the vendor's
//! declaration (schemathesis' `negative_data_rejection` checks that), and a new field in a newer
//! copy of the document is checked without code. The interpreter knows the keywords the document
//! uses: `$ref`, `type` (one or a list), `enum`, `properties`, `required`, `items`,
//! `additionalProperties`, `oneOf`, `anyOf`, `allOf`, and `format: date`. Every refusal names the
//! field by its path (`CUSTOM_ACTION.custom_auth.is_needed: must be a boolean, not a string`).

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The vendor's whole OpenAPI document, unchanged (`spec/synthflow-openapi.json`).
pub const VENDOR_DOCUMENT: &str = include_str!("../../../spec/synthflow-openapi.json");

/// The deepest nesting a body may have (objects and arrays), as a DoS bound.
pub const MAX_DEPTH: usize = 32;

/// The longest `name` (agent name, custom action name, extractor identifier), in characters.
pub const MAX_NAME_CHARS: usize = 1_000;

/// The fields [`MAX_NAME_CHARS`] applies to, wherever they are.
const NAME_FIELDS: [&str; 2] = ["name", "identifier"];

/// Why a body is refused: the sentence the 400 says (it names the field).
pub type FieldError = String;

/// The parsed document (parsed once, on first use).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(VENDOR_DOCUMENT).expect("the vendored document is JSON")
    })
}

/// The request body schema of an operation (`path` as the document spells it, `method` lower case).
pub fn request_schema(path: &str, method: &str) -> &'static Value {
    let ptr = format!(
        "/paths/{}/{method}/requestBody/content/application~1json/schema",
        path.replace('~', "~0").replace('/', "~1")
    );
    document()
        .pointer(&ptr)
        .unwrap_or_else(|| panic!("the vendored document has no request body for {method} {path}"))
}

/// Parses `body` and checks it: JSON, an object, depth, then the operation's request schema.
pub fn parse_body(body: &[u8], path: &str, method: &str) -> Result<Map<String, Value>, FieldError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            format!("request body is nested deeper than {MAX_DEPTH} levels")
        } else {
            format!("request body is not valid JSON: {e}")
        }
    })?;
    check_value(&value, request_schema(path, method))?;
    match value {
        Value::Object(obj) => Ok(obj),
        other => Err(format!(
            "request body must be a JSON object, not {}",
            kind_of(&other)
        )),
    }
}

/// Checks an already parsed value: depth, names, then `schema`.
pub fn check_value(value: &Value, schema: &Value) -> Result<(), FieldError> {
    if depth(value) > MAX_DEPTH {
        return Err(format!(
            "request body is nested deeper than {MAX_DEPTH} levels"
        ));
    }
    check_names(value, "")?;
    check(value, schema, "")
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn check_names(v: &Value, at: &str) -> Result<(), FieldError> {
    match v {
        Value::Object(o) => o.iter().try_for_each(|(k, v)| {
            let here = join(at, k);
            if let (true, Value::String(s)) = (NAME_FIELDS.contains(&k.as_str()), v) {
                let n = s.chars().count();
                if n > MAX_NAME_CHARS {
                    return Err(format!(
                        "{here}: at most {MAX_NAME_CHARS} characters, not {n}"
                    ));
                }
            }
            check_names(v, &here)
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_names(v, &format!("{at}[{i}]"))),
        _ => Ok(()),
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    // A chain of refs is short in this document; the bound stops a cycle.
    for _ in 0..16 {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| document().pointer(p)) {
                Some(target) => s = target,
                None => return s,
            },
            None => return s,
        }
    }
    s
}

fn field_name(at: &str) -> &str {
    if at.is_empty() {
        "request body"
    } else {
        at
    }
}

/// Checks `v` against `schema` (the keywords the module docs name), `at` being its path.
fn check(v: &Value, schema: &Value, at: &str) -> Result<(), FieldError> {
    let schema = resolve(schema);
    let name = field_name(at);
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| is_type(v, t)) {
            return Err(format!(
                "{name}: must be {}, not {}",
                types
                    .iter()
                    .map(|t| article(t))
                    .collect::<Vec<_>>()
                    .join(" or "),
                kind_of(v)
            ));
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum") {
        if !allowed.contains(v) {
            let shown: Vec<String> = allowed.iter().take(8).map(Value::to_string).collect();
            let more = if allowed.len() > 8 { ", ..." } else { "" };
            return Err(format!(
                "{name}: must be one of {}{more}, not {}",
                shown.join(", "),
                short(v)
            ));
        }
    }
    if let (Some("date"), Value::String(s)) = (schema.get("format").and_then(Value::as_str), v) {
        if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() {
            return Err(format!(
                "{name}: must be a date (YYYY-MM-DD), not {}",
                short(v)
            ));
        }
    }
    if let Value::Object(obj) = v {
        check_object(obj, schema, at)?;
    }
    if let (Value::Array(items), Some(item_schema)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(item, item_schema, &format!("{at}[{i}]"))?;
        }
    }
    if let Some(Value::Array(all)) = schema.get("allOf") {
        for s in all {
            check(v, s, at)?;
        }
    }
    if let Some(Value::Array(any)) = schema.get("anyOf") {
        let errors: Vec<FieldError> = any.iter().filter_map(|s| check(v, s, at).err()).collect();
        if errors.len() == any.len() && !any.is_empty() {
            return Err(errors.into_iter().next().unwrap_or_default());
        }
    }
    if let Some(Value::Array(one)) = schema.get("oneOf") {
        let results: Vec<Result<(), FieldError>> = one.iter().map(|s| check(v, s, at)).collect();
        let ok = results.iter().filter(|r| r.is_ok()).count();
        if ok > 1 {
            return Err(format!(
                "{name}: matches more than one of the {} forms the document allows (oneOf)",
                one.len()
            ));
        }
        if ok == 0 {
            let first = results
                .into_iter()
                .find_map(Result::err)
                .unwrap_or_default();
            return Err(format!(
                "{name}: matches none of the {} forms the document allows (first: {first})",
                one.len()
            ));
        }
    }
    Ok(())
}

fn check_object(obj: &Map<String, Value>, schema: &Value, at: &str) -> Result<(), FieldError> {
    if let Some(Value::Array(required)) = schema.get("required") {
        let missing: Vec<&str> = required
            .iter()
            .filter_map(Value::as_str)
            .filter(|k| !obj.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            let fields: Vec<String> = missing.iter().map(|k| join(at, k)).collect();
            return Err(format!("{}: field required", fields.join(", ")));
        }
    }
    let props = schema.get("properties").and_then(Value::as_object);
    for (k, value) in obj {
        match props.and_then(|p| p.get(k)) {
            Some(s) => check(value, s, &join(at, k))?,
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    return Err(format!("{}: unknown field", join(at, k)));
                }
                Some(s @ Value::Object(_)) => check(value, s, &join(at, k))?,
                _ => {}
            },
        }
    }
    Ok(())
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => true,
    }
}

fn article(t: &str) -> String {
    match t {
        "null" => "null".to_owned(),
        "array" => "a list".to_owned(),
        "object" | "integer" => format!("an {t}"),
        other => format!("a {other}"),
    }
}

/// How a value is named in a refusal.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value as quoted in a refusal, cut to 40 characters.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

/// `url` is an absolute `http`/`https` URL with a host.
pub fn is_http_url(url: &str) -> bool {
    url.parse::<http::Uri>()
        .ok()
        .is_some_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_agent(body: &str) -> Result<Map<String, Value>, FieldError> {
        parse_body(body.as_bytes(), "/assistants", "post")
    }

    #[test]
    fn a_minimal_agent_passes_and_missing_fields_are_named() {
        assert!(create_agent(r#"{"type":"outbound","name":"n","agent":{}}"#).is_ok());
        let e = create_agent(r#"{"name":"n"}"#).unwrap_err();
        assert!(
            e.contains("type") && e.contains("agent") && e.contains("field required"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_and_enums_name_the_field() {
        let e = create_agent(r#"{"type":"outbound","name":"n","agent":{"llm":7}}"#).unwrap_err();
        assert!(e.starts_with("agent.llm: must be a string"), "{e}");
        let e = create_agent(r#"{"type":"sideways","name":"n","agent":{}}"#).unwrap_err();
        assert!(e.starts_with("type: must be one of"), "{e}");
        let e = create_agent(r#"{"type":"outbound","name":"n","agent":{},"is_recording":"yes"}"#)
            .unwrap_err();
        assert!(e.starts_with("is_recording: must be a boolean"), "{e}");
    }

    #[test]
    fn long_names_and_deep_bodies_are_refused() {
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        let e = create_agent(&format!(
            r#"{{"type":"outbound","name":"{long}","agent":{{}}}}"#
        ))
        .unwrap_err();
        assert!(e.starts_with("name: at most 1000 characters"), "{e}");
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        let e = create_agent(&format!(
            r#"{{"type":"outbound","name":"n","agent":{{}},"x":{deep}}}"#
        ))
        .unwrap_err();
        assert!(e.contains("deeper than 32"), "{e}");
    }

    #[test]
    fn custom_action_fields_are_checked_from_the_document() {
        let ok = br#"{"CUSTOM_ACTION":{"http_mode":"POST","url":"https://x.test/a","name":"n","run_action_before_call_start":false}}"#;
        assert!(parse_body(ok, "/actions", "post").is_ok());
        let bad = br#"{"CUSTOM_ACTION":{"http_mode":"YELL","url":"https://x.test/a","name":"n","run_action_before_call_start":false}}"#;
        let e = parse_body(bad, "/actions", "post").unwrap_err();
        assert!(
            e.starts_with("CUSTOM_ACTION.http_mode: must be one of"),
            "{e}"
        );
    }
}
