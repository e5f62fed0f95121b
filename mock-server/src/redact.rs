//! The one redaction table: what counts as a secret in a header, a query parameter, a URL or a
//! JSON answer, for every record the mock keeps or shows (the request journal, the delivery
//! journal of every outgoing request, the admin API, the console, the logs).
//!
//! A name is a secret when, percent-decoded (repeatedly) and lowercased, it contains one of
//! [`SECRET_NAMES`] or equals one of [`SECRET_EXACT_NAMES`] (`sig` alone: as a substring it would
//! hit `design` or `signup`). A header is also a secret when its name is one of the `extra` names
//! the caller gives: the configured webhook signature header, whatever it is called
//! (`--webhook-signature-header X-Hmac`). `Authorization` keeps its scheme (`Bearer [redacted]`).
//!
//! Why one table: the request journal redacted `?token=` while the delivery journal showed the
//! same name in clear in a webhook URL; two tables drift, one cannot.

use http::{HeaderName, HeaderValue};

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Substrings that make a name a secret (case-insensitive, after percent-decoding).
pub const SECRET_NAMES: [&str; 14] = [
    "token",
    "key",
    "secret",
    "password",
    "passwd",
    "signature",
    "auth",
    "credential",
    "session",
    "jwt",
    "bearer",
    "private",
    "cookie",
    "hmac",
];

/// Whole names that are secrets (too short to match as substrings).
pub const SECRET_EXACT_NAMES: [&str; 2] = ["sig", "x-sig"];

/// Whether a header or query parameter name names a secret: it contains one of [`SECRET_NAMES`]
/// or is one of [`SECRET_EXACT_NAMES`] once percent-decoded (repeatedly, so `%2574oken` is
/// `token` too), case-insensitively.
pub fn is_secret_name(name: &str) -> bool {
    let mut n = name.to_ascii_lowercase();
    for _ in 0..4 {
        if SECRET_NAMES.iter().any(|s| n.contains(s)) || SECRET_EXACT_NAMES.contains(&n.trim()) {
            return true;
        }
        match percent_decoded(&n) {
            Some(d) => n = d.to_ascii_lowercase(),
            None => return false,
        }
    }
    false
}

/// A header's value as it may be kept: `None` when it may be kept as it is, else its redacted
/// form. `extra`: names redacted whole besides the table (the configured signature header).
pub fn header_value(
    name: &HeaderName,
    value: &HeaderValue,
    extra: &[HeaderName],
) -> Option<String> {
    let n = name.as_str();
    match n {
        "authorization" | "proxy-authorization" => {
            let text = value.to_str().unwrap_or("");
            Some(match text.trim().split_once(' ') {
                Some((scheme, _)) => format!("{} {REDACTED}", crate::ring::bounded(scheme, 64)),
                None => REDACTED.to_owned(),
            })
        }
        _ if is_secret_name(n) || extra.contains(name) => Some(REDACTED.to_owned()),
        _ => None,
    }
}

/// `text` with its `%XX` escapes (and `+`) decoded, lossily; `None` when there is nothing to decode.
fn percent_decoded(text: &str) -> Option<String> {
    if !text.contains(['%', '+']) {
        return None;
    }
    let spaced = text.replace('+', " ");
    Some(
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// A query string with secret-named parameters redacted (names decoded before matching).
pub fn query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(k, _)| k);
            if is_secret_name(name) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A URL as it may be shown: user and password removed, secret-named query parameters redacted,
/// the fragment dropped. `http://u:p@h/x?token=1&a=2#f` → `http://h/x?token=[redacted]&a=2`.
pub fn url(url: &str) -> String {
    let (before_fragment, _) = url.split_once('#').unwrap_or((url, ""));
    let (base, q) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let base = match base.find("://") {
        Some(scheme_end) => {
            let rest = &base[scheme_end + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{}{}", &base[..scheme_end + 3], &rest[at + 1..]),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    match q {
        Some(q) => format!("{base}?{}", query(q)),
        None => base,
    }
}

/// A receiver's answer body as it may be kept: when it is JSON, the values of secret-named keys
/// (at any depth) are redacted; any other text is kept as it is. Cut to `max` bytes afterwards,
/// on a character boundary, the cut marked.
pub fn answer_body(body: &[u8], max: usize) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut v) => {
            json_value(&mut v, 0);
            serde_json::to_string(&v).unwrap_or_default()
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    crate::ring::bounded(&text, max)
}

/// Redacts the values of secret-named keys in `v`, in place (depth-bounded).
fn json_value(v: &mut serde_json::Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_name(k) {
                    *val = serde_json::Value::String(REDACTED.to_owned());
                } else {
                    json_value(val, depth + 1);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                json_value(item, depth + 1);
            }
        }
        _ => {}
    }
}

