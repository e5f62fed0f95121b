//! `synthflow-check receiver` against small receivers kept in the repository
//! (`tests/receivers/receiver.py`, Python standard library, one mode per receiver): a correct one
//! passes; one that accepts bad signatures, one that answers 500 to a null `collected_variables`
//! and one that takes 12 s each fail, naming the property, in the report and in JUnit.
//!
//! python3 is required (it is on every CI machine): without it these tests fail, they do not skip.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use contract_tests::receiver::generate::cases;
use contract_tests::receiver::{
    check_receiver, ActionSpec, Endpoint, Property, ReceiverCheck, Verdict,
};
use serde_json::Value;
use synthflow::webhook::sign;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "receiver-suite-secret-7";
const BIN: &str = env!("CARGO_BIN_EXE_synthflow-check");

/// A receiver process, killed on drop.
struct Receiver {
    child: Child,
    port: u16,
}

impl Receiver {
    fn start(mode: &str) -> Receiver {
        Receiver::start_with_api(mode, None)
    }

    fn start_with_api(mode: &str, api_base: Option<&str>) -> Receiver {
        Receiver::start_env(mode, api_base, None)
    }

    /// With `log`: every request to /action is appended to it (`RECEIVER_LOG`).
    fn start_env(mode: &str, api_base: Option<&str>, log: Option<&Path>) -> Receiver {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/receivers/receiver.py");
        let mut cmd = Command::new("python3");
        cmd.arg(&script)
            .args([mode, SECRET])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env_remove("SYNTHFLOW_API_BASE")
            .env_remove("RECEIVER_LOG");
        if let Some(base) = api_base {
            cmd.env("SYNTHFLOW_API_BASE", base);
        }
        if let Some(log) = log {
            cmd.env("RECEIVER_LOG", log);
        }
        let mut child = cmd
            .spawn()
            .expect("python3 is required to run the receivers under test (CI machines have it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("receiver printed {line:?}"));
        Receiver { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check(args: &[&str], junit: &Path) -> (Output, String) {
    let out = Command::new(BIN)
        .arg("receiver")
        .args(args)
        .arg("--junit")
        .arg(junit)
        .env("SYNTHFLOW_WEBHOOK_SECRET", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !stdout.contains(SECRET),
        "the secret leaked into the report"
    );
    (out, stdout)
}

/// `(testcase names, names with a <failure>)` of a JUnit file; panics unless it is well formed.
fn junit(path: &Path) -> (Vec<String>, Vec<String>) {
    let xml = std::fs::read_to_string(path).unwrap();
    assert!(!xml.contains(SECRET), "the secret leaked into JUnit");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (Vec::new(), Vec::new());
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => {
                        let name = e.try_get_attribute("name").unwrap().unwrap();
                        cases.push(name.unescape_value().unwrap().into_owned());
                    }
                    b"failure" => failures.push(cases.last().cloned().unwrap()),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    (cases, failures)
}

fn tmp_junit() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    (dir, path)
}

#[test]
fn a_correct_receiver_holds_every_property_in_200_cases() {
    let rcv = Receiver::start("correct");
    let (_d, xml) = tmp_junit();
    let started = Instant::now();
    let (out, stdout) = check(&["post-call", "--url", &rcv.url("/hook")], &xml);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("200 cases") && stdout.contains("8 of 8 properties hold"),
        "{stdout}"
    );
    assert!(stdout.contains("repeat with --seed "), "{stdout}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let (names, failures) = junit(&xml);
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(failures.is_empty(), "{failures:?}");
}

/// `synthflow-check receiver KIND --url URL --cases CASES --seed 4`.
fn check_kind(kind: &str, url: &str, cases: u32, xml: &Path) -> (Output, String) {
    check(
        &[
            kind,
            "--url",
            url,
            "--cases",
            &cases.to_string(),
            "--seed",
            "4",
        ],
        xml,
    )
}

#[test]
fn a_correct_inbound_webhook_and_action_hold_every_property() {
    let rcv = Receiver::start("correct");
    let (_d, xml) = tmp_junit();
    let (out, stdout) = check_kind("inbound", &rcv.url("/inbound"), 60, &xml);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASS inbound_reply_is_call_inbound"),
        "{stdout}"
    );
    let (out, stdout) = check_kind("action", &rcv.url("/action"), 60, &xml);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PASS action_reply_is_json"), "{stdout}");
    // The post-call receiver's path answers the action's body with 400: caught.
    let (out, stdout) = check_kind("inbound", &rcv.url("/action"), 10, &xml);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        junit(&xml)
            .1
            .contains(&"inbound_reply_is_call_inbound".to_owned()),
        "{stdout}"
    );
}

#[test]
fn a_receiver_that_accepts_a_bad_signature_fails_the_refusal_properties() {
    let rcv = Receiver::start("accepts-bad-signature");
    let (_d, xml) = tmp_junit();
    let (out, stdout) = check(
        &["post-call", "--url", &rcv.url("/hook"), "--seed", "11"],
        &xml,
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL bad_signature_refused"), "{stdout}");
    let (_, failures) = junit(&xml);
    assert_eq!(
        failures,
        [
            "bad_signature_refused",
            "missing_signature_refused",
            "other_call_signature_refused"
        ]
    );
}

#[test]
fn a_500_on_null_collected_variables_is_shrunk_to_that_field_with_a_signed_replay() {
    let rcv = Receiver::start("null-cv-500");
    let (_d, xml) = tmp_junit();
    let (out, stdout) = check(
        &["post-call", "--url", &rcv.url("/hook"), "--seed", "5"],
        &xml,
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let section: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("FAIL no_server_error"))
        .take_while(|l| l.starts_with("FAIL no_server_error") || l.starts_with("    "))
        .collect();
    let payload_line = section
        .iter()
        .find_map(|l| l.strip_prefix("    payload: "))
        .unwrap_or_else(|| panic!("no shrunk payload in {stdout}"));
    let shrunk: Value = serde_json::from_str(payload_line).unwrap();
    let top: Vec<&str> = shrunk
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut top_sorted = top.clone();
    top_sorted.sort();
    assert_eq!(top_sorted, ["call", "collected_variables"], "{shrunk}");
    assert_eq!(shrunk["collected_variables"], Value::Null);
    let mut call_keys: Vec<&str> = shrunk["call"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    call_keys.sort();
    assert_eq!(call_keys, ["call_id", "status"], "{shrunk}");
    // The replay line carries the signature of the shrunk payload's call id, not the secret.
    let replay = section
        .iter()
        .find_map(|l| l.strip_prefix("    replay: "))
        .unwrap_or_else(|| panic!("no replay line in {stdout}"));
    let call_id = shrunk["call"]["call_id"].as_str().unwrap();
    assert!(replay.starts_with("curl "), "{replay}");
    assert!(
        replay.contains(&format!("Synthflow-Signature: {}", sign(SECRET, call_id))),
        "{replay}"
    );
    assert!(replay.contains(&rcv.url("/hook")), "{replay}");
    let (_, failures) = junit(&xml);
    assert!(
        failures.contains(&"no_server_error".to_owned()),
        "{failures:?}"
    );
    assert!(
        !failures.contains(&"bad_signature_refused".to_owned()),
        "{failures:?}"
    );
}

#[test]
fn a_receiver_that_takes_12_s_fails_on_the_time_limit_well_within_two_minutes() {
    let rcv = Receiver::start("slow");
    let (_d, xml) = tmp_junit();
    let started = Instant::now();
    let (out, stdout) = check(
        &["post-call", "--url", &rcv.url("/hook"), "--seed", "3"],
        &xml,
    );
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL answers_within_time_limit"),
        "{stdout}"
    );
    assert!(stdout.contains("no answer within 10000 ms"), "{stdout}");
    assert!(
        stdout.contains("a timing failure is not shrunk"),
        "{stdout}"
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let (_, failures) = junit(&xml);
    assert_eq!(failures, ["answers_within_time_limit"]);
}

/// A receiver that answers 200 to everything is judged by whether it calls the API back: the
/// one that only acts on valid signatures holds the refusal properties, the leaky one does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_always_2xx_receiver_is_judged_by_its_side_effects_on_the_api_mock() {
    for (mode, refuses) in [("always-2xx", true), ("always-2xx-leaky", false)] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/v2", listener.local_addr().unwrap());
        let rcv = Receiver::start_with_api(mode, Some(&base));
        let outcome = check_receiver(
            ReceiverCheck::new(Endpoint::PostCall, rcv.url("/hook"), SECRET)
                .seed(2)
                .cases(15)
                .api_mock_listener(listener),
        )
        .await
        .unwrap();
        for p in [
            Property::BadSignatureRefused,
            Property::MissingSignatureRefused,
            Property::OtherCallSignatureRefused,
        ] {
            let r = outcome.result(p).unwrap();
            assert_eq!(
                r.verdict == Verdict::Holds,
                refuses,
                "{mode} {}",
                outcome.text()
            );
            assert!(
                r.evidence.iter().any(|e| e.contains("--api-mock")),
                "{mode}: {:?}",
                r.evidence
            );
        }
        // It also answers 200 to malformed bodies: that is caught whatever the evidence.
        assert_eq!(
            outcome
                .result(Property::MalformedBodyRefused)
                .unwrap()
                .verdict,
            Verdict::Fails
        );
    }
}

/// The sequence a seed gives, as the receiver sees it: every request body, byte for byte.
async fn received_bodies(endpoint: Endpoint, seed: u64) -> Vec<Vec<u8>> {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let outcome = check_receiver(
        ReceiverCheck::new(endpoint, format!("{}/hook", server.uri()), SECRET)
            .seed(seed)
            .cases(25),
    )
    .await
    .unwrap();
    assert!(!outcome.passed());
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn a_seed_given_twice_gives_byte_identical_payload_sequences() {
    for endpoint in [
        Endpoint::PostCall,
        Endpoint::Inbound,
        Endpoint::Action(ActionSpec::default()),
    ] {
        let a = received_bodies(endpoint.clone(), 42).await;
        let b = received_bodies(endpoint.clone(), 42).await;
        let c = received_bodies(endpoint.clone(), 43).await;
        assert!(a.len() > 25, "{}", a.len());
        assert_eq!(a, b, "{}", endpoint.name());
        assert_ne!(a, c, "{}", endpoint.name());
        // The generator alone agrees too, and a shorter run is a prefix of a longer one.
        let long = serde_json::to_vec(&cases(&endpoint, 42, 30)).unwrap();
        assert_eq!(long, serde_json::to_vec(&cases(&endpoint, 42, 30)).unwrap());
        assert_eq!(cases(&endpoint, 42, 10), cases(&endpoint, 42, 30)[..10]);
    }
}

/// The requests the receiver logged to /action: `(method, path with query, headers)`.
fn logged(path: &Path) -> Vec<(String, String, serde_json::Map<String, Value>)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["method"].as_str().unwrap().to_owned(),
                v["path"].as_str().unwrap().to_owned(),
                v["headers"].as_object().unwrap().clone(),
            )
        })
        .collect()
}

