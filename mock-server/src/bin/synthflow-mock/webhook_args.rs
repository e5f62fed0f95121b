//! `serve`'s flags for the post-call webhook sender and the outgoing door (see docs/webhooks.md
//! and docs/hardening.md).

use clap::Args;
use synthflow_mock::internals::outgoing::Allow;
use synthflow_mock::{ReceiverFaults, Secret, WebhookConfig};

/// The post-call webhook sender's flags.
#[derive(Args, Debug, Clone)]
pub struct WebhookArgs {
    /// Default post-call webhook URL (http only), for calls made without external_webhook_url.
    #[arg(long, env = "SYNTHFLOW_MOCK_WEBHOOK_URL", value_name = "URL")]
    pub webhook_url: Option<String>,
    /// Secret to sign webhooks with (prefer the env var: a flag shows in `ps`). Also read from
    /// SYNTHFLOW_WEBHOOK_SECRET, the name receivers read, when neither this flag nor
    /// SYNTHFLOW_MOCK_WEBHOOK_SECRET is set. Unset: unsigned (warned at start).
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub webhook_secret: Option<String>,
    /// Wire name of the signature header (the docs print its WSGI form HTTP_SYNTHFLOW_SIGNATURE).
    /// Redacted wherever a request is journaled, whatever its name.
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_WEBHOOK_SIGNATURE_HEADER",
        default_value = "Synthflow-Signature",
        value_name = "NAME"
    )]
    pub webhook_signature_header: String,
    /// Attempts per delivery, the first included (the vendor publishes no policy).
    #[arg(long, env = "SYNTHFLOW_MOCK_WEBHOOK_ATTEMPTS", default_value_t = 3)]
    pub webhook_attempts: u32,
    /// Milliseconds before the first retry, doubled before each next one.
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_WEBHOOK_BACKOFF_MS",
        default_value_t = 1000
    )]
    pub webhook_backoff_ms: u64,
    /// Timeout of one delivery attempt, in milliseconds.
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_WEBHOOK_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub webhook_timeout_ms: u64,
    /// Deliveries that may wait in the queue; more are dropped (counted, logged).
    #[arg(long, env = "SYNTHFLOW_MOCK_WEBHOOK_QUEUE", default_value_t = 1000)]
    pub webhook_queue: usize,
    /// Delivery journal size, in attempts (0 = off).
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_WEBHOOK_JOURNAL_SIZE",
        default_value_t = 1000
    )]
    pub webhook_journal_size: usize,
    /// Seconds given to pending deliveries at shutdown; those left are reported.
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_WEBHOOK_SHUTDOWN_GRACE",
        default_value_t = 5
    )]
    pub webhook_shutdown_grace: u64,
    /// The only targets webhooks (and every outgoing request) may reach, HOST or HOST:PORT
    /// (repeat, or comma-separate in the env var). Default: any http:// host but link-local and
    /// metadata addresses; the mock's own address is refused always.
    #[arg(
        long = "webhook-allow",
        env = "SYNTHFLOW_MOCK_WEBHOOK_ALLOW",
        value_delimiter = ',',
        value_name = "HOST[:PORT]"
    )]
    pub webhook_allow: Vec<Allow>,
    /// A receiver fault on every delivery (repeat): delay_ms=MS (at most the attempt timeout),
    /// duplicate, out_of_order, bad_signature, bad_body=malformed_json|missing_call_id. Also set
    /// at run time with PUT /__admin/webhooks/faults.
    #[arg(
        long = "webhook-fault",
        env = "SYNTHFLOW_MOCK_WEBHOOK_FAULTS",
        value_delimiter = ',',
        value_name = "FAULT"
    )]
    pub webhook_faults: Vec<String>,
    /// The shape of `collected_variables` in the post-call payload: flat (by variable name, only
    /// collected entries: the vendor's webhooks page) or by-agent (by agent id, then name: the
    /// API changelog, and how GET keeps it).
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_COLLECTED_VARIABLES",
        default_value = "flat",
        value_name = "flat|by-agent"
    )]
    pub collected_variables: synthflow::webhook::CollectedShape,
    /// Milliseconds the integrator's inbound-call endpoint has to answer one request (then up to
    /// 3 more are sent, as the vendor documents).
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_INBOUND_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub inbound_timeout_ms: u64,
    /// The agent that takes an inbound call when the endpoint gives no decision (the vendor's
    /// default_agent); unset: such a call is disconnected.
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_INBOUND_DEFAULT_AGENT",
        value_name = "MODEL_ID"
    )]
    pub inbound_default_agent: Option<String>,
    /// A header every inbound-call request carries, NAME:VALUE (repeat), e.g. the shared secret a
    /// receiver checks (`x-sa360-secret:…`).
    #[arg(long = "inbound-header", value_name = "NAME:VALUE")]
    pub inbound_headers: Vec<String>,
}

impl WebhookArgs {
    /// The sender's configuration; `fallback_secret`: SYNTHFLOW_WEBHOOK_SECRET's value, used when
    /// no secret of the mock's own is given.
    pub fn config(&self, fallback_secret: Option<String>) -> Result<WebhookConfig, String> {
        let signature_header = http::HeaderName::from_bytes(
            self.webhook_signature_header.as_bytes(),
        )
        .map_err(|e| {
            format!(
                "synthflow-mock: --webhook-signature-header {:?}: {e}",
                self.webhook_signature_header
            )
        })?;
        let secret = self
            .webhook_secret
            .clone()
            .filter(|s| !s.is_empty())
            .or(fallback_secret.filter(|s| !s.is_empty()))
            .map(Secret::new);
        Ok(WebhookConfig {
            default_url: self.webhook_url.clone(),
            secret,
            signature_header,
            attempts: self.webhook_attempts,
            backoff: std::time::Duration::from_millis(self.webhook_backoff_ms),
            timeout: std::time::Duration::from_millis(self.webhook_timeout_ms),
            queue: self.webhook_queue,
            journal_size: self.webhook_journal_size,
            allow: self.webhook_allow.clone(),
            payload: synthflow::webhook::PayloadOptions {
                collected_variables: self.collected_variables,
            },
            inbound: synthflow_mock::InboundConfig {
                timeout: std::time::Duration::from_millis(self.inbound_timeout_ms),
                default_agent: self.inbound_default_agent.clone(),
                headers: self
                    .inbound_headers
                    .iter()
                    .map(|h| {
                        h.split_once(':')
                            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                            .filter(|(k, _)| http::HeaderName::from_bytes(k.as_bytes()).is_ok())
                            .ok_or_else(|| {
                                format!(
                                    "synthflow-mock: --inbound-header {h:?}: expected NAME:VALUE"
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?,
            },
            ..WebhookConfig::default()
        })
    }

    /// The receiver faults of `--webhook-fault`, checked against the attempt timeout.
    pub fn faults(&self) -> Result<ReceiverFaults, String> {
        let mut faults = ReceiverFaults::default();
        for f in &self.webhook_faults {
            faults
                .add_flag(f)
                .map_err(|e| format!("synthflow-mock: --webhook-fault {e}"))?;
        }
        faults
            .check(std::time::Duration::from_millis(self.webhook_timeout_ms))
            .map_err(|e| format!("synthflow-mock: --webhook-fault {e}"))?;
        Ok(faults)
    }
}
