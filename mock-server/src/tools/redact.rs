//! Deterministic redaction of recorded bodies: the same input always gives the same output, so
//! re-recording an account gives stable diffs, and nothing personal survives.
//!
//! Every replacement is derived from SHA-256 over a key and the original value (never from
//! randomness). The key defaults to a fixed public string, so two people recording the same call
//! get the same fixture; set `SYNTHFLOW_REDACT_KEY` to make the replacements unguessable.
//!
//! What happens to each member of a call record:
//!
//! | member | becomes |
//! |---|---|
//! | `phone_number_from`, `phone_number_to` | a fictional E.164 number, `+1555` and 7 digits |
//! | `name` | a fictional name with as many words (first, last) |
//! | `transcript` | the same lines with the same speaker prefixes (`bot: `, `human: `), each line's text replaced by pseudo-words of the same length, ending in the same punctuation |
//! | `recording_url` | `https://recordings.invalid/<hash>.<ext>` (`null` stays `null`) |
//! | `prompt_variables`, `executed_actions`, collected `value`s, members the document does not declare | every string leaf replaced by pseudo-words of the same length; numbers, booleans, `null` and keys kept |
//! | `error_message`, `custom_end_call_reason` | kept, with the record's phone numbers and name, and anything that looks like a phone number (10+ digits), replaced |
//! | `call_id`, `model_id`, `collected_variables` keys | kept, or with `--remap-ids` a UUID v4 derived from the id |
//! | enums, times, durations, `campaign_type`, `timezone` | kept |
//!
//! The API token, if the upstream ever echoed it, is removed from every string; a body that still
//! held it after redaction is refused.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The key used when `SYNTHFLOW_REDACT_KEY` is not set.
pub const DEFAULT_KEY: &str = "synthflow-mock redaction v1";

/// Why a body could not be redacted.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// The body is not JSON.
    #[error("not JSON at line {line} column {column}: {message}")]
    NotJson {
        /// Line of the error (from 1).
        line: usize,
        /// Column of the error (from 1).
        column: usize,
        /// serde_json's message.
        message: String,
    },
    /// A secret was still present after redaction (a bug; the body is not written).
    #[error("the redacted body still contains the API token; refusing to write it")]
    SecretSurvived,
}

/// Redacts bodies. Cheap to clone.
#[derive(Clone)]
pub struct Redactor {
    key: Vec<u8>,
    remap_ids: bool,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("key", &"<redacted>")
            .field("remap_ids", &self.remap_ids)
            .finish()
    }
}

const FIRST: &[&str] = &[
    "Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan", "Kendall", "Logan",
    "Morgan", "Parker", "Quinn", "Reese", "Riley", "Rowan", "Sawyer", "Skyler", "Taylor", "Tatum",
];
const LAST: &[&str] = &[
    "Ashdown",
    "Brightwater",
    "Cobalt",
    "Dunmore",
    "Elmsworth",
    "Fairhaven",
    "Greystone",
    "Hollis",
    "Ivers",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Marlowe",
    "Northcott",
    "Oakridge",
    "Pemberton",
    "Quarry",
    "Ravenscroft",
    "Stillwater",
    "Thornbury",
];
const WORDS: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "tempor",
    "incididunt",
    "labore",
    "magna",
    "aliqua",
    "veniam",
    "nostrud",
    "ullamco",
    "laboris",
    "nisi",
    "aliquip",
    "commodo",
    "consequat",
    "aute",
    "irure",
    "voluptate",
    "velit",
    "esse",
    "cillum",
    "fugiat",
    "nulla",
    "pariatur",
    "excepteur",
    "occaecat",
    "cupidatat",
    "proident",
    "culpa",
    "officia",
    "deserunt",
    "mollit",
    "anim",
    "laborum",
    "vel",
    "eum",
    "iure",
    "quis",
    "autem",
    "vitae",
];

impl Redactor {
    /// A redactor with the given key.
    pub fn new(key: impl AsRef<[u8]>, remap_ids: bool) -> Self {
        Redactor {
            key: key.as_ref().to_vec(),
            remap_ids,
        }
    }