/// A header of a logged request, by name in any case.
fn header<'a>(headers: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// `--from-mock`: the action is read from a running mock, and the check sends what the action
/// says — its method (PUT, not the flag's default POST), URL, headers, query parameters and body
/// template — to the correct receiver; `--url` wins over the action's URL; `--model-id` finds the
/// agent's custom action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_read_from_a_running_mock_is_sent_with_its_method_headers_and_query() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let rcv = Receiver::start_env("correct", None, Some(&log));
    let mock = synthflow_mock::MockServer::start().await.unwrap();
    let action_id = mock
        .add_action(serde_json::json!({"CUSTOM_ACTION": {
            "http_mode": "PUT",
            "name": "ship_order",
            "url": rcv.url("/action"),
            "run_action_before_call_start": false,
            "headers": [
                {"key": "X-Shop", "value": "shop-7"},
                {"key": "X-Caller", "value": "<user_phone_number>"}
            ],
            "query_parameters": [{"key": "src", "value": "mock"}],
            "json_body_stringified": "{\"id\": \"{call_id}\", \"order\": \"{{order_id}}\"}"
        }}))
        .unwrap();
    let (_d, xml) = tmp_junit();
    let (out, stdout) = check(
        &[
            "action",
            "--from-mock",
            &mock.uri(),
            "--action-id",
            &action_id,
            "--cases",
            "20",
            "--seed",
            "9",
        ],
        &xml,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("PASS action_reply_is_json"), "{stdout}");
    let seen = logged(&log);
    assert!(seen.len() >= 20, "{} requests logged", seen.len());
    for (method, path, headers) in &seen {
        assert_eq!(method, "PUT", "{path}");
        assert!(path.starts_with("/action?src=mock"), "{path}");
        assert_eq!(header(headers, "X-Shop"), Some("shop-7"), "{headers:?}");
    }
    // The caller's number variable is filled into the X-Caller header.
    assert!(
        seen.iter()
            .any(|(_, _, h)| header(h, "X-Caller").is_some_and(|v| v.starts_with('+'))),
        "{seen:?}"
    );

    // --url wins over the action's url; the rest still comes from the action.
    std::fs::remove_file(&log).unwrap();
    let url = rcv.url("/action?via=flag");
    let (out, stdout) = check(
        &[
            "action",
            "--from-mock",
            &mock.base_url(),
            "--action-id",
            &action_id,
            "--url",
            &url,
            "--cases",
            "3",
        ],
        &xml,
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let seen = logged(&log);
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|(m, p, _)| m == "PUT" && p.starts_with("/action?via=flag&src=mock")),
        "{seen:?}"
    );

    // --model-id: the agent's first CUSTOM_ACTION (an extractor attached before it is skipped).
    std::fs::remove_file(&log).unwrap();
    let extractor = mock
        .add_action(serde_json::json!({"INFORMATION_EXTRACTOR": {
            "OPEN_QUESTION": {"identifier": "purchase", "description": "What they want to buy"}
        }}))
        .unwrap();
    let model_id = mock
        .add_agent(serde_json::json!({
            "type": "outbound",
            "name": "Receiver-suite agent",
            "agent": {"prompt": "You ship orders.", "llm": "gpt-4.1"},
        }))
        .unwrap();
    mock.attach_action(&model_id, &extractor).unwrap();
    mock.attach_action(&model_id, &action_id).unwrap();
    let (out, stdout) = check(
        &[
            "action",
            "--from-mock",
            &mock.uri(),
            "--model-id",
            &model_id,
            "--cases",
            "3",
        ],
        &xml,
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(logged(&log)
        .iter()
        .all(|(m, _, h)| m == "PUT" && header(h, "X-Shop") == Some("shop-7")));
    assert!(!logged(&log).is_empty());
}

