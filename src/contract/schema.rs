//! JSON Schema validators built from the vendored OpenAPI document, never hand-written.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, so each validator is the document's `components`
//! under a root whose `$ref` names the response schema; the document's internal `$ref`s resolve
//! against that root. Built once per process.
//!
//! The document contradicts itself once, and the checks follow its words over its type there: see
//! [`ERRATA`]. The vendored file itself stays unchanged.

use std::sync::OnceLock;

use serde_json::{json, Value};

use super::{Violation, ViolationKind};

/// The vendor's OpenAPI document, unchanged (`spec/synthflow-get-call.openapi.yaml`).
pub const SPEC_YAML: &str = include_str!("../../spec/synthflow-get-call.openapi.yaml");

/// The same document converted to JSON (`spec/synthflow-get-call.openapi.json`), which the checks
/// read: no YAML parser in the build (serde_yaml is deprecated). `tests/spec_json.rs` checks that it
/// equals the YAML file parsed.
pub const SPEC_JSON: &str = include_str!("../../spec/synthflow-get-call.openapi.json");

/// The vendored OpenAPI document as JSON.
pub fn openapi_document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(SPEC_JSON).expect("the vendored OpenAPI document is JSON")
    })
}

/// Corrections applied to the vendor's document before compiling, each a (JSON pointer into
/// `components/schemas`, replacement `type`, why). Kept to what the vendor itself says elsewhere.
pub const ERRATA: &[(&str, &str, &str)] = &[(
    "/CallsCallIdGetResponsesContentApplicationJsonSchemaResponseCallsItems/properties/collected_variables",
    "object|null",
    "typed `object`, but its own description and the 2026-02-04 changelog say it \"may be null if not available\"",
)];

/// The document's `components/schemas` with [`ERRATA`] applied.
pub fn corrected_schemas() -> Value {
    let mut schemas = openapi_document()["components"]["schemas"].clone();
    for (pointer, types, _why) in ERRATA {
        let node = schemas
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("erratum {pointer} no longer matches the vendored document"));
        let list: Vec<Value> = types
            .split('|')
            .map(|t| Value::String(t.to_owned()))
            .collect();
        node["type"] = Value::Array(list);
    }
    schemas
}

/// The compiled response schemas.
pub struct Schemas {
    call_200: jsonschema::Validator,
    bad_request_400: jsonschema::Validator,
}

impl Schemas {
    /// The process-wide instance.
    pub fn get() -> &'static Schemas {
        static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
        SCHEMAS.get_or_init(|| {
            let doc = openapi_document();
            let schemas = corrected_schemas();
            let ok = response_schema_ref(doc, "/calls/{call_id}", "200");
            let bad = response_schema_ref(doc, "/calls/{call_id}", "400");
            Schemas {
                call_200: compile(&schemas, &ok),
                bad_request_400: compile(&schemas, &bad),
            }
        })
    }

    /// Violations of the 200 schema.
    pub fn validate_call_response(&self, body: &Value) -> Vec<Violation> {
        collect(&self.call_200, body)
    }

    /// Violations of the 400 schema.
    pub fn validate_bad_request(&self, body: &Value) -> Vec<Violation> {
        collect(&self.bad_request_400, body)
    }
}

/// The `$ref` of `paths[path].get.responses[status]`'s JSON schema.
fn response_schema_ref(doc: &Value, path: &str, status: &str) -> String {
    doc["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("the vendored document has no schema for GET {path} {status}"))
        .to_owned()
}

fn compile(schemas: &Value, reference: &str) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": reference,
        "components": { "schemas": schemas },
    });
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the vendored schema {reference} does not compile: {e}"))
}

fn collect(validator: &jsonschema::Validator, body: &Value) -> Vec<Violation> {
    validator
        .iter_errors(body)
        .map(|e| {
            let pointer = e.instance_path().to_string();
            match e.kind() {
                jsonschema::error::ValidationErrorKind::Enum { options } => Violation::new(
                    ViolationKind::OutOfSpec,
                    pointer,
                    format!(
                        "{} is not a value the vendor's document lists (expected one of {options}); \
                         accept such values with --allow-out-of-spec",
                        e.instance()
                    ),
                ),
                _ => Violation::new(ViolationKind::Schema, pointer, e.to_string()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_refuses_a_string_duration() {
        let body = json!({"status":"ok","response":{"calls":[{"duration":"12"}]}});
        let v = Schemas::get().validate_call_response(&body);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].pointer, "/response/calls/0/duration");
        assert_eq!(v[0].kind, ViolationKind::Schema);
    }

    #[test]
    fn unlisted_enum_value_is_out_of_spec() {
        let body = json!({"status":"ok","response":{"calls":[{"status":"paused"}]}});
        let v = Schemas::get().validate_call_response(&body);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].kind, ViolationKind::OutOfSpec);
        assert_eq!(v[0].pointer, "/response/calls/0/status");
    }

    #[test]
    fn malformed_telephony_timestamp_fails_format_check() {
        let body = json!({"status":"ok","response":{"calls":[{"telephony_start":"yesterday"}]}});
        assert_eq!(Schemas::get().validate_call_response(&body).len(), 1);
    }

    #[test]
    fn null_collected_variables_is_accepted_per_erratum() {
        let body = json!({"status":"ok","response":{"calls":[{"collected_variables":null}]}});
        assert!(Schemas::get().validate_call_response(&body).is_empty());
        let wrong = json!({"status":"ok","response":{"calls":[{"collected_variables":"x"}]}});
        assert_eq!(Schemas::get().validate_call_response(&wrong).len(), 1);
    }

    #[test]
    fn extra_members_are_allowed_by_the_document() {
        let body =
            json!({"status":"ok","response":{"calls":[{"telephony_sip_headers":{"X-A":"b"}}]}});
        assert!(Schemas::get().validate_call_response(&body).is_empty());
    }
}
