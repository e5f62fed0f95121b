//! The fixture factory and the validator, as a user runs them: reproducible trees, 100% coverage,
//! every generated call consistent, the checked-in `fixtures/calls` equal to its generator's output,
//! and `validate` naming exactly the faults planted in a tree.

use std::path::{Path, PathBuf};

use synthflow::contract::{check_call_body, CheckOptions};
use synthflow::model::{CallStatus, EndCallReason, TelephonyDisconnectReason, TelephonyHangup};
use synthflow::Call;
use synthflow_mock::tools::generate::{self, GenerateOptions};
use synthflow_mock::{LoadOptions, Store, StoreError};

/// The command that produced `fixtures/calls`, as `fixtures/README.md` states it.
const CHECKED_IN: &[&str] = &["generate", "--coverage", "--seed", "1", "--count", "7"];

use crate::support::{repo, run};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// File name → bytes of every file in `dir`.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn checked_in_generated_fixtures_and_their_readme_table_match_the_generator_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let readme = tmp.path().join("README.md");
    std::fs::copy(repo().join("fixtures/README.md"), &readme).unwrap();
    let mut args = CHECKED_IN.to_vec();
    args.extend(["--out", s(tmp.path()), "--readme", s(&readme)]);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = tree(&tmp.path().join("calls"));
    let have = tree(&repo().join("fixtures/calls"));
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&have),
        names(&want),
        "fixtures/calls has other files than its generator writes; rerun the command in fixtures/README.md"
    );
    for ((name, have), (_, want)) in have.iter().zip(&want) {
        assert!(
            have == want,
            "fixtures/calls/{name} differs from its generator's output"
        );
    }
    assert_eq!(
        std::fs::read_to_string(repo().join("fixtures/README.md")).unwrap(),
        std::fs::read_to_string(&readme).unwrap(),
        "the generated table of fixtures/README.md is stale"
    );
}

#[test]
fn two_runs_with_the_same_seed_and_count_give_identical_trees_that_all_validate() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        let out = run(&[
            "generate",
            "--seed",
            "7",
            "--count",
            "1000",
            "--out",
            s(dir.path()),
        ]);
        assert!(out.status.success());
    }
    let (ta, tb) = (tree(&a.path().join("calls")), tree(&b.path().join("calls")));
    assert_eq!(ta.len(), 1000);
    assert!(ta == tb, "two runs of the same seed differ");
    let v = run(&["validate", s(a.path())]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    // And another seed gives other calls.
    let c = tempfile::tempdir().unwrap();
    run(&[
        "generate",
        "--seed",
        "8",
        "--count",
        "1000",
        "--out",
        s(c.path()),
    ]);
    let tc = tree(&c.path().join("calls"));
    assert!(ta.iter().zip(&tc).all(|(x, y)| x.0 != y.0));
}

#[test]
fn coverage_set_reaches_every_item_with_thirteen_calls_and_prints_100_percent() {
    let files = generate::generate(GenerateOptions {
        seed: 1,
        count: 0,
        coverage: true,
    });
    assert_eq!(files.len(), generate::coverage_kinds().len());
    let cov = generate::coverage_of(files.iter().map(|f| &f.call));
    assert_eq!(cov.missing(), Vec::<&str>::new());
    assert_eq!(cov.percent(), 100.0);
    // Whatever the seed: coverage comes from the kinds, not from luck.
    for seed in [0, 2, 99, u64::MAX] {
        let files = generate::generate(GenerateOptions {
            seed,
            count: 0,
            coverage: true,
        });
        let cov = generate::coverage_of(files.iter().map(|f| &f.call));
        assert_eq!(cov.missing(), Vec::<&str>::new(), "seed {seed}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&[
        "generate",
        "--coverage",
        "--seed",
        "5",
        "--out",
        s(tmp.path()),
    ]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table
            .trim_end()
            .ends_with("coverage: 100.0% (44 of 44 items)"),
        "{table}"
    );
    assert!(!table.contains("MISSING"), "{table}");
}

