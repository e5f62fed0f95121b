//! Recording, against loopback stand-ins for the live service only: a second mock instance (which
//! checks the token, as the live API does) or wiremock.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use synthflow_mock::tools::record::{
    proxy_app, ApiKey, Outcome, RecordError, RecordOptions, Recorder, Upstream,
};
use synthflow_mock::tools::redact::{Redactor, DEFAULT_KEY};
use synthflow_mock::{AppState, AuthPolicy, Config, LoadOptions, MockServer, Store};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{repo, BIN};

const TOKEN: &str = "sk-upstream-7f3a9c1e5b";

/// The stand-in for the live API: the embedded fixtures, accepting only `TOKEN`.
async fn upstream_mock() -> MockServer {
    let config = Config {
        auth: AuthPolicy::tokens([TOKEN]),
        ..Config::default()
    };
    MockServer::start_with(
        AppState::new(Store::embedded().unwrap(), config),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

fn recorder(base_url: &str, out: &Path, redactor: Option<Redactor>) -> Recorder {
    let up = Upstream::new(
        base_url,
        ApiKey::new(TOKEN).unwrap(),
        Duration::from_secs(10),
    )
    .unwrap();
    Recorder::new(
        up,
        RecordOptions {
            out_dir: out.to_path_buf(),
            redactor,
            overwrite: false,
            record_errors: false,
        },
    )
}

fn redacting() -> Option<Redactor> {
    Some(Redactor::new(DEFAULT_KEY, false))
}

/// Serves the recording proxy on a free loopback port; returns its base URL.
async fn start_proxy(rec: Recorder) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = proxy_app(Arc::new(rec));
    tokio::spawn(synthflow_mock::internals::server::serve_router(
        listener,
        app,
        std::future::pending(),
    ));
    format!("http://{addr}/v2")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn embedded_ids() -> Vec<String> {
    Store::embedded().unwrap().ids().to_vec()
}

#[tokio::test]
async fn proxy_records_fixtures_that_the_mock_then_loads_and_validate_accepts() {
    let up = upstream_mock().await;
    let out = tempfile::tempdir().unwrap();
    let proxy = start_proxy(recorder(&up.base_url(), out.path(), redacting())).await;
    let http = reqwest::Client::new();
    let ids = embedded_ids();
    for id in &ids {
        // The client needs no token: the proxy sends its own.
        let resp = http
            .get(format!("{proxy}/calls/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{id}");
        assert_eq!(resp.headers()["x-synthflow-record"], "written", "{id}");
    }
    let store = Store::from_dir(out.path(), LoadOptions::default()).expect("recorded set loads");
    assert_eq!(store.ids(), ids.as_slice());
    let validate = Command::new(BIN)
        .args(["validate"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}",
        String::from_utf8_lossy(&validate.stdout)
    );
}

/// Every personal string of the upstream's fixtures: phone numbers, names, each transcript line's
/// text, recording URLs, prompt-variable and collected string values.
fn personal_strings() -> Vec<String> {
    let mut out = Vec::new();
    // Time zones are kept by design (not personal); a generated prompt variable may repeat one.
    let mut zones = Vec::new();
    let files = files_under(&repo().join("fixtures/calls"))
        .into_iter()
        .chain(files_under(&repo().join("fixtures/handmade/calls")));
    for f in files {
        let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let call = &v["response"]["calls"][0];
        zones.extend(call["timezone"].as_str().map(str::to_owned));
        for k in [
            "phone_number_from",
            "phone_number_to",
            "name",
            "recording_url",
        ] {
            if let Some(s) = call[k].as_str() {
                out.push(s.to_owned());
            }
        }
        for line in call["transcript"].as_str().unwrap_or("").split('\n') {
            let text = line.split_once(": ").map_or(line, |(_, t)| t);
            out.push(text.to_owned());
        }
        fn strings(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|i| strings(i, out)),
                Value::Object(m) => m.values().for_each(|i| strings(i, out)),
                _ => {}
            }
        }
        strings(&call["prompt_variables"], &mut out);
        if let Some(agents) = call["collected_variables"].as_object() {
            for vars in agents.values() {
                for var in vars.as_object().unwrap().values() {
                    strings(&var["value"], &mut out);
                }
            }
        }
    }
    // Strings of up to four characters ("No", "Yes.", the digits "0150" of a collected value) say
    // nothing about anyone and turn up by chance inside timestamps and fictional numbers; everything
    // longer must be gone.
    out.retain(|s| s.chars().count() > 4 && !zones.contains(s));
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn no_phone_number_name_transcript_sentence_or_token_survives_in_any_written_file() {
    let up = upstream_mock().await;
    let out = tempfile::tempdir().unwrap();
    let mut rec = recorder(&up.base_url(), out.path(), redacting());
    let mut ids = embedded_ids();
    // An unknown id, so an error fixture is written too.
    ids.push("00000000-0000-4000-8000-0000000000aa".into());
    let up_key = rec.upstream().key().clone();
    rec = Recorder::new(
        Upstream::new(&up.base_url(), up_key, Duration::from_secs(10)).unwrap(),
        RecordOptions {
            record_errors: true,
            ..rec.options().clone()
        },
    );
    let summary = rec.record_all(&ids, &mut std::io::sink()).await;
    assert_eq!(summary.written, ids.len() - 1, "{summary}");
    assert_eq!(summary.upstream_errors, 1, "{summary}");
    let personal = personal_strings();
    assert!(personal.len() > 300, "the check covers the whole set");
    let files = files_under(out.path());
    assert_eq!(files.len(), ids.len());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(!text.contains(TOKEN), "{} holds the token", f.display());
        for s in &personal {
            assert!(
                !text.contains(s.as_str()),
                "{} still holds {s:?}",
                f.display()
            );
        }
    }
}

#[tokio::test]
async fn recording_the_same_upstream_twice_gives_identical_files() {
    let up = upstream_mock().await;
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        let rec = recorder(
            &up.base_url(),
            dir.path(),
            Some(Redactor::new(DEFAULT_KEY, true)),
        );
        rec.record_all(&embedded_ids(), &mut std::io::sink()).await;
    }
    let (fa, fb) = (files_under(a.path()), files_under(b.path()));
    assert_eq!(fa.len(), embedded_ids().len());
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(
            x.strip_prefix(a.path()).unwrap(),
            y.strip_prefix(b.path()).unwrap()
        );
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
    // Remapped ids: no original id is a file name, and the set still loads.
    assert!(!fa.iter().any(|f| embedded_ids()
        .iter()
        .any(|id| f.to_string_lossy().contains(id.as_str()))));
    Store::from_dir(a.path(), LoadOptions::default()).expect("remapped set loads");
}

