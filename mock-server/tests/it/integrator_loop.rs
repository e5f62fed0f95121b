//! The integrator's whole loop, as a client sees it: make a call over HTTP, poll GET through every
//! lifecycle step until it is final, and receive the signed post-call webhook on a loopback
//! receiver; the signature verifies with the vendor's Python recipe, and the payload agrees with
//! GET on every shared field.

use std::time::Duration;

use serde_json::{json, Value};
use synthflow_mock::{MockServer, Secret, WebhookConfig};

use crate::support;

const SECRET: &str = "whsec-loop-test";

/// The vendor's published recipe (Python's hmac over the call id, base64), run as Python.
fn python_verifies(secret: &str, call_id: &str, signature: &str) -> bool {
    let script = "import base64,hashlib,hmac,sys\n\
        s,c,sig=sys.argv[1:4]\n\
        d=base64.b64encode(hmac.new(s.encode(),c.encode(),hashlib.sha256).digest()).decode()\n\
        sys.exit(0 if hmac.compare_digest(d,sig) else 1)";
    std::process::Command::new("python3")
        .args(["-c", script, secret, call_id, signature])
        .status()
        .expect("python3 runs")
        .success()
}

#[tokio::test]
async fn a_made_call_plays_out_and_its_signed_webhook_agrees_with_get() {
    let mock = MockServer::builder()
        .webhooks(WebhookConfig {
            secret: Some(Secret::new(SECRET)),
            ..WebhookConfig::default()
        })
        .start()
        .await
        .unwrap();
    let rcv = support::receiver(vec![]).await;
    let made = support::post_call(
        &mock.base_url(),
        &json!({
            "model_id": "agent-loop",
            "phone": "+15555550100",
            "name": "Grace Hopper",
            "custom_variables": [{"key": "plan", "value": "gold"}],
            "external_webhook_url": rcv.url,
        }),
    )
    .await;
    let id = made["response"]["call_id"].as_str().unwrap().to_owned();

    let (seen, get) = crate::make_call::play_out(&mock, &id).await;
    assert_eq!(seen, ["pending", "ringing", "in-progress", "completed"]);

    let got = rcv.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rcv.received().len(), 1, "one delivery for one call");
    let signature = got[0].headers["synthflow-signature"].to_str().unwrap();
    assert!(python_verifies(SECRET, &id, signature));
    assert!(!python_verifies("another-secret", &id, signature));

    let payload: Value = serde_json::from_slice(&got[0].body).unwrap();
    let call = &get["response"]["calls"][0];
    support::assert_payload_agrees_with_get(&payload, call);
    assert_eq!(payload["lead"]["name"], "Grace Hopper");
    assert_eq!(
        payload["lead"]["prompt_variables"],
        call["prompt_variables"]
    );
    // Flat by default (the webhooks page): every collected entry of the record, by name.
    let flat = payload["collected_variables"].as_object().unwrap();
    for (_, vars) in call["collected_variables"].as_object().unwrap() {
        for (name, v) in vars.as_object().unwrap() {
            if v["collected"] == true {
                assert_eq!(&flat[name], v, "{name}");
            } else {
                assert!(!flat.contains_key(name), "{name} was not collected");
            }
        }
    }
    let deliveries = mock.webhook_deliveries();
    assert_eq!(deliveries.len(), 1);
    assert!(!format!("{deliveries:?}").contains(signature));
}
