//! A suite report as JUnit XML, the format every CI system reads, so an integrator's pipeline in
//! any language can gate on the contract suite (`synthflow-check --junit FILE`).
//!
//! One `<testsuite>` per run, one `<testcase>` per case; a failed case has one `<failure>` whose
//! `message` is its first failure (the break, named: pointer, pass, rule) and whose text lists them
//! all. Written atomically: a CI step never reads half a file.

use std::io::Write;
use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::SuiteReport;

/// The JUnit XML of a report. `suite` names the `<testsuite>` (e.g. the target's name). Text is
/// escaped, and characters XML 1.0 forbids are left out (`quick-junit`).
///
/// ```
/// use contract_tests::{CaseResult, SuiteReport};
/// let report = SuiteReport { cases: vec![CaseResult { name: "get_call[a]".into(), failures: vec!["body /x: [schema] <bad>".into()] }] };
/// let xml = contract_tests::junit::to_xml(&report, "live");
/// assert!(xml.contains(r#"<failure message="body /x: [schema] &lt;bad&gt;""#));
/// ```
pub fn to_xml(report: &SuiteReport, suite: &str) -> String {
    let mut test_suite = TestSuite::new(suite);
    for case in &report.cases {
        let status = match case.failures.first() {
            None => TestCaseStatus::success(),
            Some(first) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(first.as_str())
                    .set_type("contract")
                    .set_description(case.failures.join("\n"));
                s
            }
        };
        let mut test_case = TestCase::new(case.name.as_str(), status);
        test_case.set_classname(format!("synthflow.contract.{suite}"));
        test_suite.add_test_case(test_case);
    }
    let mut junit = Report::new("synthflow-contract");
    junit.add_test_suite(test_suite);
    junit
        .to_string()
        .expect("a report in memory serializes to XML")
}

/// Writes `contents` to `path` atomically, creating the folder: the bytes go to a temporary file
/// in the same folder, are flushed to disk, and the temporary file is renamed over the target, so a
/// CI step never reads half a file and a failed write leaves the old file in place.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".synthflow-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CaseResult;

    #[test]
    fn passing_and_failing_cases_are_counted_and_markup_is_escaped() {
        let report = SuiteReport {
            cases: vec![
                CaseResult {
                    name: "ok".into(),
                    failures: vec![],
                },
                CaseResult {
                    name: "get_call[a&b]".into(),
                    failures: vec!["first \"quoted\" <x>".into(), "second\u{1}".into()],
                },
            ],
        };
        let xml = to_xml(&report, "t");
        assert!(
            xml.contains(r#"<testsuite name="t" tests="2" skipped="0" errors="0" failures="1""#),
            "{xml}"
        );
        assert!(xml.contains(r#"<testcase name="ok" classname="synthflow.contract.t"/>"#));
        assert!(xml.contains(r#"name="get_call[a&amp;b]""#), "{xml}");
        assert!(
            xml.contains(r#"message="first &quot;quoted&quot; &lt;x&gt;""#),
            "{xml}"
        );
        assert!(!xml.contains('\u{1}'));
    }

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("junit.xml");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["junit.xml"]);
    }
}
