//! The webhook cases against loopback receivers: one that checks the signature as the vendor's
//! recipe does passes; one that accepts anything fails on the badly signed and unsigned payloads.

use std::process::Command;

use contract_tests::webhook::{run_webhook_cases, WebhookTarget};
use synthflow::webhook::{verify_signature, PostCallWebhook};
use wiremock::matchers::method;
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "receiver-secret-42";
const BIN: &str = env!("CARGO_BIN_EXE_synthflow-check");

/// Matches a request whose `Synthflow-Signature` is the signature of its payload's call id.
struct SignedBy(&'static str);

impl Match for SignedBy {
    fn matches(&self, req: &Request) -> bool {
        let Ok(p) = serde_json::from_slice::<PostCallWebhook>(&req.body) else {
            return false;
        };
        let sig = req
            .headers
            .get("synthflow-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        p.call_id()
            .is_some_and(|id| verify_signature(self.0, id, sig))
    }
}

async fn checking_receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(SignedBy(SECRET))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_receiver_that_checks_signatures_passes() {
    let rcv = checking_receiver().await;
    let report =
        run_webhook_cases(&WebhookTarget::new(format!("{}/hook", rcv.uri()), SECRET)).await;
    assert!(report.passed(), "{report}");
    assert_eq!(report.cases.len(), 3);
}

#[tokio::test]
async fn a_receiver_that_accepts_anything_fails_the_refusal_cases() {
    let rcv = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&rcv)
        .await;
    let report = run_webhook_cases(&WebhookTarget::new(rcv.uri(), SECRET)).await;
    let failed: Vec<&str> = report.failed().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(failed, ["webhook_bad_signature", "webhook_unsigned"]);
}

#[tokio::test]
async fn a_receiver_with_the_wrong_secret_fails_the_signed_case() {
    let rcv = checking_receiver().await;
    let report = run_webhook_cases(&WebhookTarget::new(rcv.uri(), "another-secret")).await;
    let failed: Vec<&str> = report.failed().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(failed, ["webhook_signed"]);
}

#[tokio::test]
async fn synthflow_check_runs_the_webhook_cases_alone() {
    let rcv = checking_receiver().await;
    let url = rcv.uri();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["--webhook-receiver", &url])
            .env("SYNTHFLOW_WEBHOOK_SECRET", SECRET)
            .env_remove("SYNTHFLOW_API_KEY")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("PASS webhook_signed") && stdout.contains("3 passed, 0 failed"));
    assert!(!stdout.contains(SECRET));
    let url = rcv.uri();
    let bad = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["--webhook-receiver", &url, "--webhook-secret", "wrong"])
            .env_remove("SYNTHFLOW_WEBHOOK_SECRET")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(bad.status.code(), Some(1));
}