    /// The key from `SYNTHFLOW_REDACT_KEY`, else [`DEFAULT_KEY`].
    pub fn from_env(remap_ids: bool) -> Self {
        let key = std::env::var("SYNTHFLOW_REDACT_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| DEFAULT_KEY.to_owned());
        Redactor::new(key, remap_ids)
    }

    /// Whether ids are remapped.
    pub fn remaps_ids(&self) -> bool {
        self.remap_ids
    }

    fn hash(&self, domain: &str, value: &str, counter: u32) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update((self.key.len() as u64).to_le_bytes());
        h.update(&self.key);
        h.update(domain.as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        h.update(counter.to_le_bytes());
        h.finalize().into()
    }

    fn number(&self, domain: &str, value: &str) -> u64 {
        let h = self.hash(domain, value, 0);
        u64::from_le_bytes(h[..8].try_into().expect("8 bytes"))
    }

    /// The id a call or agent id is written as: itself, or with `--remap-ids` a UUID v4 derived
    /// from it.
    pub fn id(&self, id: &str) -> String {
        if !self.remap_ids || id.is_empty() {
            return id.to_owned();
        }
        let h = self.hash("id", id, 0);
        let mut hex: Vec<u8> = h[..16]
            .iter()
            .flat_map(|b| format!("{b:02x}").into_bytes())
            .collect();
        hex[12] = b'4';
        hex[16] = b"89ab"[(h[16] & 3) as usize];
        let s = String::from_utf8(hex).expect("hex");
        format!(
            "{}-{}-{}-{}-{}",
            &s[..8],
            &s[8..12],
            &s[12..16],
            &s[16..20],
            &s[20..]
        )
    }

    /// A fictional E.164 number for a phone number (`+1555` and 7 digits).
    pub fn phone(&self, original: &str) -> String {
        if original.is_empty() {
            return String::new();
        }
        let digits: String = original.chars().filter(char::is_ascii_digit).collect();
        format!("+1555{:07}", self.number("phone", &digits) % 10_000_000)
    }

    /// A fictional name with as many words as the original (at most two).
    pub fn name(&self, original: &str) -> String {
        let words = original.split_whitespace().count();
        if words == 0 {
            return original.to_owned();
        }
        let n = self.number("name", original);
        let first = FIRST[(n % FIRST.len() as u64) as usize];
        let last = LAST[((n >> 16) % LAST.len() as u64) as usize];
        if words == 1 {
            first.to_owned()
        } else {
            format!("{first} {last}")
        }
    }

    /// Pseudo-words with the same number of characters, ending in the same punctuation.
    pub fn text(&self, original: &str) -> String {
        let len = original.chars().count();
        if len == 0 {
            return String::new();
        }
        let mut out = String::with_capacity(len + 12);
        let mut counter = 0u32;
        'fill: loop {
            let h = self.hash("text", original, counter);
            counter += 1;
            for pair in h.chunks(2) {
                if !out.is_empty() {
                    out.push(' ');
                }
                let i = u16::from_le_bytes([pair[0], pair[1]]) as usize % WORDS.len();
                out.push_str(WORDS[i]);
                if out.chars().count() >= len {
                    break 'fill;
                }
            }
        }
        let mut chars: Vec<char> = out.chars().take(len).collect();
        if let Some(first) = chars.first_mut() {
            *first = first.to_ascii_uppercase();
        }
        let last_orig = original.chars().last().unwrap_or('.');
        if let Some(last) = chars.last_mut() {
            if last_orig.is_ascii_punctuation() {
                *last = last_orig;
            } else if *last == ' ' {
                *last = 'x';
            }
        }
        chars.into_iter().collect()
    }