#[test]
fn coverage_table_names_what_a_set_misses() {
    let files = generate::generate(GenerateOptions {
        seed: 1,
        count: 0,
        coverage: true,
    });
    let without_forbidden = files
        .iter()
        .map(|f| &f.call)
        .filter(|c| c.telephony_disconnect_reason != Some(TelephonyDisconnectReason::Forbidden));
    let table = generate::coverage_table(&generate::coverage_of(without_forbidden));
    assert!(table
        .lines()
        .any(|l| l.starts_with("telephony_disconnect_reason=forbidden") && l.ends_with("MISSING")));
    assert!(!table.contains("coverage: 100.0%"));
}

/// The consistency rules of the issue that the contract's invariants do not already check.
fn consistency_problems(c: &Call) -> Vec<String> {
    let mut out = Vec::new();
    let status = c.status.clone().unwrap();
    let reason = c.end_call_reason.clone().unwrap();
    let start_ms = c.start_time_millis().unwrap().unwrap();
    let t_start = c.telephony_start_time().unwrap().unwrap();
    if t_start.timestamp_millis() != start_ms {
        out.push("start_time is not telephony_start".into());
    }
    let td = c.telephony_duration.unwrap();
    match c.telephony_end_time().unwrap() {
        Some(end) => {
            if (end - t_start).num_milliseconds() != td {
                out.push("telephony_end - telephony_start != telephony_duration".into());
            }
        }
        None if status.is_live() => {}
        None => out.push("an ended call has no telephony_end".into()),
    }
    if c.duration_seconds() != Some((td + 500) / 1000) {
        out.push("duration is not telephony_duration in seconds".into());
    }
    if status.is_live() && (td != 0 || c.recording_url().is_some()) {
        out.push("a live call has a duration or a recording".into());
    }
    match c.telephony_disconnect_reason.clone().unwrap() {
        TelephonyDisconnectReason::CallerHangup
            if c.telephony_hangup != Some(TelephonyHangup::Caller) =>
        {
            out.push("caller_hangup but not hung up by caller".into())
        }
        TelephonyDisconnectReason::CalleeHangup
            if c.telephony_hangup != Some(TelephonyHangup::Callee) =>
        {
            out.push("callee_hangup but not hung up by callee".into())
        }
        _ => {}
    }
    let transcript = c.transcript.as_deref().unwrap();
    let silent = matches!(
        status,
        CallStatus::NoAnswer
            | CallStatus::Pending
            | CallStatus::Ringing
            | CallStatus::Busy
            | CallStatus::Canceled
            | CallStatus::Failed
    );
    if silent != transcript.is_empty() {
        out.push(format!("{status} call with transcript {transcript:?}"));
    }
    if matches!(
        reason,
        EndCallReason::Voicemail
            | EndCallReason::VoicemailCutOff
            | EndCallReason::VoicemailMessageLeft
    ) && !transcript.starts_with("human: Hi, you've reached")
    {
        out.push("a voicemail call does not open on a voicemail greeting".into());
    }
    if reason == EndCallReason::Error && c.error_message.as_deref().unwrap_or("").is_empty() {
        out.push("an error call without error_message".into());
    }
    if let Some(vars) = c.collected_variables() {
        let model = c.model_id.as_deref().unwrap();
        if vars.keys().any(|k| k != model) {
            out.push("collected_variables not keyed by the call's model_id".into());
        }
        for v in vars.values().flat_map(|m| m.values()) {
            if v.collected != Some(v.value().is_some()) {
                out.push("collected disagrees with the value".into());
            }
        }
    }
    for phone in [&c.phone_number_from, &c.phone_number_to] {
        let p = phone.as_deref().unwrap();
        if !(p.starts_with('+') && p.len() >= 11 && p[1..].bytes().all(|b| b.is_ascii_digit())) {
            out.push(format!("{p} is not E.164"));
        }
    }
    out
}

