//! Reports on generated calls: the coverage table for the terminal, the markdown table for a
//! README, and splicing that table between its markers.

use std::fmt::Write as _;

use synthflow::contract::coverage::Coverage;
use synthflow::Call;

use super::GeneratedFile;

/// The coverage a set of calls reaches.
pub fn coverage_of<'a>(calls: impl IntoIterator<Item = &'a Call>) -> Coverage {
    let mut cov = Coverage::new();
    for c in calls {
        cov.add(c);
    }
    cov
}

/// The coverage table: every required item, the share of calls... as text for the terminal.
pub fn coverage_table(cov: &Coverage) -> String {
    let required = synthflow::contract::coverage::required_items();
    let width = required.iter().map(String::len).max().unwrap_or(10);
    let mut s = String::new();
    let _ = writeln!(s, "{:<width$}  CALLS  FIRST CALL", "ITEM");
    for item in &required {
        let ids = cov.items().get(item).map(Vec::as_slice).unwrap_or(&[]);
        let first = ids.first().map_or("-", |id| short(id));
        let mark = if ids.is_empty() { "  MISSING" } else { "" };
        let _ = writeln!(s, "{item:<width$}  {:>5}  {first}{mark}", ids.len());
    }
    let _ = write!(
        s,
        "coverage: {:.1}% ({} of {} items)",
        cov.percent(),
        required.len() - cov.missing().len(),
        required.len()
    );
    s
}

fn short(id: &str) -> &str {
    id.split('-').next().unwrap_or(id)
}

/// A markdown table of generated calls, one row each, for `fixtures/README.md`.
pub fn markdown_table(files: &[GeneratedFile]) -> String {
    let mut s = String::from(
        "| id | file | set | status | end_call_reason | type_of_call | hangup/disconnect | transcript |\n|---|---|---|---|---|---|---|---|\n",
    );
    let mut sorted: Vec<&GeneratedFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    for f in sorted {
        let c = &f.call;
        let s_ = |x: Option<&str>| x.unwrap_or("-").to_owned();
        let transcript = c.transcript.as_deref().unwrap_or("");
        let turns = if transcript.is_empty() {
            "empty".to_owned()
        } else {
            let n = transcript.lines().count();
            let plural = if n == 1 { "" } else { "s" };
            format!("{n} turn{plural}, {} B", transcript.len())
        };
        let _ = writeln!(
            s,
            "| `{}` | `calls/{}.json` | {} | `{}` | `{}` | `{}` | `{}` / `{}` | {} |",
            short(&f.id),
            f.id,
            f.origin,
            s_(c.status.as_ref().map(|x| x.as_str())),
            s_(c.end_call_reason.as_ref().map(|x| x.as_str())),
            s_(c.type_of_call.as_ref().map(|x| x.as_str())),
            s_(c.telephony_hangup.as_ref().map(|x| x.as_str())),
            s_(c.telephony_disconnect_reason.as_ref().map(|x| x.as_str())),
            turns
        );
    }
    s
}

/// Markers of the generated part of a README.
pub const TABLE_BEGIN: &str = "<!-- generated calls: begin -->";
/// End marker.
pub const TABLE_END: &str = "<!-- generated calls: end -->";

/// `text` with the part between [`TABLE_BEGIN`] and [`TABLE_END`] replaced by `table`; `None` when
/// the markers are missing.
pub fn splice_table(text: &str, table: &str) -> Option<String> {
    let b = text.find(TABLE_BEGIN)? + TABLE_BEGIN.len();
    let e = text[b..].find(TABLE_END)? + b;
    Some(format!("{}\n{}{}", &text[..b], table, &text[e..]))
}
