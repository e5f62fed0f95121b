//! The one test helper module: running the binary, fixture copies, in-process requests.
#![allow(dead_code)] // each test module uses a different subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_synthflow-mock");

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A running server (killed on drop) and its base URL, read from the start-up line.
pub struct Running(pub Child, pub String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server with `args` in `cwd` (the environment's fixture folder removed).
pub fn start_in(args: &[&str], cwd: &Path) -> Running {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("SYNTHFLOW_MOCK_FIXTURES")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let at = line.find("http://").expect("start-up line names the URL");
    let url = line[at..].split("/calls/").next().unwrap().to_owned();
    Running(child, url)
}

/// A running binary whose log (stderr) the test reads, and what its start-up line names. Not
/// killed on drop: the tests stop it with a signal and read what it wrote.
pub struct Capturing {
    pub child: Child,
    /// The base URL: `http://127.0.0.1:PORT/v2`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The call id the start-up line gives as an example.
    pub example_id: String,
    /// The start-up line.
    pub line: String,
    /// The rest of stdout, after the start-up line.
    pub stdout: BufReader<std::process::ChildStdout>,
}

/// What a [`Capturing`] binary left when stopped.
pub struct Stopped {
    pub status: std::process::ExitStatus,
    /// stdout after the start-up line.
    pub stdout: String,
    /// The log.
    pub stderr: String,
}

impl Capturing {
    /// Stops the binary with SIGTERM (a clean stop: its log flusher writes the rest) and reads
    /// what it wrote until it exits.
    pub fn stop(mut self) -> Stopped {
        use std::io::Read;
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM");
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let mut stdout = String::new();
        self.stdout.read_to_string(&mut stdout).unwrap();
        let status = self.child.wait().unwrap();
        Stopped {
            status,
            stdout,
            stderr,
        }
    }
}

/// Starts the binary with `args` and the environment's `SYNTHFLOW_MOCK_FIXTURES` and `RUST_LOG`
/// removed, then `env` set; stdout and stderr piped; waits for its start-up line
/// (`synthflow-mock: serving N calls on http://ADDR/v2/calls/{call_id} (e.g. ID)`).
pub fn spawn_capturing(args: &[&str], env: &[(&str, &str)]) -> Capturing {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("SYNTHFLOW_MOCK_FIXTURES")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let at = line.find("http://").expect("start-up line names the URL");
    let url = line[at..].split("/calls/").next().unwrap().to_owned();
    let addr = url["http://".len()..].split('/').next().unwrap().to_owned();
    let example_id = line
        .rsplit("(e.g. ")
        .next()
        .unwrap()
        .trim()
        .trim_end_matches(')')
        .to_owned();
    Capturing {
        child,
        url,
        addr,
        example_id,
        line,
        stdout,
    }
}

/// `POST {base}/calls` (base: `http://…/v2`) with a Bearer token and `body` as JSON; the answer.
pub async fn post_call(base: &str, body: &serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base}/calls"))
        .bearer_auth("t")
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An in-process mock keeping at most `max_calls` made calls.
pub async fn mock_keeping(max_calls: usize) -> synthflow_mock::MockServer {
    synthflow_mock::MockServer::builder()
        .made_calls(synthflow_mock::MadeCallConfig {
            max_calls,
            ..synthflow_mock::MadeCallConfig::default()
        })
        .start()
        .await
        .unwrap()
}

/// Runs the binary to completion.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SYNTHFLOW_MOCK_FIXTURES")
        .output()
        .unwrap()
}

/// A temporary fixture folder holding a copy of the hand-made calls under `calls/`.
pub fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("calls")).unwrap();
    for e in std::fs::read_dir(repo().join("fixtures/handmade/calls")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join("calls").join(p.file_name().unwrap())).unwrap();
    }
    dir
}

