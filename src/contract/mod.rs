//! The contract checks, written once and run by the mock's start-up, its `validate` command and the
//! contract suite.
//!
//! A body is checked in four passes, each reported as [`Violation`]s with a JSON pointer:
//! 1. [`ViolationKind::Json`]: it parses as JSON (else: line and column);
//! 2. [`ViolationKind::Schema`] / [`ViolationKind::OutOfSpec`]: it validates against the response
//!    schema of the vendored OpenAPI document (`spec/`), as JSON Schema 2020-12 with formats checked.
//!    An enum value the document does not list, or an off-document shape seen live ([`shapes`]:
//!    `duration` as a string, JSON-encoded action values...), is `OutOfSpec`, so a caller can accept
//!    recorded live data that runs ahead of the spec without accepting anything else;
//! 3. [`ViolationKind::Lossless`]: it decodes into the typed model and re-encodes to the same value;
//! 4. [`ViolationKind::Invariant`]: what must hold of a real call ([`invariants`] lists them).

pub mod agents;
pub mod coverage;
pub mod drift;
pub mod invariants;
mod lossless;
mod schema;
pub mod shapes;

use serde_json::Value;

use crate::model::GetCallResponse;

pub use crate::violation::{json_violation, Violation, ViolationKind};
pub use agents::{check_platform_response, platform_document, AGENTS_ERRATA, PLATFORM_SPEC_JSON};
pub use schema::{corrected_schemas, openapi_document, Schemas, ERRATA, SPEC_JSON, SPEC_YAML};

/// What a cache of bodies these checks accepted must be invalidated by: this crate's version, the
/// vendored document and its errata (hashed). A changed check under the same version number is not
/// seen here: the mock's cache also keys on its own binary (docs/performance.md).
pub fn checks_version() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(SPEC_YAML.as_bytes());
    for (pointer, types, _) in ERRATA {
        h.update(pointer.as_bytes());
        h.update(types.as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("synthflow-{}-{hex}", env!("CARGO_PKG_VERSION"))
}

/// What to tolerate.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Accept enum values the document does not list (recorded live data may run ahead of it).
    pub allow_out_of_spec: bool,
}

/// The result of checking one 200 body.
#[derive(Debug, Clone)]
pub struct CallReport {
    /// Every problem found, in pass order.
    pub violations: Vec<Violation>,
    /// The decoded envelope, when the body is JSON of the right shape.
    pub envelope: Option<GetCallResponse>,
}

impl CallReport {
    /// No violation.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Checks a 200 body of `GET /v2/calls/{call_id}`. `expected_call_id`, when given, is the id that was
/// asked for (for a fixture file, its name).
pub fn check_call_body(
    bytes: &[u8],
    expected_call_id: Option<&str>,
    opts: CheckOptions,
) -> CallReport {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return CallReport {
                violations: vec![json_violation(&e)],
                envelope: None,
            }
        }
    };
    check_call_value(&value, expected_call_id, opts)
}

/// [`check_call_body`] on an already parsed body.
pub fn check_call_value(
    value: &Value,
    expected_call_id: Option<&str>,
    opts: CheckOptions,
) -> CallReport {
    let mut violations = Schemas::get().validate_call_response(value);
    // A known off-document shape is out of spec, not a schema error: where the schema already
    // refused it (a string `duration`) the violation is renamed, else one is added.
    for shape in shapes::detect(value).into_iter().filter(|s| s.refused) {
        let message = format!(
            "{}; not the document's shape: accept it with --allow-out-of-spec",
            shape.describe()
        );
        let mut renamed = false;
        for v in violations
            .iter_mut()
            .filter(|v| v.kind == ViolationKind::Schema && v.pointer == shape.pointer)
        {
            v.kind = ViolationKind::OutOfSpec;
            v.message = message.clone();
            renamed = true;
        }
        if !renamed {
            violations.push(Violation::new(
                ViolationKind::OutOfSpec,
                shape.pointer,
                message,
            ));
        }
    }
    if opts.allow_out_of_spec {
        violations.retain(|v| v.kind != ViolationKind::OutOfSpec);
    }
    let envelope = match <GetCallResponse as serde::Deserialize>::deserialize(value) {
        Ok(env) => {
            violations.extend(lossless::compare(value, &env));
            violations.extend(invariants::check_get_call(&env, expected_call_id));
            Some(env)
        }
        Err(e) => {
            // The schema pass has already said where; this only adds the model's view when it did not.
            if violations.is_empty() {
                violations.push(Violation::new(
                    ViolationKind::Schema,
                    "",
                    format!("does not decode into the typed model: {e}"),
                ));
            }
            None
        }
    };
    CallReport {
        violations,
        envelope,
    }
}

/// Checks an error body: valid JSON, an object (the document's 400 schema), and the `detail`
/// object that the live service sends (`status`, `description`, `timestamp`, `request_id`,
/// `category`, all strings). `expected_description`, when given, must match.
pub fn check_error_body(bytes: &[u8], expected_description: Option<&str>) -> Vec<Violation> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return vec![json_violation(&e)],
    };
    let mut out = Schemas::get().validate_bad_request(&value);
    let detail = value.get("detail");
    match detail {
        Some(Value::Object(d)) => {
            for member in [
                "status",
                "description",
                "timestamp",
                "request_id",
                "category",
            ] {
                if !d.get(member).is_some_and(Value::is_string) {
                    out.push(Violation::new(
                        ViolationKind::Invariant,
                        format!("/detail/{member}"),
                        "expected a string, as the live service sends",
                    ));
                }
            }
            if let (Some(want), Some(got)) = (
                expected_description,
                d.get("description").and_then(Value::as_str),
            ) {
                if want != got {
                    out.push(Violation::new(
                        ViolationKind::Invariant,
                        "/detail/description",
                        format!("expected {want:?}, got {got:?}"),
                    ));
                }
            }
        }
        _ => out.push(Violation::new(
            ViolationKind::Invariant,
            "/detail",
            "expected an object under `detail`",
        )),
    }
    out
}

/// `key` as one reference token of a JSON Pointer (RFC 6901): `~` is `~0`, `/` is `~1`.
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
