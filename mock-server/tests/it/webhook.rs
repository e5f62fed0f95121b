//! The post-call webhook sender through real loopback receivers: retry policy, never blocking,
//! secrets kept out of journals and admin answers, receiver faults, admin API, `webhook send`.

use std::time::{Duration, Instant};

use synthflow::webhook::{verify_signature, PostCallWebhook};
use synthflow_mock::{BadBody, MockServer, PostError, ReceiverFaults, WebhookConfig};

use crate::support::{self, receiver, receiver_with, silent_receiver, BIN};

const SECRET: &str = "whsec-test-0123456789abcdef";
/// A generated fixture: a completed call with a transcript and collected variables.
const ID: &str = "5cbd7a9d-452c-4e0e-b2d8-c62c545989f3";
/// More generated, final calls.
const OTHERS: [&str; 4] = [
    "1c32a3b0-a45c-4d0c-b2b7-7cffd5d687a8",
    "3af76f91-2903-4a1e-9d3d-39b14903f634",
    "5927ea81-1808-4717-9fad-b4c18d3a2d4e",
    "a306069e-5167-41d9-868f-6c0b176765c8",
];

fn config() -> WebhookConfig {
    crate::support::quick_webhooks(SECRET)
}

async fn mock(config: WebhookConfig) -> MockServer {
    crate::support::admin_mock(config).await
}

fn body_of(mock: &MockServer, id: &str) -> bytes::Bytes {
    mock.state().store().get(id).unwrap().body.clone()
}