/// `GET {mock.base_url()}{path}` with a Bearer token: `path` is what follows `/v2`
/// (`/calls/ID`, `/calls?model_id=x`).
pub async fn get(mock: &synthflow_mock::MockServer, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", mock.base_url()))
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
}

/// `GET {mock.uri()}{path}` (an admin path, no token), its body as JSON.
pub async fn admin_json(mock: &synthflow_mock::MockServer, path: &str) -> serde_json::Value {
    reqwest::get(format!("{}{path}", mock.uri()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A post-call webhook `payload` agrees with the call record `call` of its GET body on every
/// field they share: the call's fields, the lead's name, and `start_time` (ISO 8601 in the
/// payload, epoch ms in GET).
pub fn assert_payload_agrees_with_get(payload: &serde_json::Value, call: &serde_json::Value) {
    for field in [
        "call_id",
        "status",
        "end_call_reason",
        "duration",
        "transcript",
        "model_id",
    ] {
        assert_eq!(payload["call"][field], call[field], "{field}");
    }
    assert_eq!(payload["lead"]["name"], call["name"]);
    let ms: i64 = call["start_time"].as_str().unwrap().parse().unwrap();
    let iso = payload["call"]["start_time"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(iso)
            .unwrap()
            .timestamp_millis(),
        ms
    );
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
    pub at: std::time::Instant,
}

/// A webhook receiver on loopback (an axum server on 127.0.0.1:0): answers the given statuses
/// in order, then 200; keeps every request. Stops when dropped.
pub struct Receiver {
    pub url: String,
    pub got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// What it got so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until it got `n` requests (panics after 10 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1000 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("receiver got {} of {n} requests", self.received().len());
    }
}

/// A receiver answering `statuses` in order, then 200.
pub async fn receiver(statuses: Vec<u16>) -> Receiver {
    receiver_with(move |i, _| statuses.get(i).copied().unwrap_or(200)).await
}

/// A receiver whose answer to its `i`-th request (from 0) is `decide(i, &request)`.
pub async fn receiver_with(
    decide: impl Fn(usize, &Received) -> u16 + Send + Sync + 'static,
) -> Receiver {
    use axum::extract::State;
    use std::sync::{Arc, Mutex};
    type Shared = (
        Arc<Mutex<Vec<Received>>>,
        Arc<dyn Fn(usize, &Received) -> u16 + Send + Sync>,
    );
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let shared: Shared = (got.clone(), Arc::new(decide));
    async fn hook(
        State((got, decide)): State<Shared>,
        headers: http::HeaderMap,
        body: bytes::Bytes,
    ) -> (http::StatusCode, &'static str) {
        let r = Received {
            headers,
            body,
            at: std::time::Instant::now(),
        };
        let i = {
            let mut g = got.lock().unwrap();
            g.push(r.clone());
            g.len() - 1
        };
        let status = decide(i, &r);
        (http::StatusCode::from_u16(status).unwrap(), "answer")
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver { url, got, task }
}

/// A receiver that accepts connections and never answers; its URL.
pub async fn silent_receiver() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    (url, task)
}

/// A webhook configuration for tests: signed with `secret`, quick retries (20 ms) and a 2 s
/// attempt timeout, the rest as the mock's default.
pub fn quick_webhooks(secret: &str) -> synthflow_mock::WebhookConfig {
    synthflow_mock::WebhookConfig {
        secret: Some(synthflow_mock::Secret::new(secret)),
        backoff: std::time::Duration::from_millis(20),
        timeout: std::time::Duration::from_secs(2),
        ..synthflow_mock::WebhookConfig::default()
    }
}

/// A mock in process with the admin API on loopback and these webhooks.
pub async fn admin_mock(config: synthflow_mock::WebhookConfig) -> synthflow_mock::MockServer {
    synthflow_mock::MockServer::builder()
        .admin(synthflow_mock::AdminAccess::Loopback)
        .webhooks(config)
        .start()
        .await
        .unwrap()
}
