//! The round-trip pass: decoding into the typed model and encoding back must give the same JSON
//! value, or a user of the model would silently lose data the service sent.

use serde_json::Value;

use super::{pointer_token, Violation, ViolationKind};
use crate::model::GetCallResponse;

pub(super) fn compare(original: &Value, decoded: &GetCallResponse) -> Option<Violation> {
    let reencoded = match serde_json::to_value(decoded) {
        Ok(v) => v,
        Err(e) => {
            return Some(Violation::new(
                ViolationKind::Lossless,
                "",
                format!("the typed model does not encode back: {e}"),
            ))
        }
    };
    first_difference(original, &reencoded, String::new()).map(|(pointer, what)| {
        Violation::new(
            ViolationKind::Lossless,
            pointer,
            format!("decode → encode changed the value: {what}"),
        )
    })
}

/// The first place two values differ, as a JSON pointer and a description.
pub fn first_difference(a: &Value, b: &Value, at: String) -> Option<(String, String)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let here = format!("{at}/{}", pointer_token(k));
                match y.get(k) {
                    None => return Some((here, "member dropped".into())),
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, here) {
                            return Some(d);
                        }
                    }
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| (format!("{at}/{}", pointer_token(k)), "member added".into()))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some((at, format!("length {} became {}", x.len(), y.len())));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (va, vb))| first_difference(va, vb, format!("{at}/{i}")))
        }
        _ if a == b => None,
        _ => Some((at, format!("{a} became {b}"))),
    }
}
