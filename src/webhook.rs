//! The post-call webhook: the payload Synthflow POSTs to a call's `external_webhook_url` when the
//! call ends, built from the `GET /v2/calls/{call_id}` record, and both sides of its signature.
//!
//! The payload (`{status, error_message, lead{..}, call{..}, executed_actions,
//! collected_variables, analysis}`) carries the same call as `GET` with three differences of form:
//! `call.start_time` is ISO 8601 (unix milliseconds in a string on `GET`), the recipient is
//! `lead.{name, phone_number}` and the prompt variables are `lead.prompt_variables`. Like the call
//! model, the types keep members they do not list (`extra`), so a payload decodes and re-encodes
//! to the same JSON value.
//!
//! The signature is what the vendor's docs publish: standard base64 (with padding) of
//! HMAC-SHA256, keyed with the workspace secret as UTF-8 bytes, over the **`call_id` only** (not
//! the body: it proves the sender knew the secret, not that the body is intact).
//!
//! ```
//! use synthflow::webhook::{sign, verify_signature};
//! let sig = sign("whsec", "c1");
//! assert_eq!(sig.len(), 44);
//! assert!(verify_signature("whsec", "c1", &sig));
//! assert!(!verify_signature("whsec", "c2", &sig));
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::model::{CallStatus, EndCallReason, GetCallResponse, JsonObject, TimeError, TypeOfCall};
use crate::Call;

mod shape;
pub use shape::{analysis_for, CollectedShape, PayloadOptions, ANALYSIS_FIELDS};

/// The header the mock sends the signature in by default. The docs print the WSGI spelling
/// `HTTP_SYNTHFLOW_SIGNATURE`, which is what a Django or Flask receiver reads for this wire header.
pub const SIGNATURE_HEADER: &str = "Synthflow-Signature";

