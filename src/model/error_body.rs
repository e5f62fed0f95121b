//! Error bodies. The API's own errors put an object under `detail`
//! (`{"detail":{"status":"error","description":..,"timestamp":..,"request_id":..,"category":..}}`);
//! unmatched routes answer `{"detail":"Not Found"}` on regional hosts and
//! `{"error":"not_found","message":"No route matched"}` on the global gateway. One type reads all three.

use serde::{Deserialize, Serialize};

use super::JsonObject;

/// Any JSON error body the service sends.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The API's own errors (object) or a framework error (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<ErrorDetail>,
    /// The global gateway's error code (e.g. `not_found`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The global gateway's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Members the model does not know.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// `detail`: an object from the API, or a plain string from the framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorDetail {
    /// `{"status":"error","description":..,..}`.
    Object(ErrorDetailObject),
    /// E.g. `"Not Found"`.
    Text(String),
}

/// The API's error object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorDetailObject {
    /// `"error"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The human-readable reason; the only thing that tells the two 401s apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the error was raised (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The id of the request, for the vendor's support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// E.g. `"critical"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Members the model does not know.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ErrorBody {
    /// The most specific message the body carries.
    pub fn description(&self) -> Option<&str> {
        match &self.detail {
            Some(ErrorDetail::Object(o)) => o.description.as_deref(),
            Some(ErrorDetail::Text(t)) => Some(t),
            None => self.message.as_deref().or(self.error.as_deref()),
        }
    }
}
