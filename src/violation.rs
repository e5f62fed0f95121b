//! One problem found in a body, at one place: what every check reports (the contract checks, the
//! mock's fixture loading, its build script). Apart from [`crate::contract`] so that code without
//! the JSON Schema checks (the mock built with `default-features = false`) reports problems in the
//! same type.

use std::fmt;

/// Which pass found a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// Not JSON at all.
    Json,
    /// Does not validate against the vendor's schema.
    Schema,
    /// A value (an enum member) the vendor's document does not list.
    OutOfSpec,
    /// Decoding then encoding with the typed model changed the value.
    Lossless,
    /// A property every real call has does not hold.
    Invariant,
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ViolationKind::Json => "json",
            ViolationKind::Schema => "schema",
            ViolationKind::OutOfSpec => "out-of-spec",
            ViolationKind::Lossless => "lossless",
            ViolationKind::Invariant => "invariant",
        })
    }
}

/// One problem, at one place of the body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The pass that found it.
    pub kind: ViolationKind,
    /// JSON pointer into the body (`""` for the whole body), or `line L column C` for a syntax error.
    pub pointer: String,
    /// What was expected.
    pub message: String,
}

impl Violation {
    pub(crate) fn new(
        kind: ViolationKind,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Violation {
            kind,
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{at}: [{}] {}", self.kind, self.message)
    }
}

/// A JSON syntax error as a violation at its line and column.
pub fn json_violation(e: &serde_json::Error) -> Violation {
    Violation::new(
        ViolationKind::Json,
        format!("line {} column {}", e.line(), e.column()),
        format!("not valid JSON: {e}"),
    )
}
