//! How a made call ends: an [`Outcome`], chosen per call (`Prefer: outcome=busy`) or by a rule on
//! the number called ([`OutcomeRule`], e.g. `ends-with:3=failed`), else `completed`.

use std::fmt;
use std::str::FromStr;

use crate::tools::generate::Kind;

/// The outcomes a made call can have, each a final status with a fitting end reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `completed`, a conversation (`agent_ended_call` or `human_ended_call`, drawn from the seed).
    Completed,
    /// `busy`, `human_ended_call`, no transcript.
    Busy,
    /// `no-answer`, `timeout`, rang out.
    NoAnswer,
    /// `failed`, `error`, with an `error_message`.
    Failed,
    /// `completed`, `voicemail`: a voicemail greeting, the agent hung up.
    Voicemail,
    /// `completed`, `voicemail_message_left`: the agent left a message.
    VoicemailLeft,
}

impl Outcome {
    /// Every value, as flags and `Prefer` write them.
    pub const VALUES: [&'static str; 6] = [
        "completed",
        "busy",
        "no-answer",
        "failed",
        "voicemail",
        "voicemail-left",
    ];

    /// The factory's kind for this outcome; `seed` picks who ended a completed conversation.
    pub fn kind(self, seed: u64) -> Kind {
        match self {
            Outcome::Completed if seed % 2 == 0 => Kind::AgentEnded,
            Outcome::Completed => Kind::HumanEnded,
            Outcome::Busy => Kind::Busy,
            Outcome::NoAnswer => Kind::NoAnswer,
            Outcome::Failed => Kind::Failed,
            Outcome::Voicemail => Kind::Voicemail,
            Outcome::VoicemailLeft => Kind::VoicemailLeft,
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "completed" => Outcome::Completed,
            "busy" => Outcome::Busy,
            "no-answer" => Outcome::NoAnswer,
            "failed" => Outcome::Failed,
            "voicemail" => Outcome::Voicemail,
            "voicemail-left" => Outcome::VoicemailLeft,
            other => {
                return Err(format!(
                    "outcome {other:?} is not one of: {}",
                    Outcome::VALUES.join(", ")
                ))
            }
        })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Completed => "completed",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no-answer",
            Outcome::Failed => "failed",
            Outcome::Voicemail => "voicemail",
            Outcome::VoicemailLeft => "voicemail-left",
        })
    }
}

/// `ends-with:<digits>=<outcome>`: a call to a number ending in `<digits>` has that outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRule {
    /// The end of the number.
    pub suffix: String,
    /// What the call does.
    pub outcome: Outcome,
}

impl OutcomeRule {
    /// The default rules: numbers ending in 1 are busy, 2 ring out, 3 fail, 4 reach a voicemail;
    /// every other number is answered (the docs' example `+12345678987` included).
    pub fn defaults() -> Vec<OutcomeRule> {
        [
            ("1", Outcome::Busy),
            ("2", Outcome::NoAnswer),
            ("3", Outcome::Failed),
            ("4", Outcome::Voicemail),
        ]
        .into_iter()
        .map(|(s, outcome)| OutcomeRule {
            suffix: s.to_owned(),
            outcome,
        })
        .collect()
    }

    /// The outcome of a call to `phone` under `rules`: the first rule that matches, else completed.
    pub fn pick(rules: &[OutcomeRule], phone: &str) -> Outcome {
        rules
            .iter()
            .find(|r| phone.trim_end().ends_with(&r.suffix))
            .map_or(Outcome::Completed, |r| r.outcome)
    }
}

impl FromStr for OutcomeRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("{s:?}: expected ends-with:<digits>=<outcome>, e.g. ends-with:3=failed");
        let (cond, outcome) = s.split_once('=').ok_or_else(bad)?;
        let suffix = cond.trim().strip_prefix("ends-with:").ok_or_else(bad)?;
        if suffix.is_empty() || !suffix.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(OutcomeRule {
            suffix: suffix.to_owned(),
            outcome: outcome.parse()?,
        })
    }
}

impl fmt::Display for OutcomeRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ends-with:{}={}", self.suffix, self.outcome)
    }
}

/// What one `POST /v2/calls` asks for itself, in its `Prefer` header (next to the fault keys, which
/// `Prefer` also carries): `outcome=<outcome>` and `call-duration=<ms>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PerCall {
    /// The outcome, instead of the rules'.
    pub outcome: Option<Outcome>,
    /// Time from made to final, instead of the configured one.
    pub duration_ms: Option<u64>,
}

/// Longest lifecycle a call may ask for (one hour).
pub const MAX_DURATION_MS: u64 = 3_600_000;

impl PerCall {
    /// Reads the made-call keys of `Prefer` values; other keys are left to the fault parser.
    pub fn from_prefer<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<PerCall, String> {
        let mut out = PerCall::default();
        for text in values {
            for item in text.split([',', ';']).map(str::trim) {
                let Some((k, v)) = item.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "outcome" => out.outcome = Some(v.parse()?),
                    "call-duration" => {
                        let ms = v
                            .parse::<u64>()
                            .ok()
                            .filter(|ms| *ms <= MAX_DURATION_MS)
                            .ok_or_else(|| {
                                format!("call-duration={v}: expected milliseconds, 0 to {MAX_DURATION_MS}")
                            })?;
                        out.duration_ms = Some(ms);
                    }
                    _ => {}
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_match_and_print() {
        let r: OutcomeRule = "ends-with:42=voicemail-left".parse().unwrap();
        assert_eq!(r.to_string(), "ends-with:42=voicemail-left");
        assert!("ends-with:x=busy".parse::<OutcomeRule>().is_err());
        assert!("ends-with:1=dead".parse::<OutcomeRule>().is_err());
        let d = OutcomeRule::defaults();
        assert_eq!(OutcomeRule::pick(&d, "+15555550101"), Outcome::Busy);
        assert_eq!(OutcomeRule::pick(&d, "+15555550103"), Outcome::Failed);
        assert_eq!(OutcomeRule::pick(&d, "+12345678987"), Outcome::Completed);
        assert_eq!(OutcomeRule::pick(&[], "+15555550101"), Outcome::Completed);
    }

    #[test]
    fn prefer_keys_are_read_and_others_left_alone() {
        let p = PerCall::from_prefer(["code=429", "outcome=busy, call-duration=250"]).unwrap();
        assert_eq!(p.outcome, Some(Outcome::Busy));
        assert_eq!(p.duration_ms, Some(250));
        assert!(PerCall::from_prefer(["outcome=nope"]).is_err());
        assert!(PerCall::from_prefer(["call-duration=-1"]).is_err());
    }
}