/// The body of the post-call webhook.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PostCallWebhook {
    /// The call's final status (the docs' example repeats `call.status` here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Error message, `""` when the call had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The person called (or calling, inbound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<Lead>,
    /// The call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<WebhookCall>,
    /// Actions run during the call, keyed by action name (a sibling of `call`, as the docs show).
    #[serde(
        default,
        with = "crate::model::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub executed_actions: Option<Option<JsonObject>>,
    /// Variables collected in the conversation. Kept as JSON: the docs disagree on its nesting
    /// (by agent id then name, or by name alone).
    #[serde(
        default,
        with = "crate::model::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub collected_variables: Option<Option<serde_json::Value>>,
    /// The automated quality checks (`persona`, `goal`, ... `call_summary`), values as strings.
    #[serde(
        default,
        with = "crate::model::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub analysis: Option<Option<JsonObject>>,
    /// Members the docs do not list, kept for a lossless round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// `lead`: who was called.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Lead {
    /// The lead's name (`name` on `GET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The lead's number (`phone_number_to` on `GET` for an outbound call, `phone_number_from`
    /// for an inbound one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The prompt (custom) variables of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_variables: Option<JsonObject>,
    /// Members the docs do not list.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// `call`: the call, as the webhook carries it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WebhookCall {
    /// Final status; the same values as on `GET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CallStatus>,
    /// Why the call ended (an open vocabulary: the webhook docs and the `GET` enum disagree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_call_reason: Option<EndCallReason>,
    /// The user-defined end reason, when `end_call_reason` is `custom_end_call`. Nullable.
    #[serde(
        default,
        with = "crate::model::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_end_call_reason: Option<Option<String>>,
    /// Agent id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// IANA time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The call id: the value the signature is computed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// Duration in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    /// Start time, ISO 8601 with a UTC offset (`2025-10-27T10:59:46+01:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// The transcript, one string (`"\nbot: ..."`, `"\nhuman: ..."`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    /// Members the docs do not list (older payloads: `diversion`, `external_id`).
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// Why a payload could not be built from a `GET` body.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The bytes are not the `GET` envelope.
    #[error("not a GET /v2/calls/{{call_id}} body: {0}")]
    NotAnEnvelope(#[from] serde_json::Error),
    /// The envelope holds no call.
    #[error("the body holds no call (response.calls is empty)")]
    NoCall,
    /// The call has no `call_id`, so there is nothing to sign.
    #[error("the call has no call_id")]
    NoCallId,
    /// `start_time` is not unix milliseconds.
    #[error(transparent)]
    Time(#[from] TimeError),
}

impl PostCallWebhook {
    /// The payload for the call of a `GET /v2/calls/{call_id}` body (the envelope with one call).
    pub fn from_envelope(body: &[u8]) -> Result<PostCallWebhook, WebhookError> {
        PostCallWebhook::from_envelope_with(body, PayloadOptions::default())
    }

    /// [`PostCallWebhook::from_envelope`] with explicit [`PayloadOptions`].
    pub fn from_envelope_with(
        body: &[u8],
        options: PayloadOptions,
    ) -> Result<PostCallWebhook, WebhookError> {
        let envelope: GetCallResponse = serde_json::from_slice(body)?;
        let call = envelope.into_call().ok_or(WebhookError::NoCall)?;
        PostCallWebhook::from_call_with(&call, options)
    }

    /// The payload for a call record with the default [`PayloadOptions`].
    pub fn from_call(call: &Call) -> Result<PostCallWebhook, WebhookError> {
        PostCallWebhook::from_call_with(call, PayloadOptions::default())
    }

    /// The payload for a call record: same transcript, status, end reason and duration as `GET`;
    /// `start_time` written as ISO 8601 in UTC; `collected_variables`, the numbers and `analysis`
    /// as [`shape`] says.
    pub fn from_call_with(
        call: &Call,
        options: PayloadOptions,
    ) -> Result<PostCallWebhook, WebhookError> {
        if call.call_id.as_deref().unwrap_or("").is_empty() {
            return Err(WebhookError::NoCallId);
        }
        let start_time = call
            .start_time_utc()?
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false));
        let inbound = call.type_of_call == Some(TypeOfCall::Inbound);
        let phone_number = if inbound {
            call.phone_number_from.clone()
        } else {
            call.phone_number_to.clone()
        };
        let collected_variables = call.collected_variables.as_ref().map(|o| {
            o.as_ref().map(|v| {
                shape::collected(
                    serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                    options.collected_variables,
                )
            })
        });
        let analysis = match call.extra.get("judge_results") {
            Some(serde_json::Value::Object(o)) => Some(Some(o.clone())),
            _ if call.status == Some(CallStatus::Completed) => Some(Some(shape::analysis_for(
                call.call_id.as_deref().unwrap_or(""),
            ))),
            _ => Some(None),
        };
        let mut numbers = JsonObject::new();
        if let Some(from) = &call.phone_number_from {
            numbers.insert(
                "from_number".into(),
                serde_json::Value::String(from.clone()),
            );
        }
        if let Some(to) = &call.phone_number_to {
            numbers.insert("to_number".into(), serde_json::Value::String(to.clone()));
        }
        Ok(PostCallWebhook {
            status: call.status.as_ref().map(|s| s.as_str().to_owned()),
            error_message: Some(call.error_message.clone().unwrap_or_default()),
            lead: Some(Lead {
                name: call.name.clone(),
                phone_number,
                prompt_variables: Some(call.prompt_variables.clone().unwrap_or_default()),
                extra: JsonObject::new(),
            }),
            call: Some(WebhookCall {
                status: call.status.clone(),
                end_call_reason: call.end_call_reason.clone(),
                custom_end_call_reason: call.custom_end_call_reason.clone(),
                model_id: call.model_id.clone(),
                timezone: call.timezone.clone(),
                call_id: call.call_id.clone(),
                duration: call.duration_seconds(),
                start_time,
                transcript: call.transcript.clone(),
                extra: numbers,
            }),
            executed_actions: Some(call.executed_actions.clone()),
            collected_variables,
            analysis,
            extra: JsonObject::new(),
        })
    }

    /// `call.call_id`: what the signature covers.
    pub fn call_id(&self) -> Option<&str> {
        self.call.as_ref().and_then(|c| c.call_id.as_deref())
    }

    /// The JSON body to send.
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings, numbers and JSON values: serialising it cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length")
}

