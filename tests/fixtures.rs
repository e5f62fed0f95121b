//! The checked-in fixture set: every file passes the contract checks, round-trips losslessly
//! through the model, and together they cover every item of `synthflow::contract::coverage`.

use std::path::{Path, PathBuf};

use synthflow::contract::coverage::Coverage;
use synthflow::contract::{check_call_body, CheckOptions, ViolationKind};
use synthflow::model::GetCallResponse;

fn json_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

/// Every in-spec call fixture: the generated set and the hand-made one.
fn call_files() -> Vec<PathBuf> {
    let mut v = json_files("fixtures/calls");
    v.extend(json_files("fixtures/handmade/calls"));
    v
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_call_fixture_passes_the_contract_checks() {
    let files = call_files();
    assert!(!files.is_empty());
    for f in files {
        let report = check_call_body(
            &std::fs::read(&f).unwrap(),
            Some(&stem(&f)),
            CheckOptions::default(),
        );
        assert!(report.is_ok(), "{}: {:?}", f.display(), report.violations);
    }
}

#[test]
fn every_call_fixture_round_trips_to_the_same_json_value() {
    for f in call_files()
        .into_iter()
        .chain(json_files("fixtures/extended/calls"))
    {
        let bytes = std::fs::read(&f).unwrap();
        let original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let typed: GetCallResponse = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            serde_json::to_value(&typed).unwrap(),
            original,
            "{}",
            f.display()
        );
    }
}

#[test]
fn fixture_files_are_compact_single_bodies_as_the_api_sends_them() {
    for f in call_files() {
        let bytes = std::fs::read(&f).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            serde_json::to_vec(&value).unwrap(),
            bytes,
            "{} is not compact JSON",
            f.display()
        );
    }
}

fn coverage_of(files: &[PathBuf]) -> Coverage {
    let mut cov = Coverage::new();
    for f in files {
        let env: GetCallResponse = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        for call in env.calls() {
            cov.add(call);
        }
    }
    cov
}

#[test]
fn hand_made_fixture_set_covers_every_required_item() {
    let cov = coverage_of(&json_files("fixtures/handmade/calls"));
    assert_eq!(cov.missing(), Vec::<&str>::new(), "uncovered items");
    assert_eq!(cov.percent(), 100.0);
}

#[test]
fn coverage_notices_when_the_only_fixture_of_an_item_goes_missing() {
    let files: Vec<PathBuf> = json_files("fixtures/handmade/calls");
    let full = coverage_of(&files);
    let custom = &full.items()["end_call_reason=custom_end_call"];
    assert_eq!(
        custom.len(),
        1,
        "exactly one fixture covers custom_end_call: {custom:?}"
    );
    let without: Vec<PathBuf> = files.into_iter().filter(|f| stem(f) != custom[0]).collect();
    let cov = coverage_of(&without);
    assert!(
        cov.missing().contains(&"end_call_reason=custom_end_call"),
        "{:?}",
        cov.missing()
    );
    assert!(cov.missing().contains(&"custom_end_call_reason=set"));
}

#[test]
fn extended_fixtures_are_refused_strictly_and_accepted_with_the_opt_in() {
    let files = json_files("fixtures/extended/calls");
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let strict = check_call_body(&bytes, Some(&stem(&f)), CheckOptions::default());
        assert!(!strict.is_ok());
        assert!(
            strict
                .violations
                .iter()
                .all(|v| v.kind == ViolationKind::OutOfSpec),
            "{:?}",
            strict.violations
        );
        let lenient = check_call_body(
            &bytes,
            Some(&stem(&f)),
            CheckOptions {
                allow_out_of_spec: true,
            },
        );
        assert!(lenient.is_ok(), "{}: {:?}", f.display(), lenient.violations);
    }
}

#[test]
fn envelope_status_as_integer_decodes_too() {
    let env: GetCallResponse =
        serde_json::from_str(r#"{"status":200,"response":{"calls":[{"call_id":"x"}]}}"#).unwrap();
    assert!(env.status.unwrap().is_ok());
}

#[test]
fn missing_fields_do_not_break_decoding_and_are_not_invented() {
    let text = r#"{"status":"ok","response":{"calls":[{"call_id":"x"}]}}"#;
    let env: GetCallResponse = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_string(&env).unwrap(), text);
}

#[test]
fn null_and_absent_nullable_fields_stay_distinct() {
    let text = r#"{"call_id":"x","recording_url":null,"collected_variables":{"m":{"v":{"value":null,"collected":false}}}}"#;
    let call: synthflow::Call = serde_json::from_str(text).unwrap();
    assert_eq!(call.recording_url, Some(None));
    assert_eq!(call.custom_end_call_reason, None);
    assert_eq!(call.recording_url(), None);
    let var = &call.collected_variables().unwrap()["m"]["v"];
    assert_eq!(var.value, Some(None));
    assert_eq!(serde_json::to_string(&call).unwrap(), text);
}