    /// The transcript, line by line: speaker prefixes kept, each text replaced.
    pub fn transcript(&self, original: &str) -> String {
        original
            .split('\n')
            .map(|line| match speaker_prefix(line) {
                Some(n) => format!("{}{}", &line[..n], self.text(&line[n..])),
                None => self.text(line),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A recording URL on a reserved host, keeping the file extension.
    pub fn url(&self, original: &str) -> String {
        if original.is_empty() {
            return String::new();
        }
        let h = self.hash("url", original, 0);
        let hex: String = h[..12].iter().map(|b| format!("{b:02x}")).collect();
        let path = original.split(['?', '#']).next().unwrap_or("");
        let ext = path
            .rsplit('/')
            .next()
            .and_then(|f| f.rsplit_once('.'))
            .map(|(_, e)| e)
            .filter(|e| (1..=5).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(|e| format!(".{e}"))
            .unwrap_or_default();
        format!("https://recordings.invalid/{hex}{ext}")
    }

    /// Redacts a 200 body of `GET /v2/calls/{call_id}`; returns compact JSON. `secrets` (the API
    /// token) are removed from every string and must not survive.
    pub fn call_body(&self, body: &[u8], secrets: &[&str]) -> Result<Vec<u8>, RedactError> {
        let mut value = parse(body)?;
        if let Some(calls) = value
            .pointer_mut("/response/calls")
            .and_then(Value::as_array_mut)
        {
            for call in calls.iter_mut() {
                if let Value::Object(record) = call {
                    self.call(record);
                }
            }
        }
        // Elsewhere (envelope, timestamps) only the secrets go: a digit run there is not a phone.
        let mut scrub = Scrub::new(self, Vec::new(), secrets);
        scrub.phones = false;
        scrub.deep(&mut value);
        finish(&value, secrets)
    }

    /// Redacts an error body: strings scrubbed of phone numbers and secrets, shape kept.
    pub fn error_body(&self, body: &[u8], secrets: &[&str]) -> Result<Vec<u8>, RedactError> {
        let mut value = parse(body)?;
        Scrub::new(self, Vec::new(), secrets).deep(&mut value);
        finish(&value, secrets)
    }

    fn call(&self, record: &mut Map<String, Value>) {
        // The record's own personal values, so they are also replaced where they are quoted.
        let mut pairs: Vec<(String, String)> = Vec::new();
        for k in ["phone_number_from", "phone_number_to"] {
            if let Some(p) = record
                .get(k)
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
            {
                pairs.push((p.to_owned(), self.phone(p)));
            }
        }
        if let Some(n) = record.get("name").and_then(Value::as_str) {
            let fake = self.name(n);
            if !n.trim().is_empty() {
                pairs.push((n.to_owned(), fake.clone()));
            }
            let fake_parts: Vec<&str> = fake.split_whitespace().collect();
            for (i, part) in n.split_whitespace().enumerate() {
                if part.chars().count() >= 3 {
                    let to = fake_parts.get(i).or(fake_parts.first()).unwrap_or(&"");
                    pairs.push((part.to_owned(), (*to).to_owned()));
                }
            }
        }
        let scrub = Scrub::new(self, pairs, &[]);
        for (k, v) in record.iter_mut() {
            match (k.as_str(), &mut *v) {
                ("call_id" | "model_id", Value::String(s)) => *s = self.id(s),
                ("phone_number_from" | "phone_number_to", Value::String(s)) => *s = self.phone(s),
                ("name", Value::String(s)) => *s = self.name(s),
                ("transcript", Value::String(s)) => *s = self.transcript(s),
                ("recording_url", Value::String(s)) => *s = self.url(s),
                ("error_message" | "custom_end_call_reason", Value::String(s)) => {
                    *s = scrub.text(s)
                }
                ("collected_variables", Value::Object(agents)) => {
                    let taken = std::mem::take(agents);
                    for (agent, mut vars) in taken {
                        self.strings(&mut vars);
                        agents.insert(self.id(&agent), vars);
                    }
                }
                (
                    "campaign_type"
                    | "duration"
                    | "end_call_reason"
                    | "type_of_call"
                    | "start_time"
                    | "timezone"
                    | "telephony_hangup"
                    | "telephony_disconnect_reason"
                    | "telephony_duration"
                    | "telephony_ringing_duration"
                    | "telephony_start"
                    | "telephony_end"
                    | "status",
                    _,
                ) => {}
                // prompt_variables, executed_actions, and whatever the document does not declare.
                _ => self.strings(v),
            }
        }
    }

    /// Replaces every string leaf (not keys) with pseudo-words of the same length.
    fn strings(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.strings(i)),
            Value::Object(m) => m.values_mut().for_each(|i| self.strings(i)),
            _ => {}
        }
    }
}

/// `bot: `, `human: `, `agent: `...: a short lowercase word, a colon and a space.
fn speaker_prefix(line: &str) -> Option<usize> {
    let colon = line.find(": ")?;
    let word = &line[..colon];
    ((1..=16).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(colon + 2)
}

/// Replaces known values and phone-like digit runs inside strings that are otherwise kept.
struct Scrub<'a> {
    redactor: &'a Redactor,
    pairs: Vec<(String, String)>,
    phones: bool,
}

impl<'a> Scrub<'a> {
    fn new(redactor: &'a Redactor, mut pairs: Vec<(String, String)>, secrets: &[&str]) -> Self {
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            pairs.push(((*s).to_owned(), "<redacted>".to_owned()));
        }
        // Longest first, so a full name goes before its parts.
        pairs.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        Scrub {
            redactor,
            pairs,
            phones: true,
        }
    }

    fn text(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for (from, to) in &self.pairs {
            if out.contains(from.as_str()) {
                out = out.replace(from.as_str(), to);
            }
        }
        if self.phones {
            self.phones(&out)
        } else {
            out
        }
    }

    fn deep(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.deep(i)),
            Value::Object(m) => m.values_mut().for_each(|i| self.deep(i)),
            _ => {}
        }
    }

    /// Runs of digits and `+ -()` separators holding 10 or more digits become fictional numbers.
    fn phones(&self, s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let starts = (c == '+' || c.is_ascii_digit() || c == '(')
                && (i == 0 || !chars[i - 1].is_alphanumeric());
            if starts {
                let mut j = i;
                let mut digits = 0;
                let mut last_digit = i;
                while j < chars.len()
                    && (chars[j].is_ascii_digit()
                        || matches!(chars[j], '+' | '-' | '(' | ')' | ' '))
                {
                    if chars[j].is_ascii_digit() {
                        digits += 1;
                        last_digit = j;
                    }
                    j += 1;
                }
                if digits >= 10 {
                    let run: String = chars[i..=last_digit].iter().collect();
                    out.push_str(&self.redactor.phone(&run));
                    i = last_digit + 1;
                    continue;
                }
            }
            out.push(c);
            i += 1;
        }
        out
    }
}