/// An agent's or action's JSON as the admin API and the console show it: every `*url` value
/// through [`url`], a custom action's `custom_auth.value` redacted, and the values of `headers` /
/// `query_parameters` items whose `key` names a secret. (The vendor API itself answers what was
/// stored, as the live one does: this is only for what the mock shows of its own.)
pub fn vendor_object(v: &mut serde_json::Value) {
    vendor_object_at(v, 0);
}

fn vendor_object_at(v: &mut serde_json::Value, depth: usize) {
    use serde_json::Value;
    if depth > 32 {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                match val {
                    Value::String(s) if k.ends_with("url") => *s = url(s),
                    Value::Object(auth) if k == "custom_auth" => {
                        if let Some(x) = auth.get_mut("value") {
                            *x = Value::String(REDACTED.to_owned());
                        }
                    }
                    Value::Array(items) if k == "headers" || k == "query_parameters" => {
                        for item in items {
                            let secret = item
                                .get("key")
                                .and_then(Value::as_str)
                                .is_some_and(is_secret_name);
                            if let (true, Some(x)) = (secret, item.get_mut("value")) {
                                *x = Value::String(REDACTED.to_owned());
                            }
                        }
                    }
                    _ => vendor_object_at(val, depth + 1),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                vendor_object_at(item, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_decoded_before_matching() {
        for name in [
            "%74oken",
            "%2574oken",
            "AUTH",
            "x%2Dauth",
            "my+session",
            "%4a%57%54",
            "sig",
            "SIG",
            "signature",
            "x-hmac",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["accept", "model_id", "%zz", "%", "a%4", "design", "signup"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn a_url_loses_its_credentials_and_secret_query_values() {
        assert_eq!(
            url("http://u:p@127.0.0.1:9/hook?token=abc&api_key=k&x=1&sig=s#frag"),
            "http://127.0.0.1:9/hook?token=[redacted]&api_key=[redacted]&x=1&sig=[redacted]"
        );
        assert_eq!(url("http://h/a@b"), "http://h/a@b");
        assert_eq!(url("nonsense"), "nonsense");
        assert_eq!(url("http://h/?secret=1"), "http://h/?secret=[redacted]");
    }

    #[test]
    fn the_configured_signature_header_is_redacted_whatever_its_name() {
        let extra = [HeaderName::from_static("x-custom")];
        let v = HeaderValue::from_static("c2lnbmF0dXJl");
        assert_eq!(
            header_value(&HeaderName::from_static("x-custom"), &v, &extra).as_deref(),
            Some(REDACTED)
        );
        assert_eq!(
            header_value(&HeaderName::from_static("x-custom"), &v, &[]),
            None
        );
        let bearer = HeaderValue::from_static("Bearer s3cret");
        assert_eq!(
            header_value(&HeaderName::from_static("authorization"), &bearer, &[]).as_deref(),
            Some("Bearer [redacted]")
        );
    }

    #[test]
    fn an_action_shown_by_the_admin_api_keeps_no_credential() {
        let mut v = serde_json::json!({"CUSTOM_ACTION": {
            "url": "http://h/x?api_key=k1-s3cret",
            "custom_auth": {"is_needed": true, "key": "Bearer", "value": "t-s3cret"},
            "headers": [{"key": "X-Api-Key", "value": "h-s3cret"}, {"key": "X-Source", "value": "crm"}]
        }, "external_webhook_url": "http://u:p-s3cret@h/hook"});
        vendor_object(&mut v);
        let shown = v.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("\"crm\"") && shown.contains("X-Source"),
            "{shown}"
        );
    }

    #[test]
    fn a_json_answer_keeps_its_shape_without_its_secrets() {
        let body = br#"{"ok":true,"api_key":"s3cret","nested":[{"token":"t"}],"n":1}"#;
        let kept = answer_body(body, 2048);
        assert!(
            !kept.contains("s3cret") && !kept.contains("\"t\""),
            "{kept}"
        );
        assert!(
            kept.contains("\"ok\":true") && kept.contains("\"n\":1"),
            "{kept}"
        );
        let long = "x".repeat(5000);
        assert!(answer_body(long.as_bytes(), 2048).len() < 2100);
    }
}
