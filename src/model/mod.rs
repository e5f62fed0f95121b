//! The serde model of the call API.
//!
//! Every field of the vendor's document is here, with three habits taken from models of vendor APIs
//! (async-stripe, async-openai):
//! - a field the live API may leave out is an `Option` and is skipped when absent, so a missing
//!   field never breaks decoding and is not invented on encoding;
//! - a field the document marks nullable is an `Option<Option<T>>` (outer: present?, inner: null?),
//!   so `null` and "absent" both round-trip; use the accessor methods for a flat `Option<&T>`;
//! - members the document does not list are kept in `extra`, and enums keep values they do not
//!   know in an `Unknown(String)` variant, so a record decodes and re-encodes to the same JSON value.

mod call;
mod enums;
mod envelope;
mod error_body;
mod observed;
mod time;

pub use call::{Call, CollectedVariable, CollectedVariables};

/// A transcript at least this long (bytes) counts as "very long" (the contract's coverage item;
/// here, without the `contract` feature, so the mock's call factory writes one in a slim build).
pub const LONG_TRANSCRIPT_BYTES: usize = 30_000;
pub use enums::{
    CallStatus, EndCallReason, TelephonyDisconnectReason, TelephonyHangup, TypeOfCall,
};
pub use envelope::{CallsPage, EnvelopeStatus, GetCallResponse, Pagination};
pub use error_body::{ErrorBody, ErrorDetail, ErrorDetailObject};
pub use observed::{
    decode_embedded, is_embedded_json, CallIdFormat, ExecutedAction, IntOrString, JudgeVerdict,
    EXTRACTOR_PREFIXES,
};
pub use time::TimeError;

/// A JSON object, as the model keeps free-form members.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// `#[serde(with = "double_option")]` for nullable fields: absent → `None`, `null` → `Some(None)`,
/// a value → `Some(Some(v))`. Pair with `default` and `skip_serializing_if = "Option::is_none"`.
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