fn parse(body: &[u8]) -> Result<Value, RedactError> {
    serde_json::from_slice(body).map_err(|e| RedactError::NotJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

fn finish(value: &Value, secrets: &[&str]) -> Result<Vec<u8>, RedactError> {
    let bytes = serde_json::to_vec(value).expect("a JSON value encodes");
    if secrets
        .iter()
        .filter(|s| !s.is_empty())
        .any(|s| contains(&bytes, s.as_bytes()))
    {
        return Err(RedactError::SecretSurvived);
    }
    Ok(bytes)
}

/// Whether `hay` holds `needle`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new(DEFAULT_KEY, false)
    }

    #[test]
    fn text_keeps_length_and_final_punctuation() {
        for s in [
            "Hi Dana, how are you today?",
            "Yes.",
            "ok",
            "Grüße aus München!",
        ] {
            let t = r().text(s);
            assert_eq!(t.chars().count(), s.chars().count(), "{s:?} → {t:?}");
            assert_eq!(
                t.chars().last(),
                s.chars()
                    .last()
                    .filter(|c| c.is_ascii_punctuation())
                    .or(t.chars().last())
            );
            assert_ne!(t, s);
        }
    }

    #[test]
    fn transcript_keeps_speakers_and_line_count() {
        let t = r().transcript("bot: Hello Dana.\nhuman: Hi, it's me.\nbot: Bye.");
        let lines: Vec<&str> = t.split('\n').collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("bot: ") && lines[1].starts_with("human: "));
        assert_eq!(lines[1].len(), "human: Hi, it's me.".len());
        assert!(!t.contains("Dana"));
    }

    #[test]
    fn phone_is_fictional_e164_and_stable() {
        let p = r().phone("+14155550123");
        assert!(p.starts_with("+1555") && p.len() == 12, "{p}");
        assert_eq!(p, r().phone("+14155550123"));
        assert_ne!(p, Redactor::new("another key", false).phone("+14155550123"));
    }

    #[test]
    fn phone_like_runs_inside_kept_text_are_replaced_but_short_numbers_are_not() {
        let red = r();
        let s = Scrub::new(&red, vec![], &[]);
        let out = s.text("Call to (415) 555-0123 failed after 3 tries, SIP 403");
        assert!(!out.contains("555-0123"), "{out}");
        assert!(out.contains("after 3 tries, SIP 403"), "{out}");
    }

    #[test]
    fn remapped_ids_are_uuid_v4_shaped_and_stable() {
        let red = Redactor::new(DEFAULT_KEY, true);
        let id = red.id("1a6f3c2e-8b47-4d19-9e35-c0f2a7b5d813");
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(id, red.id("1a6f3c2e-8b47-4d19-9e35-c0f2a7b5d813"));
        assert_eq!(r().id("abc"), "abc");
    }

    #[test]
    fn a_token_echoed_by_the_upstream_is_removed() {
        let body = br#"{"status":"ok","response":{"calls":[{"call_id":"a","debug":"Bearer sk-live-123"}]},"echo":"sk-live-123"}"#;
        let out = r().call_body(body, &["sk-live-123"]).unwrap();
        assert!(!contains(&out, b"sk-live-123"));
    }
}
