//! Webhook cases: check a post-call webhook **receiver** (the integrator's endpoint) the way the
//! vendor would exercise it. A payload built from a fixture is sent
//!
//! - `webhook_signed`: signed with the secret → the receiver must accept it (2xx);
//! - `webhook_bad_signature`: signed with another secret → the receiver must refuse it (4xx);
//! - `webhook_unsigned`: without the signature header → the receiver must refuse it (4xx).
//!
//! The signature is the vendor's: base64 of HMAC-SHA256 over the `call_id`, in the
//! `Synthflow-Signature` header unless told otherwise. The secret is never printed.

use std::fmt;
use std::time::Duration;

use synthflow::webhook::{sign, PostCallWebhook};

use crate::{CaseResult, SuiteReport};

/// The GET body the sample payload is built from (a generated, completed call). `sample-call.json`
/// links to `fixtures/calls/5cbd7a9d-….json`, so the packaged crate holds it (cargo package follows
/// the link).
const SAMPLE: &str = include_str!("sample-call.json");

/// A receiver to check.
#[derive(Clone)]
pub struct WebhookTarget {
    /// The receiver's URL.
    pub receiver_url: String,
    /// The secret the receiver verifies with.
    pub secret: String,
    /// The signature header's wire name.
    pub signature_header: String,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("receiver_url", &self.receiver_url)
            .field("secret", &"<redacted>")
            .field("signature_header", &self.signature_header)
            .finish()
    }
}

impl WebhookTarget {
    /// A receiver with the default header and a 30 s timeout.
    pub fn new(receiver_url: impl Into<String>, secret: impl Into<String>) -> Self {
        WebhookTarget {
            receiver_url: receiver_url.into(),
            secret: secret.into(),
            signature_header: synthflow::webhook::SIGNATURE_HEADER.to_owned(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The sample payload every case sends.
pub fn sample_payload() -> PostCallWebhook {
    PostCallWebhook::from_envelope(SAMPLE.as_bytes()).expect("the sample fixture makes a payload")
}

/// Runs the three webhook cases against `target`.
pub async fn run_webhook_cases(target: &WebhookTarget) -> SuiteReport {
    let payload = sample_payload();
    let call_id = payload.call_id().unwrap_or_default().to_owned();
    let body = payload.to_json();
    let good = sign(&target.secret, &call_id);
    let bad = sign(&format!("{}-wrong", target.secret), &call_id);
    let mut report = SuiteReport::default();
    report
        .cases
        .push(case("webhook_signed", target, &body, Some(&good), true).await);
    report
        .cases
        .push(case("webhook_bad_signature", target, &body, Some(&bad), false).await);
    report
        .cases
        .push(case("webhook_unsigned", target, &body, None, false).await);
    report
}

async fn case(
    name: &str,
    target: &WebhookTarget,
    body: &[u8],
    signature: Option<&str>,
    accept: bool,
) -> CaseResult {
    let mut failures = Vec::new();
    let http = match reqwest::Client::builder().timeout(target.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            return CaseResult {
                name: name.into(),
                failures: vec![e.to_string()],
            }
        }
    };
    let mut req = http
        .post(&target.receiver_url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header(target.signature_header.as_str(), s);
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            if accept && !(200..300).contains(&status) {
                failures.push(format!(
                    "a correctly signed webhook must be accepted (2xx), got {status}"
                ));
            }
            if !accept && !(400..500).contains(&status) {
                failures.push(format!(
                    "a webhook without a valid signature must be refused (4xx), got {status}"
                ));
            }
        }
        Err(e) => failures.push(format!("request failed: {}", e.without_url())),
    }
    CaseResult {
        name: name.into(),
        failures,
    }
}