#[tokio::test]
async fn no_redact_writes_the_exact_upstream_bytes() {
    let up = upstream_mock().await;
    let out = tempfile::tempdir().unwrap();
    let id = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";
    let (_, r) = recorder(&up.base_url(), out.path(), None).record(id).await;
    assert!(matches!(r, Ok(Outcome::Written { .. })), "{r:?}");
    assert_eq!(
        std::fs::read(out.path().join(format!("calls/{id}.json"))).unwrap(),
        std::fs::read(repo().join(format!("fixtures/handmade/calls/{id}.json"))).unwrap()
    );
}

#[tokio::test]
async fn an_existing_fixture_is_kept_unless_overwrite_is_set() {
    let up = upstream_mock().await;
    let out = tempfile::tempdir().unwrap();
    let id = "4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75";
    let file = out.path().join(format!("calls/{id}.json"));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"old").unwrap();
    let rec = recorder(&up.base_url(), out.path(), None);
    let (_, r) = rec.record(id).await;
    assert!(matches!(r, Ok(Outcome::Skipped { .. })), "{r:?}");
    assert_eq!(std::fs::read(&file).unwrap(), b"old");
    let rec = Recorder::new(
        rec.upstream().clone(),
        RecordOptions {
            overwrite: true,
            ..rec.options().clone()
        },
    );
    let (_, r) = rec.record(id).await;
    assert!(matches!(r, Ok(Outcome::Written { .. })), "{r:?}");
    assert_ne!(std::fs::read(&file).unwrap(), b"old");
    // No temp file is left behind.
    assert_eq!(files_under(out.path()).len(), 1);
}

#[tokio::test]
async fn an_upstream_error_is_written_only_when_asked() {
    let up = upstream_mock().await;
    let out = tempfile::tempdir().unwrap();
    let unknown = "00000000-0000-4000-8000-0000000000bb";
    let rec = recorder(&up.base_url(), out.path(), redacting());
    let (raw, r) = rec.record(unknown).await;
    assert_eq!(raw.unwrap().status, 400);
    assert_eq!(r.unwrap(), Outcome::UpstreamStatus { status: 400 });
    assert!(files_under(out.path()).is_empty());
    let rec = Recorder::new(
        rec.upstream().clone(),
        RecordOptions {
            record_errors: true,
            ..rec.options().clone()
        },
    );
    let (_, r) = rec.record(unknown).await;
    let path = out.path().join("errors/400.json");
    assert_eq!(
        r.unwrap(),
        Outcome::ErrorWritten {
            status: 400,
            path: path.clone()
        }
    );
    let body: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(
        body["detail"]["description"],
        "Invalid call_id or call not found."
    );
}

