//! The call record: `response.calls[]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::time::{parse_iso8601, parse_unix_millis, TimeError};
use super::{
    double_option, CallStatus, EndCallReason, IntOrString, JsonObject, TelephonyDisconnectReason,
    TelephonyHangup, TypeOfCall,
};

/// `collected_variables`: agent (model) id → variable name → what was collected.
pub type CollectedVariables = BTreeMap<String, BTreeMap<String, CollectedVariable>>;

/// One phone call, as `GET /v2/calls/{call_id}` returns it. Field docs carry the vendor's meaning;
/// units differ between fields (seconds for `duration`, milliseconds for the telephony durations).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Call {
    /// Call ID, as shown on the dashboard's logs page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// Agent ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// Campaign type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_type: Option<String>,
    /// The caller's phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_from: Option<String>,
    /// The recipient's phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_to: Option<String>,
    /// The recipient's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The call transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    /// Duration of the call in **seconds**. An integer per the document; list items were seen
    /// carrying it as a string (`"25"`), kept as it came: read it with [`Call::duration_seconds`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<IntOrString>,
    /// URL of the recording; nullable (`Some(None)` = `null`: no recording).
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub recording_url: Option<Option<String>>,
    /// Why the call ended, from the agent's point of view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_call_reason: Option<EndCallReason>,
    /// The user-defined reason; set only when `end_call_reason` is `custom_end_call`. Nullable.
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_end_call_reason: Option<Option<String>>,
    /// Error message, or an empty string when the call had no error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Actions executed during the call (free-form object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_actions: Option<JsonObject>,
    /// Prompt variables (free-form object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_variables: Option<JsonObject>,
    /// Inbound or outbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_of_call: Option<TypeOfCall>,
    /// Scheduled start as a **string** holding unix milliseconds; see [`Call::start_time_millis`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// IANA time zone of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Which party ended the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephony_hangup: Option<TelephonyHangup>,
    /// Why the telephony connection was disconnected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephony_disconnect_reason: Option<TelephonyDisconnectReason>,
    /// Total duration of the telephony connection in **milliseconds**.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephony_duration: Option<i64>,
    /// Time the phone rang before it was answered, in **milliseconds**.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephony_ringing_duration: Option<i64>,
    /// When the telephony connection started (ISO 8601); see [`Call::telephony_start_time`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephony_start: Option<String>,
    /// When the telephony connection ended (ISO 8601); absent while the call is live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephony_end: Option<String>,
    /// The current status of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CallStatus>,
    /// Variables (slots) collected in the conversation, keyed by agent id. Nullable.
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub collected_variables: Option<Option<CollectedVariables>>,
    /// Members the document does not list (live records carry e.g. `telephony_sip_headers`).
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// One collected variable: `{"value": .., "collected": bool}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CollectedVariable {
    /// The collected value (string, number, boolean), `null` when not collected.
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Option<serde_json::Value>>,
    /// Whether the variable was successfully collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected: Option<bool>,
    /// Members the document does not list.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl CollectedVariable {
    /// The value, `None` when absent or `null`.
    pub fn value(&self) -> Option<&serde_json::Value> {
        self.value.as_ref().and_then(Option::as_ref)
    }
}

impl Call {
    /// The recording URL, `None` when absent or `null`.
    pub fn recording_url(&self) -> Option<&str> {
        self.recording_url.as_ref().and_then(|o| o.as_deref())
    }

    /// The custom end reason, `None` when absent or `null`.
    pub fn custom_end_call_reason(&self) -> Option<&str> {
        self.custom_end_call_reason
            .as_ref()
            .and_then(|o| o.as_deref())
    }

    /// The collected variables, `None` when absent or `null`.
    pub fn collected_variables(&self) -> Option<&CollectedVariables> {
        self.collected_variables.as_ref().and_then(Option::as_ref)
    }

    /// `start_time` as unix milliseconds. `Ok(None)` when absent or empty; an error (never a panic)
    /// when it is not an integer.
    ///
    /// ```
    /// let call = synthflow::Call { start_time: Some("1760018601512".into()), ..Default::default() };
    /// assert_eq!(call.start_time_millis().unwrap(), Some(1_760_018_601_512));
    /// let bad = synthflow::Call { start_time: Some("yesterday".into()), ..Default::default() };
    /// assert!(bad.start_time_millis().is_err());
    /// ```
    pub fn start_time_millis(&self) -> Result<Option<i64>, TimeError> {
        non_empty(&self.start_time)
            .map(|s| parse_unix_millis("start_time", s))
            .transpose()
    }

    /// `start_time` as a UTC instant.
    pub fn start_time_utc(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, TimeError> {
        match self.start_time_millis()? {
            None => Ok(None),
            Some(ms) => chrono::DateTime::from_timestamp_millis(ms)
                .map(Some)
                .ok_or_else(|| TimeError::OutOfRange {
                    field: "start_time",
                    value: ms.to_string(),
                }),
        }
    }

    /// `telephony_start` parsed as ISO 8601 / RFC 3339. `Ok(None)` when absent or empty.
    pub fn telephony_start_time(
        &self,
    ) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, TimeError> {
        non_empty(&self.telephony_start)
            .map(|s| parse_iso8601("telephony_start", s))
            .transpose()
    }

    /// `telephony_end` parsed as ISO 8601 / RFC 3339. `Ok(None)` when absent or empty.
    pub fn telephony_end_time(
        &self,
    ) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, TimeError> {
        non_empty(&self.telephony_end)
            .map(|s| parse_iso8601("telephony_end", s))
            .transpose()
    }
}

fn non_empty(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|s| !s.is_empty())
}