#[test]
fn every_generated_call_passes_the_contract_checks_and_the_consistency_rules() {
    for seed in [1, 7, 42] {
        let files = generate::generate(GenerateOptions {
            seed,
            count: 400,
            coverage: true,
        });
        for f in &files {
            let report = check_call_body(&f.body, Some(&f.id), CheckOptions::default());
            assert!(
                report.is_ok(),
                "{} ({}): {:?}",
                f.id,
                f.origin,
                report.violations
            );
            let problems = consistency_problems(&f.call);
            assert!(problems.is_empty(), "{} ({}): {problems:?}", f.id, f.origin);
            assert!(!f.body.ends_with(b"\n"));
            assert!(f.body.starts_with(
                br#"{"status":"ok","response":{"pagination":{"total_records":1,"limit":1,"offset":0},"calls":[{"call_id":""#
            ));
        }
    }
}

#[test]
fn the_consistency_rules_catch_a_broken_call() {
    let files = generate::generate(GenerateOptions {
        seed: 1,
        count: 0,
        coverage: true,
    });
    let mut c = files
        .iter()
        .find(|f| f.call.status == Some(CallStatus::Completed))
        .unwrap()
        .call
        .clone();
    c.duration = Some((c.duration_seconds().unwrap() + 3).into());
    c.telephony_hangup = Some(match c.telephony_hangup.unwrap() {
        TelephonyHangup::Caller => TelephonyHangup::Callee,
        _ => TelephonyHangup::Caller,
    });
    assert_eq!(
        consistency_problems(&c).len(),
        2,
        "{:?}",
        consistency_problems(&c)
    );
}

#[test]
fn random_calls_are_the_same_with_or_without_the_coverage_set() {
    let opts = |coverage| GenerateOptions {
        seed: 3,
        count: 5,
        coverage,
    };
    let alone = generate::generate(opts(false));
    let with = generate::generate(opts(true));
    let tail: Vec<_> = with[with.len() - 5..].iter().map(|f| &f.body).collect();
    assert_eq!(alone.iter().map(|f| &f.body).collect::<Vec<_>>(), tail);
}

#[test]
fn generate_refuses_to_overwrite_a_calls_folder_without_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = s(tmp.path());
    assert!(run(&["generate", "--count", "3", "--out", dir])
        .status
        .success());
    let again = run(&["generate", "--count", "2", "--seed", "9", "--out", dir]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--replace"));
    assert_eq!(tree(&tmp.path().join("calls")).len(), 3);
    let replaced = run(&[
        "generate",
        "--count",
        "2",
        "--seed",
        "9",
        "--out",
        dir,
        "--replace",
    ]);
    assert!(replaced.status.success());
    assert_eq!(
        tree(&tmp.path().join("calls")).len(),
        2,
        "stale files removed"
    );
}

