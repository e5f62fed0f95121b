//! The `synthflow-mock` binary as a user runs it: zero-configuration start, refusal of bad fixture
//! sets with file and place, `list`, `validate`, and a clean stop on SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{fixture_copy, repo, run, start_in};

const SOME_ID: &str = "4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75";

fn edit(dir: &Path, id: &str, from: &str, to: &str) -> PathBuf {
    let p = dir.join("calls").join(format!("{id}.json"));
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{from} not in {id}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    p
}

#[tokio::test]
async fn with_no_fixture_arguments_it_serves_the_embedded_set_from_any_directory() {
    let elsewhere = tempfile::tempdir().unwrap();
    let server = start_in(&["--port", "0"], elsewhere.path());
    let base = server.1.clone();
    let resp = reqwest::Client::new()
        .get(format!("{base}/calls/{SOME_ID}"))
        .bearer_auth("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.unwrap();
    assert_eq!(
        body.as_ref(),
        std::fs::read(repo().join(format!("fixtures/handmade/calls/{SOME_ID}.json"))).unwrap()
    );
}

fn refused(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["--port", "0", "--fixtures", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(!out.status.success(), "must refuse to start");
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn invalid_json_stops_start_up_naming_file_line_and_column() {
    let dir = fixture_copy();
    let file = edit(dir.path(), SOME_ID, "\"duration\":", "\"duration\"");
    let err = refused(dir.path(), &[]);
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("line 1 column"), "{err}");
}

#[test]
fn wrong_type_stops_start_up_naming_file_and_pointer() {
    let dir = fixture_copy();
    let file = edit(
        dir.path(),
        SOME_ID,
        "\"telephony_duration\":",
        "\"telephony_duration\":\"x\",\"_was\":",
    );
    let err = refused(dir.path(), &[]);
    assert!(
        err.contains(&format!(
            "{}: /response/calls/0/telephony_duration",
            file.display()
        )),
        "{err}"
    );
}

#[test]
fn unknown_enum_value_stops_start_up_unless_allowed() {
    let dir = fixture_copy();
    let file = edit(
        dir.path(),
        SOME_ID,
        "\"status\":\"completed\"",
        "\"status\":\"paused\"",
    );
    let err = refused(dir.path(), &[]);
    assert!(
        err.contains(&format!(
            "{}: /response/calls/0/status: [out-of-spec]",
            file.display()
        )),
        "{err}"
    );
    let out = run(&[
        "list",
        "--fixtures",
        dir.path().to_str().unwrap(),
        "--allow-out-of-spec",
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("paused"));
}

#[test]
fn every_bad_file_is_reported_at_once() {
    let dir = fixture_copy();
    edit(
        dir.path(),
        SOME_ID,
        "\"status\":\"completed\"",
        "\"status\":\"paused\"",
    );
    edit(
        dir.path(),
        "5d3fa8c6-247b-4e10-8c9f-0a6b5e2d71f3",
        "\"duration\":",
        "\"duration\":\"1\",\"_d\":",
    );
    let err = refused(dir.path(), &[]);
    assert!(err.contains("2 bad fixture file(s)"), "{err}");
}

#[test]
fn list_prints_every_id_with_status_and_end_reason() {
    let out = run(&["list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let n = ["fixtures/calls", "fixtures/handmade/calls"]
        .iter()
        .map(|d| std::fs::read_dir(repo().join(d)).unwrap().count())
        .sum::<usize>();
    assert_eq!(text.lines().count(), n + 1, "{text}");
    assert!(text.lines().any(|l| l.starts_with(SOME_ID)
        && l.contains("completed")
        && l.contains("human_pick_up_cut_off")));
}

#[test]
fn validate_reports_file_and_pointer_and_exits_non_zero() {
    let dir = fixture_copy();
    let file = edit(
        dir.path(),
        SOME_ID,
        "\"duration\":",
        "\"duration\":true,\"_d\":",
    );
    let out = run(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with(&format!(
            "{}:/response/calls/0/duration: [schema]",
            file.display()
        )),
        "{text}"
    );
    let ok = run(&[
        "validate",
        repo().join("fixtures/calls").to_str().unwrap(),
        repo().join("fixtures/handmade/calls").to_str().unwrap(),
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_with_exit_code_zero() {
    let here = tempfile::tempdir().unwrap();
    let mut server = start_in(&["--port", "0"], here.path());
    let child = &mut server.0;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap();
    assert!(code.success(), "{code:?}");
}

#[test]
fn healthcheck_exits_0_on_a_live_mock_and_1_on_a_closed_port() {
    let server = start_in(&["--port", "0"], &repo());
    // The start-up line's URL: http://127.0.0.1:PORT/v2
    let port = server
        .1
        .trim_end_matches("/v2")
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let live = run(&["healthcheck", "--port", &port]);
    assert!(live.status.success(), "{live:?}");
    drop(server);
    let closed = run(&["healthcheck", "--port", &port]);
    assert_eq!(closed.status.code(), Some(1), "{closed:?}");
    assert!(String::from_utf8_lossy(&closed.stderr).contains("synthflow-mock healthcheck:"));
}

#[test]
fn log_format_json_writes_one_json_object_per_line() {
    use std::io::{Read, Write};
    let mock = crate::support::spawn_capturing(&["--port", "0", "--log-format", "json"], &[]);
    let mut s = std::net::TcpStream::connect(&mock.addr).unwrap();
    write!(
        s,
        "GET /v2/calls/{SOME_ID} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let stopped = mock.stop();
    assert!(stopped.status.success());
    let logs = stopped.stderr;
    let events: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    let request = events
        .iter()
        .find(|e| e["fields"]["message"] == "request")
        .unwrap_or_else(|| panic!("no request event in {logs}"));
    assert_eq!(request["fields"]["status"], 200);
    assert_eq!(request["fields"]["path"], format!("/v2/calls/{SOME_ID}"));
    assert!(!logs.contains("Bearer t"));
}

/// As a container's PID 1 (a new PID namespace): the kernel delivers no signal to PID 1 that it
/// does not handle, so this shows the mock handles SIGTERM itself and exits 0.
#[test]
fn sigterm_stops_the_server_running_as_pid_1() {
    use std::io::{BufRead, BufReader};
    let mut unshare = Command::new("unshare")
        .args(["--pid", "--fork", crate::support::BIN, "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("unshare (util-linux) runs; the test needs root or user namespaces");
    let mut line = String::new();
    BufReader::new(unshare.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("serving"), "{line:?}");
    let pgrep = Command::new("pgrep")
        .args(["-P", &unshare.id().to_string()])
        .output()
        .unwrap();
    let pid1 = String::from_utf8(pgrep.stdout).unwrap().trim().to_owned();
    assert!(!pid1.is_empty(), "the mock runs under unshare");
    let ns_pid = std::fs::read_to_string(format!("/proc/{pid1}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .map(|l| l.split_whitespace().last().unwrap().to_owned());
    assert_eq!(
        ns_pid.as_deref(),
        Some("1"),
        "the mock is PID 1 in its namespace"
    );
    Command::new("kill")
        .args(["-TERM", &pid1])
        .status()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = unshare.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "PID 1 ignored SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}
