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