/// A generated tree with three planted faults, one of each kind, and their expected lines.
fn planted_tree() -> (
    tempfile::TempDir,
    Vec<(PathBuf, &'static str, &'static str)>,
) {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&[
        "generate",
        "--coverage",
        "--seed",
        "3",
        "--count",
        "20",
        "--out",
        s(tmp.path()),
    ]);
    assert!(out.status.success());
    let calls = tmp.path().join("calls");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&calls)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let text = |p: &Path| std::fs::read_to_string(p).unwrap();
    let plant = |p: &Path, from: &str, to: &str| {
        let t = text(p);
        assert!(t.contains(from), "{from} not in {}", p.display());
        std::fs::write(p, t.replacen(from, to, 1)).unwrap();
    };
    let completed: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| text(p).contains(r#""status":"completed""#))
        .filter(|p| !text(p).contains(r#""end_call_reason":"custom_end_call""#))
        .collect();
    assert!(completed.len() >= 3);
    // 1. wrong type: a number with its unit, as a string (a bare string of digits is a shape
    //    seen live, `out-of-spec`: docs/fidelity.md).
    let t = text(completed[0]);
    let d = t.split(r#""duration":"#).nth(1).unwrap();
    let d = &d[..d.find(',').unwrap()];
    plant(
        completed[0],
        &format!(r#""duration":{d},"#),
        &format!(r#""duration":"{d} s","#),
    );
    // 2. a status the vendor's document does not list.
    plant(
        completed[1],
        r#""status":"completed""#,
        r#""status":"paused""#,
    );
    // 3. a custom end reason on a call that did not end by a custom rule.
    plant(
        completed[2],
        r#""custom_end_call_reason":null"#,
        r#""custom_end_call_reason":"Caller asked for a human agent""#,
    );
    let faults = vec![
        (completed[0].clone(), "/response/calls/0/duration", "schema"),
        (
            completed[1].clone(),
            "/response/calls/0/status",
            "out-of-spec",
        ),
        (
            completed[2].clone(),
            "/response/calls/0/custom_end_call_reason",
            "invariant",
        ),
    ];
    (tmp, faults)
}

#[test]
fn validate_prints_exactly_the_three_planted_faults_with_file_and_pointer() {
    let (tmp, faults) = planted_tree();
    let out = run(&["validate", s(tmp.path())]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let mut want: Vec<String> = faults
        .iter()
        .map(|(p, ptr, kind)| format!("{}:{ptr}: [{kind}]", p.display()))
        .collect();
    want.sort();
    for (line, prefix) in lines.iter().zip(&want) {
        assert!(
            line.starts_with(prefix.as_str()),
            "{line}\n  expected {prefix}"
        );
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("33 file(s) checked, 3 problem(s)"));
}

#[test]
fn validate_json_format_lists_the_same_faults_for_machines() {
    let (tmp, faults) = planted_tree();
    let out = run(&["validate", "--format", "json", s(tmp.path())]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["files"], 33);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3, "{report}");
    for (p, ptr, _) in &faults {
        assert!(
            problems
                .iter()
                .any(|x| x["file"] == p.display().to_string() && x["pointer"] == *ptr),
            "{ptr} of {} missing in {report}",
            p.display()
        );
    }
}

#[test]
fn validate_json_format_of_a_clean_tree_is_ok_with_exit_zero() {
    let tmp = tempfile::tempdir().unwrap();
    run(&["generate", "--count", "5", "--out", s(tmp.path())]);
    let out = run(&["validate", "--format", "json", s(tmp.path())]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report,
        serde_json::json!({"files": 5, "problems": [], "ok": true})
    );
}

#[test]
fn a_folder_with_generated_and_hand_made_calls_serves_both_and_refuses_a_duplicate_id() {
    let tmp = tempfile::tempdir().unwrap();
    run(&["generate", "--count", "4", "--out", s(tmp.path())]);
    let handmade = tmp.path().join("handmade/calls");
    std::fs::create_dir_all(&handmade).unwrap();
    let some = "4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75.json";
    std::fs::copy(
        repo().join("fixtures/handmade/calls").join(some),
        handmade.join(some),
    )
    .unwrap();
    let store = Store::from_dir(tmp.path(), LoadOptions::default()).unwrap();
    assert_eq!(store.len(), 5);
    assert!(store.get("4b7219fd-0e63-4c85-a9d1-e8f42b6c3a75").is_some());

    let generated = tree(&tmp.path().join("calls"));
    let (name, body) = &generated[0];
    std::fs::write(handmade.join(name), body).unwrap();
    match Store::from_dir(tmp.path(), LoadOptions::default()) {
        Err(StoreError::BadFiles(bad)) => {
            assert_eq!(bad.len(), 1, "{bad:?}");
            let msg = bad[0].to_string();
            assert!(msg.contains("already served from"), "{msg}");
        }
        other => panic!("a duplicate id must be refused, got {other:?}"),
    }
}