#[tokio::test]
async fn a_transport_failure_is_reported_as_502_and_nothing_is_written() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tempfile::tempdir().unwrap();
    let rec = recorder(
        &format!("http://127.0.0.1:{port}/v2"),
        out.path(),
        redacting(),
    );
    let (raw, r) = rec.record("4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75").await;
    assert!(raw.is_none());
    let err = r.unwrap_err();
    assert!(matches!(err, RecordError::Transport(_)), "{err:?}");
    assert!(!err.to_string().contains(TOKEN));
    let proxy = start_proxy(rec).await;
    let resp = reqwest::get(format!(
        "{proxy}/calls/4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75"
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-synthflow-record"], "not-written");
    assert!(files_under(out.path()).is_empty());
}

#[tokio::test]
async fn a_500_is_passed_on_by_the_proxy_and_not_written_as_a_call() {
    let server = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            r#"{"detail":{"status":"error","description":"Internal error","timestamp":"t","request_id":"r","category":"critical"}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    let proxy = start_proxy(recorder(
        &format!("{}/v2", server.uri()),
        out.path(),
        redacting(),
    ))
    .await;
    let resp = reqwest::get(format!("{proxy}/calls/abc")).await.unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(resp.headers()["x-synthflow-record"], "not-written");
    assert!(files_under(out.path()).is_empty());
}

#[tokio::test]
async fn a_body_that_breaks_the_contract_is_refused_with_its_violations() {
    let server = wiremock::MockServer::start().await;
    let body = std::fs::read_to_string(
        repo().join("fixtures/handmade/calls/4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75.json"),
    )
    .unwrap()
    .replace("\"duration\":", "\"duration\":\"x\",\"was\":");
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    let rec = recorder(&format!("{}/v2", server.uri()), out.path(), redacting());
    let (_, r) = rec.record("4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75").await;
    let err = r.unwrap_err().to_string();
    assert!(err.contains("/response/calls/0/duration"), "{err}");
    assert!(files_under(out.path()).is_empty());
}

fn run_cli(args: &[&str], token: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("SYNTHFLOW_API_KEY")
        .env_remove("SYNTHFLOW_REDACT_KEY");
    if let Some(t) = token {
        cmd.env("SYNTHFLOW_API_KEY", t);
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn cli_bulk_records_an_ids_file_and_the_token_stays_out_of_output() {
    let up = upstream_mock().await;
    let out = tempfile::tempdir().unwrap();
    let ids_file = out.path().join("ids.txt");
    std::fs::write(
        &ids_file,
        "# two calls\n4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75\n\n9e4b7d21-3c8f-4a56-a0e7-b1d9f2c5e834  # the error call\n",
    )
    .unwrap();
    let dir = out.path().join("rec");
    let base = up.base_url();
    let args = [
        "record",
        "--upstream",
        &base,
        "--out",
        dir.to_str().unwrap(),
        "--ids",
        ids_file.to_str().unwrap(),
    ];
    let o = tokio::task::spawn_blocking({
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        move || {
            run_cli(
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                Some(TOKEN),
            )
        }
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("2 written"), "{stdout}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    assert_eq!(files_under(&dir.join("calls")).len(), 2);
}

#[tokio::test]
async fn cli_bulk_pages_through_an_agents_call_list() {
    let server = wiremock::MockServer::start().await;
    let ids = [
        "4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75",
        "9e4b7d21-3c8f-4a56-a0e7-b1d9f2c5e834",
        "b3f9c0a7-5e42-4d81-8e6b-2a0d7f9c3e15",
    ];
    let page = |calls: &[&str], offset: u64| {
        let calls: Vec<Value> = calls
            .iter()
            .map(|id| serde_json::json!({"call_id": id}))
            .collect();
        serde_json::json!({"status":"ok","response":{"pagination":{"total_records":3,"limit":100,"offset":offset},"calls":calls}})
    };
    Mock::given(method("GET"))
        .and(path("/v2/calls"))
        .and(query_param("model_id", "agent-1"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&ids[..2], 0)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/calls"))
        .and(query_param("model_id", "agent-1"))
        .and(query_param("offset", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&ids[2..], 2)))
        .mount(&server)
        .await;
    for id in ids {
        let body =
            std::fs::read(repo().join(format!("fixtures/handmade/calls/{id}.json"))).unwrap();
        Mock::given(method("GET"))
            .and(path(format!("/v2/calls/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
    }
    let out = tempfile::tempdir().unwrap();
    let base = format!("{}/v2", server.uri());
    let dir = out.path().to_str().unwrap().to_owned();
    let o = tokio::task::spawn_blocking(move || {
        run_cli(
            &[
                "record",
                "--upstream",
                &base,
                "--out",
                &dir,
                "--model-id",
                "agent-1",
            ],
            Some(TOKEN),
        )
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(files_under(&out.path().join("calls")).len(), 3);
}

#[test]
fn cli_takes_the_token_from_the_environment_only() {
    let o = run_cli(&["record", "--ids", "x"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("SYNTHFLOW_API_KEY is not set"));
    let o = run_cli(&["record", "--token", "abc"], Some("k"));
    assert_eq!(o.status.code(), Some(2), "no --token flag exists");
}

#[test]
fn an_ids_file_with_a_bad_line_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ids.txt");
    std::fs::write(&f, "good-id\nnot/a/call\n").unwrap();
    let err = synthflow_mock::tools::record::read_ids_file(&f)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with(":2: \"not/a/call\" is not a well-formed call id"),
        "{err}"
    );
}