fn signature(r: &support::Received) -> String {
    r.headers
        .get("synthflow-signature")
        .expect("signature header")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_three_attempts_all_journaled() {
    let mock = mock(config()).await;
    let rcv = receiver(vec![500, 500, 200]).await;
    mock.webhooks()
        .post_call(Some(&rcv.url), &body_of(&mock, ID))
        .unwrap();
    assert!(mock.webhooks().wait_idle(Duration::from_secs(10)).await);
    let got = rcv.wait_for(3).await;
    for r in &got {
        assert!(verify_signature(SECRET, ID, &signature(r)));
        let p: PostCallWebhook = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(p.call_id(), Some(ID));
        assert_eq!(r.headers["content-type"], "application/json");
    }
    let d = mock.webhook_deliveries();
    let summary: Vec<(u32, Option<u16>, &str)> =
        d.iter().map(|d| (d.attempt, d.status, d.outcome)).collect();
    assert_eq!(
        summary,
        [
            (1, Some(500), "retry"),
            (2, Some(500), "retry"),
            (3, Some(200), "delivered")
        ]
    );
    assert!(d
        .iter()
        .all(|d| d.call_id == ID && d.url == rcv.url && d.signed));
    let stats = mock.webhooks().stats();
    assert_eq!((stats.delivered, stats.failed, stats.pending), (1, 0, 0));
}

#[tokio::test]
async fn the_payload_agrees_with_get_on_every_shared_field() {
    let mock = mock(config()).await;
    let rcv = receiver(vec![]).await;
    let get = body_of(&mock, ID);
    mock.webhooks().post_call(Some(&rcv.url), &get).unwrap();
    let got = rcv.wait_for(1).await;
    let p: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    let g: serde_json::Value = serde_json::from_slice(&get).unwrap();
    support::assert_payload_agrees_with_get(&p, &g["response"]["calls"][0]);
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_block_callers() {
    let (url, _silent) = silent_receiver().await;
    let mock = mock(WebhookConfig {
        timeout: Duration::from_millis(300),
        attempts: 1,
        ..config()
    })
    .await;
    let body = body_of(&mock, ID);
    let t0 = Instant::now();
    for _ in 0..20 {
        mock.webhooks().post_call(Some(&url), &body).unwrap();
    }
    assert!(
        t0.elapsed() < Duration::from_millis(200),
        "{:?}",
        t0.elapsed()
    );
    // The API answers while the deliveries hang.
    let t1 = Instant::now();
    let r = support::get(&mock, &format!("/calls/{ID}")).await;
    assert_eq!(r.status(), 200);
    assert!(
        t1.elapsed() < Duration::from_millis(250),
        "{:?}",
        t1.elapsed()
    );
    assert!(mock.webhooks().wait_idle(Duration::from_secs(5)).await);
    let d = mock.webhook_deliveries();
    assert_eq!(d.len(), 20);
    assert!(d
        .iter()
        .all(|d| d.outcome == "failed" && d.error.as_deref().unwrap_or("").contains("timed out")));
}

#[tokio::test]
async fn a_full_queue_refuses_counts_and_does_not_block() {
    let (url, _silent) = silent_receiver().await;
    let mock = mock(WebhookConfig {
        timeout: Duration::from_secs(30),
        queue: 1,
        max_in_flight: 1,
        ..config()
    })
    .await;
    let body = body_of(&mock, ID);
    let mut refused = 0;
    for _ in 0..10 {
        if let Err(PostError::QueueFull(_)) = mock.webhooks().post_call(Some(&url), &body) {
            refused += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(refused >= 7, "refused {refused}");
    assert_eq!(mock.webhooks().stats().refused_queue_full, refused);
    // Shutdown reports what did not go out.
    let report = mock.webhooks().shutdown(Duration::from_millis(100)).await;
    assert!(!report.pending.is_empty() && report.pending.iter().all(|p| p == ID));
    assert!(matches!(
        mock.webhooks().post_call(Some(&url), &body),
        Err(PostError::ShutDown)
    ));
}

#[tokio::test]
async fn shutdown_delivers_what_is_queued_within_its_grace() {
    let mock = mock(config()).await;
    let rcv = receiver(vec![]).await;
    for id in OTHERS.iter().chain([&ID]) {
        mock.webhooks()
            .post_call(Some(&rcv.url), &body_of(&mock, id))
            .unwrap();
    }
    let report = mock.webhooks().shutdown(Duration::from_secs(5)).await;
    assert!(report.pending.is_empty());
    assert_eq!(rcv.received().len(), 5);
}

#[tokio::test]
async fn the_secret_and_signatures_are_never_in_the_journal_or_admin_answers() {
    let mock = mock(config()).await;
    let rcv = receiver(vec![503]).await;
    mock.webhooks()
        .post_call(Some(&rcv.url), &body_of(&mock, ID))
        .unwrap();
    let got = rcv.wait_for(2).await;
    assert!(mock.webhooks().wait_idle(Duration::from_secs(5)).await);
    let sig = signature(&got[0]);
    let admin = reqwest::get(format!("{}/__admin/webhooks", mock.uri()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let journal = serde_json::to_string(&mock.webhook_deliveries()).unwrap();
    let debug = format!("{:?} {:?}", mock.webhook_deliveries(), mock.state());
    for text in [&admin, &journal, &debug] {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
        assert!(!text.contains(&sig), "signature leaked: {text}");
    }
    assert!(admin.contains("\"signed\":true") && admin.contains(ID));
}

#[tokio::test]
async fn late_deliveries_wait_their_delay() {
    let mock = mock(config()).await;
    let rcv = receiver(vec![]).await;
    mock.set_webhook_faults(ReceiverFaults {
        delay_ms: Some(400),
        ..Default::default()
    })
    .unwrap();
    let t0 = Instant::now();
    mock.webhooks()
        .post_call(Some(&rcv.url), &body_of(&mock, ID))
        .unwrap();
    let got = rcv.wait_for(1).await;
    assert!(got[0].at.duration_since(t0) >= Duration::from_millis(400));
    assert!(mock.webhooks().wait_idle(Duration::from_secs(5)).await);
    assert_eq!(
        mock.webhook_deliveries()[0].fault.as_deref(),
        Some("delay_ms=400")
    );
}

#[tokio::test]
async fn duplicates_arrive_twice_identical() {
    let mock = mock(config()).await;
    let rcv = receiver(vec![]).await;
    mock.set_webhook_faults(ReceiverFaults {
        duplicate: true,
        ..Default::default()
    })
    .unwrap();
    mock.webhooks()
        .post_call(Some(&rcv.url), &body_of(&mock, ID))
        .unwrap();
    let got = rcv.wait_for(2).await;
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(signature(&got[0]), signature(&got[1]));
    assert!(mock.webhooks().wait_idle(Duration::from_secs(5)).await);
    let dup: Vec<bool> = mock
        .webhook_deliveries()
        .iter()
        .map(|d| d.duplicate)
        .collect();
    assert_eq!(dup, [false, true]);
}

#[tokio::test]
async fn out_of_order_sends_the_next_first() {
    let mock = mock(config()).await;
    let rcv = receiver(vec![]).await;
    mock.set_webhook_faults(ReceiverFaults {
        out_of_order: true,
        ..Default::default()
    })
    .unwrap();
    let ids: Vec<String> = OTHERS[..2].iter().map(|s| s.to_string()).collect();
    for id in &ids {
        mock.webhooks()
            .post_call(Some(&rcv.url), &body_of(&mock, id))
            .unwrap();
    }
    let got = rcv.wait_for(2).await;
    let order: Vec<String> = got
        .iter()
        .map(|r| {
            serde_json::from_slice::<PostCallWebhook>(&r.body)
                .unwrap()
                .call_id()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(order, [ids[1].clone(), ids[0].clone()]);
}

/// A receiver that checks the signature and the body as an integrator's should.
async fn strict_receiver() -> support::Receiver {
    receiver_with(|_, r| {
        let Ok(p) = serde_json::from_slice::<PostCallWebhook>(&r.body) else {
            return 400;
        };
        let Some(id) = p.call_id() else { return 400 };
        let sig = r
            .headers
            .get("synthflow-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if verify_signature(SECRET, id, sig) {
            200
        } else {
            401
        }
    })
    .await
}

#[tokio::test]
async fn a_bad_signature_is_refused_and_not_retried() {
    let mock = mock(config()).await;
    let rcv = strict_receiver().await;
    mock.set_webhook_faults(ReceiverFaults {
        bad_signature: true,
        ..Default::default()
    })
    .unwrap();
    mock.webhooks()
        .post_call(Some(&rcv.url), &body_of(&mock, ID))
        .unwrap();
    assert!(mock.webhooks().wait_idle(Duration::from_secs(5)).await);
    let d = mock.webhook_deliveries();
    assert_eq!(d.len(), 1, "a 4xx is not retried: {d:?}");
    assert_eq!((d[0].status, d[0].outcome), (Some(401), "refused"));
    // And with the fault gone, the same receiver accepts.
    mock.set_webhook_faults(ReceiverFaults::default()).unwrap();
    mock.webhooks().resend(ID).unwrap();
    assert!(mock.webhooks().wait_idle(Duration::from_secs(5)).await);
    assert_eq!(mock.webhook_deliveries()[1].status, Some(200));
}

#[tokio::test]
async fn bodies_the_receiver_must_reject_are_rejected() {
    let mock = mock(config()).await;
    let rcv = strict_receiver().await;
    for bad in [BadBody::MalformedJson, BadBody::MissingCallId] {
        mock.set_webhook_faults(ReceiverFaults {
            bad_body: Some(bad),
            ..Default::default()
        })
        .unwrap();
        mock.webhooks()
            .post_call(Some(&rcv.url), &body_of(&mock, ID))
            .unwrap();
        assert!(mock.webhooks().wait_idle(Duration::from_secs(5)).await);
    }
    let statuses: Vec<Option<u16>> = mock.webhook_deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [Some(400), Some(400)]);
}

#[tokio::test]
async fn the_admin_api_sets_faults_sends_and_lists() {
    let mock = mock(config()).await;
    let rcv = receiver(vec![]).await;
    let http = reqwest::Client::new();
    let base = format!("{}/__admin/webhooks", mock.uri());
    let r = http
        .put(format!("{base}/faults"))
        .body(r#"{"duplicate":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(mock.webhooks().faults().duplicate);
    let bad = http
        .put(format!("{base}/faults"))
        .body(r#"{"twice":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let r = http
        .post(format!("{base}/{ID}/send"))
        .body(format!(r#"{{"url":"{}"}}"#, rcv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    rcv.wait_for(2).await;
    let r = http.delete(format!("{base}/faults")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(mock.webhooks().faults().is_empty());
    // Without a URL: the last payload again, to the same receiver.
    let r = http.post(format!("{base}/{ID}/send")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    rcv.wait_for(3).await;
    let unknown = http
        .post(format!("{base}/no-such-call/send"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(mock.webhooks().wait_idle(Duration::from_secs(5)).await);
    let listed: serde_json::Value = http.get(&base).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["deliveries"].as_array().unwrap().len(), 3);
    assert_eq!(listed["stats"]["delivered"], 2);
}

/// The vendor's recipe, as a receiver: Python's http.server, `hmac.compare_digest`.
const PY_RECEIVER: &str = r#"
import base64, hashlib, hmac, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
SECRET = sys.argv[1]
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        call_id = json.loads(body)["call"]["call_id"]
        expected = base64.b64encode(hmac.new(SECRET.encode(), call_id.encode(), hashlib.sha256).digest()).decode()
        ok = hmac.compare_digest(expected, self.headers.get("Synthflow-Signature", ""))
        self.send_response(200 if ok else 401)
        self.end_headers()
        self.wfile.write(b"verified " + call_id.encode() if ok else b"bad signature")
    def log_message(self, *a):
        pass
s = HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

struct Py(std::process::Child);
impl Drop for Py {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn py_receiver() -> (Py, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new("python3")
        .args(["-c", PY_RECEIVER, SECRET])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = format!("http://127.0.0.1:{}/hook", line.trim());
    (Py(child), url)
}

fn send(to: &str, secret: &str, source: &[&str]) -> std::process::Output {
    let mut args = vec!["webhook", "send", "--to", to, "--secret", secret];
    args.extend_from_slice(source);
    std::process::Command::new(BIN)
        .args(&args)
        .env_remove("SYNTHFLOW_MOCK_WEBHOOK_SECRET")
        .output()
        .unwrap()
}

#[test]
fn webhook_send_passes_the_python_recipe_and_fails_with_a_wrong_secret() {
    let (_py, url) = py_receiver();
    let good = send(&url, SECRET, &["--call-id", ID]);
    let out = String::from_utf8_lossy(&good.stdout);
    assert!(good.status.success(), "{out}");
    assert!(
        out.contains("status: 200") && out.contains(&format!("verified {ID}")),
        "{out}"
    );
    let bad = send(&url, "not-the-secret", &["--call-id", ID]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("status: 401"));
    // A fixture file works the same.
    let file = support::repo().join(format!("fixtures/calls/{ID}.json"));
    let from_file = send(&url, SECRET, &["--fixture", file.to_str().unwrap()]);
    assert!(from_file.status.success());
}

#[tokio::test]
async fn webhook_send_against_a_rust_receiver() {
    let rcv = strict_receiver().await;
    let url = rcv.url.clone();
    let out = tokio::task::spawn_blocking(move || send(&url, SECRET, &["--call-id", ID]))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(rcv.received().len(), 1);
    let unknown = send(&rcv.url, SECRET, &["--call-id", "no-such-call"]);
    assert_eq!(unknown.status.code(), Some(2));
    let nobody = send("http://127.0.0.1:9/hook", SECRET, &["--call-id", ID]);
    assert_eq!(nobody.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_signs_with_its_flags_keeps_secrets_out_of_logs_and_reports_at_shutdown() {
    use std::io::BufRead;
    let rcv = receiver(vec![]).await;
    let (silent, _task) = silent_receiver().await;
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = std::process::Command::new(BIN)
        .args([
            "--port",
            "0",
            "--admin",
            "loopback",
            "--webhook-url",
            &rcv.url,
        ])
        .args([
            "--webhook-timeout-ms",
            "60000",
            "--webhook-shutdown-grace",
            "1",
        ])
        .env("SYNTHFLOW_MOCK_WEBHOOK_SECRET", SECRET)
        .env("RUST_LOG", "debug")
        .env_remove("SYNTHFLOW_MOCK_FIXTURES")
        .stdout(std::process::Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let root = line[line.find("http://").unwrap()..]
        .split("/v2/")
        .next()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let send = format!("{root}/__admin/webhooks/{ID}/send");
    assert_eq!(http.post(&send).send().await.unwrap().status(), 200);
    let got = rcv.wait_for(1).await;
    let sig = signature(&got[0]);
    assert!(verify_signature(SECRET, ID, &sig));
    // One that cannot finish: the silent receiver holds it past the shutdown grace.
    let r = http
        .post(&send)
        .body(format!(r#"{{"url":"{silent}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let admin = http
        .get(format!("{root}/__admin/webhooks"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let stderr = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        stderr.contains("not delivered at shutdown") && stderr.contains(ID),
        "{stderr}"
    );
    assert!(stderr.contains("webhook delivered"), "{stderr}");
    for text in [&stderr, &admin] {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
        assert!(!text.contains(&sig), "signature leaked: {text}");
    }
}

#[tokio::test]
async fn without_a_secret_webhooks_go_unsigned() {
    let mock = mock(WebhookConfig {
        secret: None,
        default_url: None,
        ..config()
    })
    .await;
    let rcv = receiver(vec![]).await;
    let hooks = mock.webhooks();
    assert!(matches!(
        hooks.post_call(None, &body_of(&mock, ID)),
        Err(PostError::NoUrl)
    ));
    hooks
        .post_call(Some(&rcv.url), &body_of(&mock, ID))
        .unwrap();
    let got = rcv.wait_for(1).await;
    assert!(got[0].headers.get("synthflow-signature").is_none());
    assert!(hooks.wait_idle(Duration::from_secs(5)).await);
    assert!(!mock.webhook_deliveries()[0].signed);
}

#[tokio::test]
async fn the_signature_header_name_is_configurable() {
    let mock = mock(WebhookConfig {
        signature_header: http::HeaderName::from_static("x-custom-signature"),
        ..config()
    })
    .await;
    let rcv = receiver(vec![]).await;
    mock.webhooks()
        .post_call(Some(&rcv.url), &body_of(&mock, ID))
        .unwrap();
    let got = rcv.wait_for(1).await;
    let sig = got[0].headers["x-custom-signature"].to_str().unwrap();
    assert!(verify_signature(SECRET, ID, sig));
    assert!(got[0].headers.get("synthflow-signature").is_none());
}