/// `--from-mock` refusals are usage errors (exit 2) that say what is wrong: an unknown action id
/// (named), an action that is not a CUSTOM_ACTION, an agent without one, a mock that does not
/// answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_or_unusable_action_on_the_mock_exits_2_naming_it() {
    let mock = synthflow_mock::MockServer::start().await.unwrap();
    let extractor = mock
        .add_action(serde_json::json!({"INFORMATION_EXTRACTOR": {
            "OPEN_QUESTION": {"identifier": "purchase", "description": "What they want to buy"}
        }}))
        .unwrap();
    let model_id = mock
        .add_agent(serde_json::json!({
            "type": "outbound",
            "name": "No custom action",
            "agent": {"prompt": "You talk.", "llm": "gpt-4.1"},
        }))
        .unwrap();
    mock.attach_action(&model_id, &extractor).unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let uri = mock.uri();
    let cases: [(&[&str], &[&str]); 5] = [
        (
            &["--from-mock", &uri, "--action-id", "act-does-not-exist-42"],
            &["act-does-not-exist-42", "no action"],
        ),
        (
            &["--from-mock", &uri, "--action-id", &extractor],
            &[&extractor, "INFORMATION_EXTRACTOR", "not a CUSTOM_ACTION"],
        ),
        (
            &["--from-mock", &uri, "--model-id", &model_id],
            &[&model_id, "no CUSTOM_ACTION attached"],
        ),
        (
            &["--from-mock", &uri, "--model-id", "agent-nope"],
            &["agent-nope", "no agent"],
        ),
        (
            &["--from-mock", &closed, "--action-id", "a1"],
            &["did not answer", &closed],
        ),
    ];
    for (args, expect) in cases {
        let out = Command::new(BIN)
            .args(["receiver", "action", "--cases", "1"])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        for e in expect {
            assert!(stderr.contains(e), "{args:?}: {e:?} not in {stderr}");
        }
    }
}
