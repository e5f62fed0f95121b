//! Placeholders in a custom action's URL, headers, query and body template, filled from the
//! call's variables. Three spellings are seen in real action templates and filled alike:
//! `{var}` (the vendor's variables page), `<var>` (its older custom-action page) and `{{var}}`
//! (seen in integrators' templates). A placeholder whose name is not a known variable is left as
//! written, so a template's own braces (`{"id": "{call_id}"}`) are never touched.
//!
//! Values are escaped for where they land: inside a JSON body as JSON string content (a caller
//! name with a quote cannot break the body), in a URL percent-encoded, in a header as is.

/// Where a filled value lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// JSON string content: `"`, `\` and control characters escaped.
    Json,
    /// A URL: everything but unreserved characters percent-encoded.
    Url,
    /// A header value: as is (control characters dropped).
    Header,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// `text` with every known placeholder replaced; `lookup` gives a variable's value.
pub fn fill(text: &str, lookup: &dyn Fn(&str) -> Option<String>, escape: Escape) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '<']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some((name, len)) = placeholder(tail) {
            if let Some(v) = lookup(name) {
                out.push_str(&escaped(&v, escape));
                rest = &tail[len..];
                continue;
            }
        }
        let c = tail.chars().next().unwrap_or('{');
        out.push(c);
        rest = &tail[c.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// The placeholder at the start of `s` (`{{name}}`, `{name}` or `<name>`): its name and length.
fn placeholder(s: &str) -> Option<(&str, usize)> {
    let (open, close) = if s.starts_with("{{") {
        ("{{", "}}")
    } else if s.starts_with('{') {
        ("{", "}")
    } else if s.starts_with('<') {
        ("<", ">")
    } else {
        return None;
    };
    let body = &s[open.len()..];
    let end = body.find(close)?;
    let name = body[..end].trim();
    let valid = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(is_name_char)
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    valid.then_some((name, open.len() + end + close.len()))
}

/// What a value placed in a URL keeps as is: RFC 3986's unreserved characters; the rest is
/// percent-encoded.
const URL_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn escaped(v: &str, escape: Escape) -> String {
    match escape {
        Escape::Json => {
            let quoted = serde_json::to_string(v).unwrap_or_default();
            quoted[1..quoted.len() - 1].to_owned()
        }
        Escape::Url => percent_encoding::utf8_percent_encode(v, URL_VALUE).to_string(),
        Escape::Header => v.chars().filter(|c| !c.is_control()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "call_id" => Some("c-1".into()),
            "user_phone_number" => Some("+1 555".into()),
            "first_name" => Some("Zoë \"Z\"".into()),
            _ => None,
        }
    }

    #[test]
    fn the_three_spellings_are_filled_and_unknown_ones_kept() {
        let t = r#"{"id": "{call_id}", "caller": "{{user_phone_number}}", "n": "<first_name>", "x": "{unknown}", "y": "<b>"}"#;
        let filled = fill(t, &vars, Escape::Json);
        let v: serde_json::Value = serde_json::from_str(&filled).unwrap();
        assert_eq!(v["id"], "c-1");
        assert_eq!(v["caller"], "+1 555");
        assert_eq!(v["n"], "Zoë \"Z\"");
        assert_eq!(v["x"], "{unknown}");
        assert_eq!(v["y"], "<b>");
    }

    #[test]
    fn values_are_escaped_for_where_they_land() {
        assert_eq!(
            fill(
                "http://h/c/{call_id}?p={user_phone_number}",
                &vars,
                Escape::Url
            ),
            "http://h/c/c-1?p=%2B1%20555"
        );
        assert_eq!(
            fill("Bearer {first_name}", &vars, Escape::Header),
            "Bearer Zoë \"Z\""
        );
        assert_eq!(fill("{ {", &vars, Escape::Json), "{ {");
        assert_eq!(fill("a<b and c>d", &vars, Escape::Json), "a<b and c>d");
    }
}
