//! The agents and actions operations (`/assistants`, `/actions`) of the vendor's whole OpenAPI
//! document (`spec/synthflow-openapi.json`, vendored unchanged), the errata of that document for
//! them ([`AGENTS_ERRATA`], in the spirit of [`super::ERRATA`]), and a check of a response body
//! against the operation's declared schema with the errata applied.
//!
//! The call checks (`GET /v2/calls/{call_id}`) stay on the one-endpoint document
//! (`spec/synthflow-get-call.openapi.yaml`): the whole document declares the same operation with a
//! different component layout, and moving the call checks over was not shown to give the same
//! answers, so they were left as they are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

use super::{Violation, ViolationKind};

/// The vendor's whole OpenAPI document, unchanged (`spec/synthflow-openapi.json`: a copy of
/// `openapi/_original/synthflow-openapi.json` of the public catalogue api-evangelist/synthflow,
/// commit 55497cbb95829641da8d8c6a1dde05d93393ac15; see `spec/README.md`).
pub const PLATFORM_SPEC_JSON: &str = include_str!("../../spec/synthflow-openapi.json");

/// The whole document, parsed.
pub fn platform_document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(PLATFORM_SPEC_JSON).expect("the vendored whole document is JSON")
    })
}

/// One place where the document is wrong, or silent where the mock had to choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erratum {
    /// Its name in `spec/schemathesis/agents_hooks.py` and `docs/agents.md`.
    pub id: &'static str,
    /// A JSON pointer into the whole document, at what is wrong (must exist: tested).
    pub pointer: &'static str,
    /// What the mock (and the checks) do instead.
    pub correction: &'static str,
    /// Why.
    pub why: &'static str,
}

/// The errata of the whole document for the agents and actions operations. schemathesis applies
/// E1, E2, E3 and E5 to an in-memory copy (`spec/schemathesis/agents_hooks.py`), E4 in its config
/// (`spec/schemathesis/agents.toml`); [`check_platform_response`] applies E2.
pub const AGENTS_ERRATA: &[Erratum] = &[
    Erratum {
        id: "E1",
        pointer: "/paths/~1assistants/post/responses",
        correction: "every agents and actions operation may answer 401 with the live {\"detail\": {...}} body",
        why: "no operation declares a 401, yet the live service answers 401 to a missing or unusable Authorization header (NOTES.md, Errors)",
    },
    Erratum {
        id: "E2",
        pointer: "/components/schemas/AssistantsGetResponsesContentApplicationJsonSchemaResponse/properties/assistants",
        correction: "`response.assistants` of GET /assistants/ is a list of agents",
        why: "typed as one object, while it is a page of agents (paginated, limit/offset), and the single-agent GET declares the same member as a list",
    },
    Erratum {
        id: "E3",
        pointer: "/paths/~1assistants~1/get",
        correction: "the list is answered at /assistants as well as /assistants/",
        why: "declared only with the trailing slash, while integrators' code calls /v2/assistants (POST is declared there); the mock answers both",
    },
    Erratum {
        id: "E4",
        pointer: "/components/schemas/model_id",
        correction: "a model_id or action_id the account does not hold gets the documented 400 (404 on the phone number operations), and a body the prose forbids (a custom action url that is not http(s), no or two action kinds) gets 400",
        why: "ids are typed as any string and the create-action body has no required member, so schema-valid requests cannot all succeed",
    },
    Erratum {
        id: "E5",
        pointer: "/paths/~1assistants~1{model_id}~1phone_numbers/put/responses",
        correction: "a body in neither of the two declared forms gets 400 with the live body",
        why: "the operation declares only 200 and 404, while its body is a oneOf that a request can miss (its sibling DELETE declares 400)",
    },
];

/// `components/schemas` of the whole document with the errata that change a response schema (E2).
pub fn corrected_platform_schemas() -> Value {
    let mut schemas = platform_document()["components"]["schemas"].clone();
    let e2 = "/AssistantsGetResponsesContentApplicationJsonSchemaResponse/properties/assistants";
    let node = schemas
        .pointer_mut(e2)
        .unwrap_or_else(|| panic!("erratum E2 no longer matches the vendored document"));
    let item = node.clone();
    *node = json!({"type": "array", "items": item});
    schemas
}

type Cache = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

/// Violations of `body` against the 200 (or other `status`) schema `method path` declares, with
/// the errata applied; a status the operation does not declare (401 excepted, E1) is a violation.
pub fn check_platform_response(
    path: &str,
    method: &str,
    status: u16,
    body: &Value,
) -> Vec<Violation> {
    let doc = platform_document();
    let status_key = status.to_string();
    let responses = &doc["paths"][path][method]["responses"];
    let declared = responses.get(&status_key).or_else(|| {
        // E5: the phone number PUT's 400 is its sibling's.
        (status == 400 && path == "/assistants/{model_id}/phone_numbers").then(|| {
            &doc["paths"]["/assistants/{model_id}/phone_numbers/{phone_number_slug}"]["delete"]
                ["responses"]["400"]
        })
    });
    let Some(declared) = declared else {
        if status == 401 {
            return Vec::new();
        }
        return vec![Violation::new(
            ViolationKind::Schema,
            String::new(),
            format!(
                "status {status} is not declared for {} {path}",
                method.to_uppercase()
            ),
        )];
    };
    let Some(reference) = declared["content"]["application/json"]["schema"]["$ref"].as_str() else {
        return Vec::new();
    };
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let validator = {
        let mut cache = CACHE
            .get_or_init(Cache::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cache
            .entry(reference.to_owned())
            .or_insert_with(|| Arc::new(compile(reference)))
            .clone()
    };
    validator
        .iter_errors(body)
        .map(|e| {
            Violation::new(
                ViolationKind::Schema,
                e.instance_path().to_string(),
                e.to_string(),
            )
        })
        .collect()
}

fn compile(reference: &str) -> jsonschema::Validator {
    static SCHEMAS: OnceLock<Value> = OnceLock::new();
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": reference,
        "components": { "schemas": SCHEMAS.get_or_init(corrected_platform_schemas) },
    });
    jsonschema::draft202012::options()
        .build(&root)
        .unwrap_or_else(|e| panic!("the vendored schema {reference} does not compile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_erratum_points_at_something_in_the_document() {
        for e in AGENTS_ERRATA {
            assert!(
                platform_document().pointer(e.pointer).is_some(),
                "erratum {} no longer matches the document: {}",
                e.id,
                e.pointer
            );
        }
    }

    #[test]
    fn the_list_of_agents_is_a_list_per_e2_and_a_wrong_type_is_named() {
        let page = json!({"status": "ok", "response": {"pagination": {"total_records": 1, "limit": 20, "offset": 0},
            "assistants": [{"model_id": "m", "name": "n", "type": "outbound"}]}});
        assert!(check_platform_response("/assistants/", "get", 200, &page).is_empty());
        let wrong = json!({"status": "ok", "response": {"assistants": [{"is_recording": "yes"}]}});
        let v = check_platform_response("/assistants/", "get", 200, &wrong);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].pointer, "/response/assistants/0/is_recording");
    }

    #[test]
    fn an_undeclared_status_is_a_violation() {
        let v = check_platform_response("/actions", "post", 418, &json!({}));
        assert_eq!(v.len(), 1);
        assert!(check_platform_response("/actions", "post", 401, &json!({})).is_empty());
    }
}
