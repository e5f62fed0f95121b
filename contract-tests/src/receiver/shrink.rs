//! Shrinking: reduce a failing payload to a minimal one that still fails.
//!
//! [`candidates`] lists every payload one step simpler than a given one, most reducing first:
//! drop a member, empty an object or array, drop an array element, shorten a string (to empty,
//! then to half), zero a number, turn `true` to `false`. Members named by the endpoint's
//! required fields (and their ancestors) are never dropped and their values never changed, so the
//! call id stays and the signature stays meaningful. Every step makes the value strictly smaller,
//! so repeated shrinking ends.
//!
//! The search is greedy: `run` tries candidates in order and moves to the first that still fails
//! the property (each try re-signed over the candidate's own identity), until none does or the
//! budget is spent.

use serde_json::Value;

/// Escapes a member name for a JSON pointer (`~` → `~0`, `/` → `~1`).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Whether `pointer` is required or an ancestor of a required member.
fn protected(pointer: &str, required: &[&str]) -> bool {
    required
        .iter()
        .any(|r| *r == pointer || r.starts_with(&format!("{pointer}/")))
}

/// Whether anything below `pointer` is required (the value may then not be replaced whole).
fn holds_required(pointer: &str, required: &[&str]) -> bool {
    required
        .iter()
        .any(|r| r.starts_with(&format!("{pointer}/")))
}

/// The payloads one step simpler than `value`, most reducing first.
pub fn candidates(value: &Value, required: &[&str]) -> Vec<Value> {
    let mut paths = Vec::new();
    collect_paths(value, String::new(), &mut paths);
    let mut out = Vec::new();
    // 1. Drop members and array elements, outermost first (the biggest cuts).
    for p in &paths {
        if p.is_empty() || protected(p, required) {
            continue;
        }
        if let Some(v) = without(value, p) {
            out.push(v);
        }
    }
    // 2. Simplify values in place.
    for p in &paths {
        if required.contains(&p.as_str()) {
            continue;
        }
        let Some(current) = value.pointer(p) else {
            continue;
        };
        for simpler in simpler_values(current, holds_required(p, required)) {
            let mut v = value.clone();
            if let Some(slot) = v.pointer_mut(p) {
                *slot = simpler;
                out.push(v);
            }
        }
    }
    out
}

fn collect_paths(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                collect_paths(child, format!("{at}/{}", escape(k)), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                collect_paths(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `value` without the member or element at `pointer`.
fn without(value: &Value, pointer: &str) -> Option<Value> {
    let at = pointer.rfind('/')?;
    let (parent, key) = (&pointer[..at], &pointer[at + 1..]);
    let mut v = value.clone();
    match v.pointer_mut(parent)? {
        Value::Object(o) => {
            let key = key.replace("~1", "/").replace("~0", "~");
            o.remove(&key)?;
        }
        Value::Array(a) => {
            let i: usize = key.parse().ok()?;
            if i >= a.len() {
                return None;
            }
            a.remove(i);
        }
        _ => return None,
    }
    Some(v)
}

fn simpler_values(v: &Value, holds_required: bool) -> Vec<Value> {
    match v {
        Value::Object(o) if !o.is_empty() && !holds_required => {
            vec![Value::Object(Default::default())]
        }
        Value::Array(a) if !a.is_empty() && !holds_required => vec![Value::Array(Vec::new())],
        Value::String(s) if !s.is_empty() => {
            let mut out = vec![Value::String(String::new())];
            let chars = s.chars().count();
            if chars > 1 {
                out.push(Value::String(s.chars().take(chars / 2).collect()));
            }
            out
        }
        Value::Number(n) if n.as_f64() != Some(0.0) => vec![Value::from(0)],
        Value::Bool(true) => vec![Value::Bool(false)],
        _ => Vec::new(),
    }
}

/// The size the shrinker reduces: members, elements and string characters, counted whole.
pub fn size(v: &Value) -> usize {
    match v {
        Value::Object(o) => 1 + o.iter().map(|(k, c)| 1 + k.len() + size(c)).sum::<usize>(),
        Value::Array(a) => 1 + a.iter().map(size).sum::<usize>(),
        Value::String(s) => 1 + s.chars().count(),
        Value::Number(n) if n.as_f64() == Some(0.0) => 1,
        Value::Number(_) => 2,
        Value::Bool(b) => 1 + usize::from(*b),
        Value::Null => 1,
    }
}

/// Shrinks `value` with a synchronous `still_fails`, trying at most `budget` candidates. `run`
/// uses the same loop with requests; this one is for tests and library users with an in-process
/// oracle. Returns the smallest failing value found and the number of tries.
pub fn shrink_with(
    value: &Value,
    required: &[&str],
    budget: usize,
    mut still_fails: impl FnMut(&Value) -> bool,
) -> (Value, usize) {
    let mut current = value.clone();
    let mut tries = 0;
    'outer: loop {
        for c in candidates(&current, required) {
            if tries >= budget {
                break 'outer;
            }
            tries += 1;
            if still_fails(&c) {
                current = c;
                continue 'outer;
            }
        }
        break;
    }
    (current, tries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const REQUIRED: &[&str] = &["/call", "/call/call_id", "/call/status"];

    #[test]
    fn a_null_collected_variables_failure_shrinks_to_it_and_the_required_members() {
        let start = json!({
            "status": "completed", "error_message": "",
            "lead": {"name": "Ada", "phone_number": "+1555"},
            "call": {"call_id": "c-1", "status": "completed", "transcript": "\nbot: hi", "duration": 4,
                     "x/odd~key": [1, 2]},
            "collected_variables": null,
            "analysis": {"goal": true}
        });
        let (small, _) = shrink_with(&start, REQUIRED, 1000, |v| {
            v.get("collected_variables") == Some(&Value::Null)
        });
        assert_eq!(
            small,
            json!({"call": {"call_id": "c-1", "status": "completed"}, "collected_variables": null})
        );
    }

    #[test]
    fn every_candidate_is_smaller_and_keeps_the_required_members() {
        let start = json!({"call": {"call_id": "abc", "status": "busy", "n": 3, "t": true,
                           "list": ["a", "bb"]}, "top": {"k": "vvvv"}});
        for c in candidates(&start, REQUIRED) {
            assert!(size(&c) < size(&start), "{c}");
            assert_eq!(c["call"]["call_id"], "abc");
            assert_eq!(c["call"]["status"], "busy");
        }
    }

    #[test]
    fn a_property_that_needs_a_long_string_keeps_some_of_it() {
        let start =
            json!({"call": {"call_id": "c", "status": "s"}, "transcript": "x".repeat(1000)});
        let (small, _) = shrink_with(&start, REQUIRED, 1000, |v| {
            v["transcript"].as_str().is_some_and(|t| t.len() > 100)
        });
        let t = small["transcript"].as_str().unwrap().len();
        assert!((101..=250).contains(&t), "{t}");
    }
}
