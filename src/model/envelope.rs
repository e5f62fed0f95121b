//! The success envelope: `{"status": "ok", "response": {"pagination": {..}, "calls": [..]}}`.
//!
//! `GET /v2/calls/{call_id}` answers the list endpoint's envelope with a one-element `calls` array.

use serde::{Deserialize, Serialize};

use super::{Call, JsonObject};

/// The 200 body of `GET /v2/calls/{call_id}` (and of the list endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetCallResponse {
    /// Whether the request was successful; `"ok"` in every live observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<EnvelopeStatus>,
    /// The payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<CallsPage>,
    /// Members the document does not list, kept for a lossless round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl GetCallResponse {
    /// The calls of the page (empty when the body has none).
    pub fn calls(&self) -> &[Call] {
        self.response
            .as_ref()
            .and_then(|r| r.calls.as_deref())
            .unwrap_or(&[])
    }

    /// The first call: the one `GET /v2/calls/{call_id}` asked for.
    pub fn call(&self) -> Option<&Call> {
        self.calls().first()
    }

    /// Consumes the envelope and returns its first call.
    pub fn into_call(self) -> Option<Call> {
        self.response
            .and_then(|r| r.calls)
            .and_then(|c| c.into_iter().next())
    }
}

/// The envelope's `status`: the string `"ok"` on the wire, though one public catalogue declares an
/// integer. Both decode; each encodes back as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EnvelopeStatus {
    /// The observed form, e.g. `"ok"`.
    Text(String),
    /// The catalogue's form, e.g. `200`.
    Code(i64),
}

impl EnvelopeStatus {
    /// `"ok"`, or a 2xx code.
    pub fn is_ok(&self) -> bool {
        match self {
            EnvelopeStatus::Text(s) => s.eq_ignore_ascii_case("ok"),
            EnvelopeStatus::Code(c) => (200..300).contains(c),
        }
    }
}

/// `response`: pagination plus the calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallsPage {
    /// Pagination of the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// The call records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<Vec<Call>>,
    /// Members the document does not list.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// `response.pagination`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    /// The total number of call records matching the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_records: Option<i64>,
    /// The maximum number of records returned per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// The number of records skipped from the beginning of the results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Members the document does not list.
    #[serde(flatten)]
    pub extra: JsonObject,
}
