//! A suite report as JUnit XML, the format every CI system reads, so an integrator's pipeline in
//! any language can gate on the contract suite (`synthflow-check --junit FILE`).
//!
//! One `<testsuite>` per run, one `<testcase>` per case; a failed case has one `<failure>` whose
//! `message` is its first failure (the break, named: pointer, pass, rule) and whose text lists them
//! all. Written atomically: a CI step never reads half a file.

use quick_xml::escape::escape;

use crate::SuiteReport;

/// The JUnit XML of a report. `suite` names the `<testsuite>` (e.g. the target's name).
///
/// ```
/// use contract_tests::{CaseResult, SuiteReport};
/// let report = SuiteReport { cases: vec![CaseResult { name: "get_call[a]".into(), failures: vec!["body /x: [schema] <bad>".into()] }] };
/// let xml = contract_tests::junit::to_xml(&report, "live");
/// assert!(xml.contains(r#"<failure message="body /x: [schema] &lt;bad&gt;""#));
/// ```
pub fn to_xml(report: &SuiteReport, suite: &str) -> String {
    let failed = report.failed().len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"synthflow-contract\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">\n",
        report.cases.len()
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">\n",
        text(suite),
        report.cases.len()
    ));
    for case in &report.cases {
        let open = format!(
            "    <testcase classname=\"synthflow.contract.{}\" name=\"{}\"",
            text(suite),
            text(&case.name)
        );
        match case.failures.first() {
            None => out.push_str(&format!("{open}/>\n")),
            Some(first) => {
                out.push_str(&format!("{open}>\n"));
                out.push_str(&format!(
                    "      <failure message=\"{}\" type=\"contract\">{}</failure>\n",
                    text(first),
                    text(&case.failures.join("\n"))
                ));
                out.push_str("    </testcase>\n");
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Escaped for XML text and attributes, without the control characters XML 1.0 forbids.
fn text(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    escape(clean.as_str()).replace('\n', "&#10;")
}

/// Writes `contents` to `path` atomically, creating the folder (the mock's one writer).
pub use synthflow_mock::atomic_file::write_atomic;

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
        assert!(xml.contains(r#"tests="2" failures="1""#), "{xml}");
        assert!(xml.contains(r#"<testcase classname="synthflow.contract.t" name="ok"/>"#));
        assert!(xml.contains(r#"name="get_call[a&amp;b]""#), "{xml}");
        assert!(
            xml.contains(r#"message="first &quot;quoted&quot; &lt;x&gt;""#),
            "{xml}"
        );
        assert!(!xml.contains('\u{1}'));
    }
}
