//! What a call is: its [`Kind`] (the outcome everything else follows from), how often each kind
//! is drawn, and the coverage set.

use rand::rngs::ChaCha8Rng;
use rand::RngExt;
use synthflow::model::{CallStatus, EndCallReason};

/// The outcome of a call; everything else about it follows from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A conversation the agent closed.
    AgentEnded,
    /// A conversation the person closed.
    HumanEnded,
    /// A conversation ended by a custom end-call rule (e.g. a do-not-call request).
    CustomEnd,
    /// The person went silent and the agent gave up.
    SilenceTimeout,
    /// The person answered and hung up at once.
    PickUpCutOff,
    /// A voicemail greeting; the agent hung up.
    Voicemail,
    /// The voicemail system cut the agent's message off.
    VoicemailCutOff,
    /// The agent left a whole message.
    VoicemailLeft,
    /// Rang out.
    NoAnswer,
    /// The line was busy / the call was rejected.
    Busy,
    /// The carrier failed the call.
    Failed,
    /// The carrier refused the destination (SIP 403).
    Forbidden,
    /// Canceled through the API before anyone answered.
    Canceled,
    /// Scheduled, not started.
    Pending,
    /// Ringing now.
    Ringing,
    /// Under way.
    InProgress,
}

impl Kind {
    /// Status and end-call reason. The document has no "not ended yet" reason, so live calls carry
    /// `agent_ended_call` as a placeholder (as the hand-made fixtures do).
    pub(super) fn status_and_reason(self) -> (CallStatus, EndCallReason) {
        use CallStatus as S;
        use EndCallReason as R;
        match self {
            Kind::AgentEnded => (S::Completed, R::AgentEndedCall),
            Kind::HumanEnded => (S::Completed, R::HumanEndedCall),
            Kind::CustomEnd => (S::Completed, R::CustomEndCall),
            Kind::SilenceTimeout => (S::Completed, R::Timeout),
            Kind::PickUpCutOff => (S::Completed, R::HumanPickUpCutOff),
            Kind::Voicemail => (S::Completed, R::Voicemail),
            Kind::VoicemailCutOff => (S::Completed, R::VoicemailCutOff),
            Kind::VoicemailLeft => (S::Completed, R::VoicemailMessageLeft),
            Kind::NoAnswer => (S::NoAnswer, R::Timeout),
            Kind::Busy => (S::Busy, R::HumanEndedCall),
            Kind::Failed => (S::Failed, R::Error),
            Kind::Forbidden => (S::Failed, R::Error),
            Kind::Canceled => (S::Canceled, R::AgentEndedCall),
            Kind::Pending => (S::Pending, R::AgentEndedCall),
            Kind::Ringing => (S::Ringing, R::AgentEndedCall),
            Kind::InProgress => (S::InProgress, R::AgentEndedCall),
        }
    }

    /// Who hung up, as a party: `Some(true)` the agent, `Some(false)` the person, `None` nobody
    /// (the carrier or not yet).
    pub(super) fn ended_by_agent(self) -> Option<bool> {
        match self {
            Kind::AgentEnded
            | Kind::CustomEnd
            | Kind::Voicemail
            | Kind::VoicemailLeft
            | Kind::Canceled => Some(true),
            Kind::HumanEnded | Kind::PickUpCutOff | Kind::VoicemailCutOff | Kind::Busy => {
                Some(false)
            }
            _ => None,
        }
    }

    /// Whether the person can be the one who called in.
    pub(super) fn can_be_inbound(self) -> bool {
        matches!(
            self,
            Kind::AgentEnded
                | Kind::HumanEnded
                | Kind::CustomEnd
                | Kind::SilenceTimeout
                | Kind::PickUpCutOff
                | Kind::InProgress
        )
    }

    /// A conversation took place (completed, with collected variables).
    pub(super) fn is_conversation(self) -> bool {
        matches!(
            self,
            Kind::AgentEnded | Kind::HumanEnded | Kind::CustomEnd | Kind::SilenceTimeout
        )
    }
}

/// Share of each kind among random calls (per mille), roughly an outbound campaign's mix.
const KIND_WEIGHTS: &[(Kind, u32)] = &[
    (Kind::AgentEnded, 170),
    (Kind::HumanEnded, 200),
    (Kind::CustomEnd, 40),
    (Kind::SilenceTimeout, 40),
    (Kind::PickUpCutOff, 60),
    (Kind::Voicemail, 60),
    (Kind::VoicemailCutOff, 30),
    (Kind::VoicemailLeft, 60),
    (Kind::NoAnswer, 140),
    (Kind::Busy, 60),
    (Kind::Failed, 30),
    (Kind::Forbidden, 10),
    (Kind::Canceled, 20),
    (Kind::Pending, 30),
    (Kind::Ringing, 10),
    (Kind::InProgress, 40),
];

/// What a coverage call must carry beyond its kind.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Extras {
    pub(super) inbound: bool,
    pub(super) long_transcript: bool,
    pub(super) non_ascii: bool,
    pub(super) sip_headers: bool,
    pub(super) nested: bool,
    pub(super) empty_objects: bool,
}

/// The coverage set, one call per entry.
///
/// Why 13 is the smallest: five end reasons (`human_pick_up_cut_off`, the three voicemail ones,
/// `custom_end_call`) only end a `completed` call; the seven other statuses need a call each; and
/// the disconnect reasons `error` and `forbidden` both belong to a `failed` call, so `failed` needs
/// two. 5 + 7 + 1 = 13. Every other item (null and set of each nullable field, the edge cases of
/// `synthflow::contract::coverage`) rides on these 13.
pub fn coverage_kinds() -> Vec<Kind> {
    COVERAGE.iter().map(|(k, _)| *k).collect()
}

pub(super) const COVERAGE: &[(Kind, Extras)] = &[
    (
        Kind::PickUpCutOff,
        Extras {
            inbound: false,
            long_transcript: false,
            non_ascii: false,
            sip_headers: false,
            nested: false,
            empty_objects: true,
        },
    ),
    (Kind::Voicemail, NO_EXTRAS),
    (Kind::VoicemailCutOff, NO_EXTRAS),
    (
        Kind::VoicemailLeft,
        Extras {
            non_ascii: true,
            ..NO_EXTRAS
        },
    ),
    (
        Kind::CustomEnd,
        Extras {
            long_transcript: true,
            nested: true,
            ..NO_EXTRAS
        },
    ),
    (Kind::NoAnswer, NO_EXTRAS),
    (Kind::Busy, NO_EXTRAS),
    (Kind::Failed, NO_EXTRAS),
    (Kind::Forbidden, NO_EXTRAS),
    (Kind::Canceled, NO_EXTRAS),
    (Kind::Pending, NO_EXTRAS),
    (Kind::Ringing, NO_EXTRAS),
    (
        Kind::InProgress,
        Extras {
            inbound: true,
            sip_headers: true,
            ..NO_EXTRAS
        },
    ),
];

pub(super) const NO_EXTRAS: Extras = Extras {
    inbound: false,
    long_transcript: false,
    non_ascii: false,
    sip_headers: false,
    nested: false,
    empty_objects: false,
};

pub(super) fn random_kind(rng: &mut ChaCha8Rng) -> Kind {
    let total: u32 = KIND_WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total);
    for (k, w) in KIND_WEIGHTS {
        if r < *w {
            return *k;
        }
        r -= w;
    }
    Kind::HumanEnded
}