/// The signature of a call id: `base64(HMAC-SHA256(secret, call_id))`, standard alphabet with
/// padding (44 characters), as the vendor's Python recipe computes it.
pub fn sign(secret: &str, call_id: &str) -> String {
    let mut m = mac(secret);
    m.update(call_id.as_bytes());
    STANDARD.encode(m.finalize().into_bytes())
}

/// What the **inbound** webhook's signature covers. The documented inbound request
/// (`{"event": "call_inbound", "call_inbound": {model_id, from_number, to_number}}`) has no
/// `call_id`, and the vendor does not say what it signs there; this workspace's rule, shared by
/// the mock (which signs) and `synthflow-check receiver inbound` (which checks receivers), is:
/// the signature covers **`call_inbound.from_number` as sent**, or the empty string when that
/// member is absent, `null` or not a string. Same HMAC-SHA256 and base64 as [`sign`].
///
/// ```
/// use synthflow::webhook::{inbound_signature_payload, sign, sign_inbound};
/// let body = serde_json::json!({"event": "call_inbound",
///     "call_inbound": {"from_number": "+12137771234", "to_number": "+12137771235"}});
/// assert_eq!(inbound_signature_payload(&body), "+12137771234");
/// assert_eq!(sign_inbound("whsec", &body), sign("whsec", "+12137771234"));
/// assert_eq!(inbound_signature_payload(&serde_json::json!({})), "");
/// ```
pub fn inbound_signature_payload(body: &serde_json::Value) -> &str {
    body.get("call_inbound")
        .and_then(|c| c.get("from_number"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
}

/// The signature of an inbound webhook body: [`sign`] over [`inbound_signature_payload`].
pub fn sign_inbound(secret: &str, body: &serde_json::Value) -> String {
    sign(secret, inbound_signature_payload(body))
}

/// Whether `header_value` is the signature of `call_id` under `secret`. The comparison of the
/// digests is constant-time; a value that is not base64 is refused. Whitespace around the value
/// is ignored.
pub fn verify_signature(secret: &str, call_id: &str, header_value: &str) -> bool {
    let Ok(given) = STANDARD.decode(header_value.trim()) else {
        return false;
    };
    let mut m = mac(secret);
    m.update(call_id.as_bytes());
    m.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors computed with the vendor's recipe:
    /// `base64.b64encode(hmac.new(secret.encode(), call_id.encode(), hashlib.sha256).digest())`.
    /// `tests/webhook_signature.rs` recomputes them with Python.
    const VECTORS: &str = include_str!("../fixtures/webhook/signature-vectors.json");

    #[derive(Deserialize)]
    struct Vector {
        secret: String,
        call_id: String,
        signature: String,
    }

    fn vectors() -> Vec<Vector> {
        serde_json::from_str(VECTORS).unwrap()
    }

    #[test]
    fn sign_matches_the_python_recipe_vectors() {
        let v = vectors();
        assert!(v.len() >= 4);
        for x in v {
            assert_eq!(sign(&x.secret, &x.call_id), x.signature, "{}", x.call_id);
            assert!(verify_signature(&x.secret, &x.call_id, &x.signature));
        }
    }

    #[test]
    fn verify_refuses_a_wrong_secret_id_or_encoding() {
        let sig = sign("s3cret", "call-1");
        assert!(verify_signature("s3cret", "call-1", &format!(" {sig}\n")));
        assert!(!verify_signature("s3cret2", "call-1", &sig));
        assert!(!verify_signature("s3cret", "call-2", &sig));
        assert!(!verify_signature("s3cret", "call-1", "not base64!"));
        assert!(!verify_signature("s3cret", "call-1", ""));
        let url_safe = sig.replace('+', "-").replace('/', "_");
        if url_safe != sig {
            assert!(!verify_signature("s3cret", "call-1", &url_safe));
        }
        // A prefix of the right digest is not the digest.
        let short = STANDARD.encode(&STANDARD.decode(&sig).unwrap()[..16]);
        assert!(!verify_signature("s3cret", "call-1", &short));
    }

    fn envelope(call: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "status": "ok",
            "response": {"pagination": {"total_records": 1, "limit": 1, "offset": 0}, "calls": [call]}
        }))
        .unwrap()
    }

    #[test]
    fn the_payload_carries_the_get_record_with_an_iso_start_time() {
        let body = envelope(serde_json::json!({
            "call_id": "c-1", "model_id": "m-1", "name": "Ada", "phone_number_to": "+15550001",
            "phone_number_from": "+15550002", "transcript": "\nbot: Hi\nhuman: Bye",
            "duration": 42, "status": "completed", "end_call_reason": "human_goodbye",
            "start_time": "1760018601512", "timezone": "Europe/Berlin", "error_message": "",
            "prompt_variables": {"Company": "Acme"}, "type_of_call": "outbound",
            "executed_actions": {}, "collected_variables": {"m-1": {"x": {"value": 1, "collected": true}}}
        }));
        let p = PostCallWebhook::from_envelope(&body).unwrap();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], "completed");
        assert_eq!(v["error_message"], "");
        assert_eq!(v["lead"]["name"], "Ada");
        assert_eq!(v["lead"]["phone_number"], "+15550001");
        assert_eq!(v["lead"]["prompt_variables"]["Company"], "Acme");
        assert_eq!(v["call"]["call_id"], "c-1");
        assert_eq!(v["call"]["start_time"], "2025-10-09T14:03:21.512+00:00");
        assert_eq!(v["call"]["duration"], 42);
        assert_eq!(v["call"]["end_call_reason"], "human_goodbye");
        assert_eq!(v["call"]["transcript"], "\nbot: Hi\nhuman: Bye");
        // Flat by default (the webhooks page), by agent on request (the API changelog).
        assert_eq!(v["collected_variables"]["x"]["value"], 1);
        let by_agent = PostCallWebhook::from_envelope_with(
            &body,
            PayloadOptions {
                collected_variables: CollectedShape::ByAgent,
            },
        )
        .unwrap();
        let b = serde_json::to_value(&by_agent).unwrap();
        assert_eq!(b["collected_variables"]["m-1"]["x"]["value"], 1);
        // A completed call has its analysis; the numbers in both forms.
        assert_eq!(v["analysis"]["goal"].as_str().map(|_| ()), Some(()));
        assert_eq!(v["call"]["to_number"], "+15550001");
        assert_eq!(v["call"]["from_number"], "+15550002");
        // Lossless: decode and encode again gives the same value.
        let again: PostCallWebhook = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&again).unwrap(), v);
        assert_eq!(p.call_id(), Some("c-1"));
    }

    #[test]
    fn an_inbound_lead_is_the_caller() {
        let body = envelope(serde_json::json!({
            "call_id": "c-2", "phone_number_to": "+1agent", "phone_number_from": "+1caller",
            "type_of_call": "inbound"
        }));
        let p = PostCallWebhook::from_envelope(&body).unwrap();
        assert_eq!(p.lead.unwrap().phone_number.as_deref(), Some("+1caller"));
    }

    #[test]
    fn unknown_members_are_kept() {
        let raw = serde_json::json!({"status": "completed", "new_top": 1,
            "lead": {"name": "x", "email": "a@b"}, "call": {"call_id": "c", "diversion": null}});
        let p: PostCallWebhook = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), raw);
    }

    #[test]
    fn bodies_that_cannot_make_a_payload_are_typed_errors() {
        assert!(matches!(
            PostCallWebhook::from_envelope(b"nope"),
            Err(WebhookError::NotAnEnvelope(_))
        ));
        let empty = br#"{"status":"ok","response":{"calls":[]}}"#;
        assert!(matches!(
            PostCallWebhook::from_envelope(empty),
            Err(WebhookError::NoCall)
        ));
        assert!(matches!(
            PostCallWebhook::from_envelope(&envelope(serde_json::json!({"status": "completed"}))),
            Err(WebhookError::NoCallId)
        ));
        assert!(matches!(
            PostCallWebhook::from_envelope(&envelope(
                serde_json::json!({"call_id": "c", "start_time": "soon"})
            )),
            Err(WebhookError::Time(_))
        ));
    }
}
