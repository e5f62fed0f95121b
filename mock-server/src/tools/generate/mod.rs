//! The fixture factory: realistic, self-consistent call records, reproducible from a seed.
//!
//! Every record is a pure function of `(seed, kind of set, index)`: its random stream is a ChaCha8
//! generator keyed by those three numbers, so the same seed and count give byte-identical files on
//! any machine, calls can be generated in parallel, and `--count 7` yields the same seven random
//! calls whether or not `--coverage` is also asked for. Names and companies come from the `fake`
//! crate, drawn from that stream.
//!
//! A call is built from its [`Kind`] (which outcome: a completed conversation, a voicemail, a busy
//! line...), and everything else follows from it, so that the rules of a real call hold:
//! - the hang-up side agrees with the disconnect reason (`caller_hangup` ⇒ `caller`), and with who
//!   ended the call (the agent is the caller of an outbound call and the callee of an inbound one);
//! - `start_time` (unix ms) is the instant of `telephony_start`; `telephony_end − telephony_start`
//!   is `telephony_duration` (ms); `duration` is `telephony_duration` rounded to seconds;
//! - a `pending`/`ringing`/`in-progress` call has no `telephony_end` key, zero durations and no
//!   recording; `no-answer`, `busy`, `canceled` and `failed` calls have no transcript;
//! - a voicemail call reads like one; an `error` call has an `error_message`; the custom end reason
//!   is set exactly when `end_call_reason` is `custom_end_call`;
//! - `collected_variables` is keyed by the call's own `model_id`; a `null` value is `collected: false`.
//!
//! Every generated body passes [`synthflow::contract::check_call_body`]; the tests check it.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fake::faker::company::raw::CompanyName;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::{DE_DE, EN, FR_FR, JA_JP, PT_BR};
use fake::Fake;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Map, Value};
use synthflow::contract::coverage::Coverage;
use synthflow::model::{
    CallStatus, CallsPage, CollectedVariable, CollectedVariables, EndCallReason, EnvelopeStatus,
    GetCallResponse, Pagination, TelephonyDisconnectReason, TelephonyHangup, TypeOfCall,
};
use synthflow::Call;

/// What to generate.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenerateOptions {
    /// The seed: same seed, same calls.
    pub seed: u64,
    /// How many random calls (after the coverage set, when asked for).
    pub count: usize,
    /// Start with the smallest set that covers every coverage item ([`coverage_kinds`]).
    pub coverage: bool,
}

/// One generated fixture: the call id and the exact body to write.
#[derive(Debug, Clone)]
pub struct GeneratedFile {
    /// The call id (the file stem).
    pub id: String,
    /// The compact 200 body, no trailing newline.
    pub body: Vec<u8>,
    /// The record, for tables and coverage.
    pub call: Call,
    /// Where it comes from: `coverage #i` or `random #i`.
    pub origin: String,
}

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
    fn status_and_reason(self) -> (CallStatus, EndCallReason) {
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
    fn ended_by_agent(self) -> Option<bool> {
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
    fn can_be_inbound(self) -> bool {
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
    fn is_conversation(self) -> bool {
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
struct Extras {
    inbound: bool,
    long_transcript: bool,
    non_ascii: bool,
    sip_headers: bool,
    nested: bool,
    empty_objects: bool,
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

const COVERAGE: &[(Kind, Extras)] = &[
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

const NO_EXTRAS: Extras = Extras {
    inbound: false,
    long_transcript: false,
    non_ascii: false,
    sip_headers: false,
    nested: false,
    empty_objects: false,
};

/// Which stream a call's randomness comes from.
#[derive(Debug, Clone, Copy)]
enum Stream {
    Agents = 0,
    Random = 1,
    Coverage = 2,
}

fn rng_for(seed: u64, stream: Stream, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&index.to_le_bytes());
    key[16] = stream as u8;
    key[17..31].copy_from_slice(b"synthflow-mock");
    ChaCha8Rng::from_seed(key)
}

/// Picks from a slice with a `u32` draw, the same on every platform.
fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len() as u32) as usize]
}

/// What an agent is for; it decides the script, the variables and the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    AppointmentReminder,
    OrderConfirmation,
    PaymentReminder,
    PropertyInquiry,
    SupportLine,
}

impl Purpose {
    fn inbound(self) -> bool {
        matches!(self, Purpose::PropertyInquiry | Purpose::SupportLine)
    }
}

/// An agent (a `model_id`) of the generated workspace.
#[derive(Debug, Clone)]
struct Agent {
    model_id: String,
    purpose: Purpose,
    company: String,
    agent_name: String,
    phone: String,
    timezone: &'static str,
    campaign_type: &'static str,
}

/// US area codes with their zone, numbers in the fictional `555-01xx` block; UK numbers in Ofcom's
/// drama range `07700 900xxx`.
const REGIONS: &[(&str, &str)] = &[
    ("415", "America/Los_Angeles"),
    ("206", "America/Los_Angeles"),
    ("212", "America/New_York"),
    ("617", "America/New_York"),
    ("312", "America/Chicago"),
    ("512", "America/Chicago"),
    ("303", "America/Denver"),
    ("602", "America/Phoenix"),
    ("808", "Pacific/Honolulu"),
    ("907", "America/Anchorage"),
    ("44", "Europe/London"),
];

fn phone_number(rng: &mut ChaCha8Rng) -> (String, &'static str) {
    let (code, tz) = *pick(rng, REGIONS);
    let number = if code == "44" {
        format!("+447700900{:03}", rng.random_range(0..1000u32))
    } else {
        format!("+1{code}55501{:02}", rng.random_range(0..100u32))
    };
    (number, tz)
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

fn agents(seed: u64) -> Vec<Agent> {
    let mut rng = rng_for(seed, Stream::Agents, 0);
    [
        Purpose::AppointmentReminder,
        Purpose::OrderConfirmation,
        Purpose::PaymentReminder,
        Purpose::PropertyInquiry,
        Purpose::SupportLine,
    ]
    .into_iter()
    .map(|purpose| {
        let (phone, timezone) = phone_number(&mut rng);
        Agent {
            model_id: uuid(&mut rng),
            purpose,
            company: CompanyName(EN).fake_with_rng(&mut rng),
            agent_name: FirstName(EN).fake_with_rng(&mut rng),
            phone,
            timezone,
            campaign_type: if purpose.inbound() {
                "inbound"
            } else if rng.random_bool(0.7) {
                "outbound_campaign"
            } else {
                "api"
            },
        }
    })
    .collect()
}

/// The person on the other end.
struct Person {
    first: String,
    full: String,
    phone: String,
    timezone: &'static str,
}

fn person(rng: &mut ChaCha8Rng, non_ascii: bool) -> Person {
    let (phone, timezone) = phone_number(rng);
    let locale = if non_ascii {
        *pick(rng, &[1u8, 4])
    } else {
        let r = rng.random_range(0..100u32);
        match r {
            0..=84 => 0,
            85..=89 => 1,
            90..=93 => 2,
            94..=96 => 3,
            _ => 4,
        }
    };
    let (first, last): (String, String) = match locale {
        1 => (
            FirstName(DE_DE).fake_with_rng(rng),
            LastName(DE_DE).fake_with_rng(rng),
        ),
        2 => (
            FirstName(FR_FR).fake_with_rng(rng),
            LastName(FR_FR).fake_with_rng(rng),
        ),
        3 => (
            FirstName(PT_BR).fake_with_rng(rng),
            LastName(PT_BR).fake_with_rng(rng),
        ),
        4 => (
            FirstName(JA_JP).fake_with_rng(rng),
            LastName(JA_JP).fake_with_rng(rng),
        ),
        _ => (
            FirstName(EN).fake_with_rng(rng),
            LastName(EN).fake_with_rng(rng),
        ),
    };
    let mut full = if locale == 4 {
        format!("{last} {first}")
    } else {
        format!("{first} {last}")
    };
    if non_ascii && full.is_ascii() {
        // The DE list has plain names too; the coverage item needs a non-ASCII one.
        full = format!("{first} Müller");
    }
    Person {
        first,
        full,
        phone,
        timezone,
    }
}

/// Days and times an appointment can be at.
const SLOTS: &[&str] = &[
    "Monday at 9:30 AM",
    "Tuesday at 3:00 PM",
    "Wednesday at 11:15 AM",
    "Thursday at 2:45 PM",
    "Friday at 10:00 AM",
];

const STREETS: &[&str] = &["Alder Street", "Birch Lane", "Cedar Avenue", "Harbor Road"];

const ITEMS: &[(&str, u32)] = &[
    ("nitrile exam gloves, size M", 1840),
    ("sterile gauze sponges 4x4", 1410),
    ("alcohol prep pads, box of 200", 625),
    ("paper exam table roll, 21 inch", 2260),
    ("hand sanitizer, 1 liter pump", 1290),
    ("disposable face masks, box of 50", 995),
];

/// The facts a script talks about, drawn once per call.
struct Facts {
    slot: &'static str,
    street: &'static str,
    order: String,
    amount_cents: u32,
    unit: String,
    ticket: String,
}

fn money(cents: u32) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// A transcript: (is the agent speaking, line).
type Turns = Vec<(bool, String)>;

/// Appends `line`, keeping turns alternating: when the same side would speak twice in a row, the
/// other side says a short acknowledgement in between, as people do.
fn say(t: &mut Turns, agent: bool, line: impl Into<String>) {
    if t.last().is_some_and(|(last, _)| *last == agent) {
        t.push((!agent, if agent { "Okay." } else { "I see." }.to_owned()));
    }
    t.push((agent, line.into()));
}

fn extend(t: &mut Turns, more: Turns) {
    for (agent, line) in more {
        say(t, agent, line);
    }
}

fn opening(a: &Agent, p: &Person, f: &Facts) -> Turns {
    let (agent, company, first) = (&a.agent_name, &a.company, &p.first);
    let b = |s: String| (true, s);
    let h = |s: &str| (false, s.to_owned());
    match a.purpose {
        Purpose::AppointmentReminder => vec![
            b(format!("Hi {first}, this is {agent} from {company}. I'm calling to confirm your appointment on {}. Does that still work for you?", f.slot)),
            h("Yes, that should be fine."),
        ],
        Purpose::OrderConfirmation => vec![
            b(format!("Hi {first}, this is {agent} from {company}, calling about your order {} before it ships. Do you have a minute?", f.order)),
            h("Sure, go ahead."),
        ],
        Purpose::PaymentReminder => vec![
            b(format!("Hi, this is {agent} from {company}. Am I speaking with {}?", p.full)),
            h("Yes, speaking."),
            b(format!("Thanks, {first}. I'm calling about a past-due balance of {}. Would you like to set up a payment today?", money(f.amount_cents))),
        ],
        Purpose::PropertyInquiry => vec![
            b(format!("Thanks for calling {company}. This is {agent}, how can I help you today?")),
            (false, format!("Hi, I'd like to schedule a viewing for the two-bedroom on {}.", f.street)),
            b("Happy to help. What day works best for you?".to_owned()),
        ],
        Purpose::SupportLine => vec![
            b(format!("Thanks for calling {company} support, this is {agent}. What can I do for you?")),
            (false, format!("Hi, I have a problem with the heating in unit {}.", f.unit)),
            b("I'm sorry to hear that. Can you describe what's happening?".to_owned()),
        ],
    }
}

fn middle(a: &Agent, f: &Facts) -> Turns {
    let b = |s: String| (true, s);
    let h = |s: String| (false, s);
    match a.purpose {
        Purpose::AppointmentReminder => vec![
            b("Great. Please arrive ten minutes early and bring your insurance card.".into()),
            h("Will do.".into()),
        ],
        Purpose::OrderConfirmation => vec![
            b(format!(
                "The order comes to {} and ships tomorrow. Shall I confirm it?",
                money(f.amount_cents)
            )),
            h("Yes, please confirm it.".into()),
        ],
        Purpose::PaymentReminder => vec![
            h("I can pay half now and the rest next month.".into()),
            b("That works. I'll set up a two-part payment plan for you.".into()),
        ],
        Purpose::PropertyInquiry => vec![
            h(format!("{} would be ideal.", f.slot)),
            b(format!(
                "{} is available. I've booked the viewing for you.",
                f.slot
            )),
        ],
        Purpose::SupportLine => vec![
            h("The radiator has been cold since yesterday.".into()),
            b(format!(
                "I've opened ticket {} and a technician will call you within a day.",
                f.ticket
            )),
        ],
    }
}

/// The line-by-line walk through a big order that makes a very long transcript.
fn long_walkthrough(rng: &mut ChaCha8Rng, f: &Facts) -> Turns {
    let mut out = Vec::new();
    let mut bytes = 0;
    let mut line = 1;
    while bytes < synthflow::contract::coverage::LONG_TRANSCRIPT_BYTES + 1000 {
        let (item, price) = *pick(rng, ITEMS);
        let qty = rng.random_range(1..13u32);
        let bot = format!(
            "Line {line} of order {}: {item}, quantity {qty} at {} each, so {} for the line. Is that still right?",
            f.order,
            money(price),
            money(price * qty)
        );
        let human = if rng.random_bool(0.8) {
            format!("Yes, {qty} is right for line {line}.")
        } else {
            format!(
                "Make line {line} {} instead, we ran short last quarter.",
                qty + 2
            )
        };
        bytes += bot.len() + human.len() + 16;
        out.push((true, bot));
        out.push((false, human));
        line += 1;
    }
    out
}

const CUSTOM_ENDS: &[(&str, &str, &str)] = &[
    (
        "Please take me off your call list and don't call this number again.",
        "Understood. I've added this number to our do-not-call list. Have a good day.",
        "Customer asked to be placed on the do-not-call list",
    ),
    (
        "Can I talk to a real person, please?",
        "Of course. I'll have a member of our team call you back today.",
        "Caller asked for a human agent",
    ),
    (
        "I think you have the wrong number, I'm not the person you're looking for.",
        "My apologies for the confusion. I'll update our records. Goodbye.",
        "Wrong number",
    ),
];

const ERRORS: &[&str] = &[
    "SIP 503 Service Unavailable: carrier trunk rejected the INVITE",
    "SIP 500 Internal Server Error: media gateway did not answer",
    "Media stream failed: no RTP packets received for 10 seconds",
    "LLM request timed out after 3 retries",
];

const FORBIDDEN: &str =
    "SIP 403 Forbidden: outbound calling to this destination is not permitted for the workspace's phone number";

/// The transcript of a call of `kind`, and the custom end reason when it has one.
fn transcript(
    rng: &mut ChaCha8Rng,
    kind: Kind,
    a: &Agent,
    p: &Person,
    f: &Facts,
    long: bool,
) -> (Turns, Option<&'static str>) {
    let closing = |turns: &mut Turns, agent_ends: bool| {
        if agent_ends {
            say(turns, false, "Great, thanks.");
            say(
                turns,
                true,
                format!("You're welcome, {}. Have a great day, goodbye!", p.first),
            );
        } else {
            say(turns, true, "Is there anything else I can help you with?");
            say(turns, false, "No, that's all. Thanks, bye!");
        }
    };
    let greeting = format!(
        "Hi, you've reached {}. I can't take your call right now, please leave a message after the tone.",
        p.full
    );
    let message = format!(
        "Hi {}, this is {} from {}. Please call us back at your convenience about {}. Thank you!",
        p.first,
        a.agent_name,
        a.company,
        match a.purpose {
            Purpose::AppointmentReminder => format!("your appointment on {}", f.slot),
            Purpose::OrderConfirmation => format!("your order {}", f.order),
            _ => "your account".to_owned(),
        }
    );
    let mut t: Turns = Vec::new();
    let mut custom = None;
    match kind {
        Kind::AgentEnded | Kind::HumanEnded => {
            extend(&mut t, opening(a, p, f));
            if long {
                extend(&mut t, long_walkthrough(rng, f));
            }
            extend(&mut t, middle(a, f));
            closing(&mut t, kind == Kind::AgentEnded);
        }
        Kind::CustomEnd => {
            extend(&mut t, opening(a, p, f));
            if long {
                extend(&mut t, long_walkthrough(rng, f));
            }
            let (human, bot, reason) = *pick(rng, CUSTOM_ENDS);
            say(&mut t, false, human);
            say(&mut t, true, bot);
            custom = Some(reason);
        }
        Kind::SilenceTimeout => {
            extend(&mut t, opening(a, p, f));
            say(&mut t, false, "Hang on, let me check something.");
            say(
                &mut t,
                true,
                "Are you still there? I haven't heard anything for a while, so I'll end the call now. Please call back anytime.",
            );
        }
        Kind::PickUpCutOff => {
            extend(&mut t, opening(a, p, f));
            t.truncate(1);
            let reply = if a.purpose.inbound() {
                "Sorry, wrong number."
            } else {
                "Not interested."
            };
            say(&mut t, false, reply);
        }
        Kind::Voicemail => t.push((false, greeting)),
        Kind::VoicemailCutOff => {
            t.push((false, greeting));
            let cut = message.len() * 2 / 3;
            let cut = (0..=cut)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            t.push((true, message[..cut].trim_end().to_owned()));
        }
        Kind::VoicemailLeft => {
            t.push((false, greeting));
            t.push((true, message));
        }
        Kind::InProgress => {
            extend(&mut t, opening(a, p, f));
            let keep = rng.random_range(1..=t.len() as u32) as usize;
            t.truncate(keep);
        }
        Kind::NoAnswer
        | Kind::Busy
        | Kind::Failed
        | Kind::Forbidden
        | Kind::Canceled
        | Kind::Pending
        | Kind::Ringing => {}
    }
    (t, custom)
}

fn render(turns: &Turns) -> String {
    let mut s = String::new();
    for (i, (agent, line)) in turns.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push_str(if *agent { "bot: " } else { "human: " });
        s.push_str(line);
    }
    s
}

/// Milliseconds a transcript takes to speak: ~65 ms a character plus a pause a turn.
fn speaking_ms(rng: &mut ChaCha8Rng, turns: &Turns) -> i64 {
    turns
        .iter()
        .map(|(_, l)| l.chars().count() as i64 * 65 + 700)
        .sum::<i64>()
        + rng.random_range(0..2000i64)
}

fn var(value: Option<Value>) -> CollectedVariable {
    CollectedVariable {
        collected: Some(value.is_some()),
        value: Some(value),
        extra: Map::new(),
    }
}

/// Variables the agent collects, the second one still `null` when `partial`.
fn collected(a: &Agent, f: &Facts, partial: bool, rng: &mut ChaCha8Rng) -> CollectedVariables {
    let (first, second): ((&str, Value), (&str, Value)) = match a.purpose {
        Purpose::AppointmentReminder => (
            ("appointment_confirmed", json!(true)),
            ("reschedule_to", json!(f.slot)),
        ),
        Purpose::OrderConfirmation => (
            ("order_confirmed", json!(true)),
            ("delivery_notes", json!("Leave at the front desk")),
        ),
        Purpose::PaymentReminder => (
            ("wants_payment_plan", json!(true)),
            ("payment_amount", json!(f.amount_cents as f64 / 200.0)),
        ),
        Purpose::PropertyInquiry => (
            ("listing", json!(format!("{}, two-bedroom", f.street))),
            ("viewing_date", json!(f.slot)),
        ),
        Purpose::SupportLine => (("unit", json!(f.unit)), ("ticket_id", json!(f.ticket))),
    };
    let second_set = !partial && rng.random_bool(0.6);
    let mut vars = std::collections::BTreeMap::new();
    vars.insert(first.0.to_owned(), var(Some(first.1)));
    vars.insert(
        second.0.to_owned(),
        var(if second_set { Some(second.1) } else { None }),
    );
    let mut out = CollectedVariables::new();
    out.insert(a.model_id.clone(), vars);
    out
}

fn prompt_variables(a: &Agent, p: &Person, f: &Facts, nested: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("customer_name".into(), json!(p.full));
    match a.purpose {
        Purpose::AppointmentReminder => {
            m.insert("appointment_time".into(), json!(f.slot));
        }
        Purpose::OrderConfirmation => {
            m.insert("order_id".into(), json!(f.order));
        }
        Purpose::PaymentReminder => {
            m.insert("balance".into(), json!(money(f.amount_cents)));
        }
        Purpose::PropertyInquiry | Purpose::SupportLine => {}
    }
    if nested {
        m.insert(
            "account".into(),
            json!({"id": f.ticket, "tags": ["priority", "returning"], "contact": {"phone": p.phone, "timezone": p.timezone}}),
        );
    }
    m
}

fn executed_actions(kind: Kind, a: &Agent, p: &Person, custom: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    if kind == Kind::CustomEnd {
        m.insert(
            "end_call_webhook".into(),
            json!({"type": "webhook", "executed": true,
                   "payload": {"phone": p.phone, "lists": ["internal_dnc"], "reason": custom,
                               "source": {"agent": a.model_id, "company": a.company}},
                   "response": {"status_code": 204, "body": null}}),
        );
    } else if kind.is_conversation() {
        m.insert(
            "crm_update".into(),
            json!({"type": "webhook", "executed": true,
                   "payload": {"phone": p.phone, "fields": ["last_call", "outcome"]},
                   "response": {"status_code": 200, "body": {"updated": true}}}),
        );
    }
    m
}

fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

/// 2025-06-01T00:00:00Z and a year later: the window start times fall in.
const WINDOW_START_MS: i64 = 1_748_736_000_000;
const WINDOW_MS: i64 = 365 * 24 * 3600 * 1000;

/// Builds a call of `kind`. A coverage call (`Some(extras)`) has exactly the extras asked for; a
/// random one (`None`) draws them.
fn build_call(rng: &mut ChaCha8Rng, agents: &[Agent], kind: Kind, fixed: Option<Extras>) -> Call {
    let extras = fixed.unwrap_or(NO_EXTRAS);
    let inbound = match fixed {
        Some(x) => x.inbound,
        None => kind.can_be_inbound() && rng.random_bool(0.3),
    };
    // A very long transcript is an order walked through line by line.
    let pool: Vec<&Agent> = agents
        .iter()
        .filter(|a| a.purpose.inbound() == inbound)
        .filter(|a| !extras.long_transcript || a.purpose == Purpose::OrderConfirmation)
        .collect();
    let a = *pick(rng, &pool);
    let call_id = uuid(rng);
    let p = person(rng, extras.non_ascii);
    let f = Facts {
        slot: pick::<&str>(rng, SLOTS),
        street: pick::<&str>(rng, STREETS),
        order: format!("ORD-{}", rng.random_range(10_000..100_000u32)),
        amount_cents: rng.random_range(2_000..90_000u32),
        unit: format!(
            "{}{}",
            rng.random_range(1..20u32),
            *pick(rng, &["A", "B", "C"])
        ),
        ticket: format!("TCK-{}", rng.random_range(100_000..1_000_000u32)),
    };
    let long = extras.long_transcript
        || (fixed.is_none()
            && kind.is_conversation()
            && a.purpose == Purpose::OrderConfirmation
            && rng.random_bool(0.01));
    let (turns, custom) = transcript(rng, kind, a, &p, &f, long);
    let (status, reason) = kind.status_and_reason();

    // Times: start, ringing, talking.
    let start_ms = WINDOW_START_MS + rng.random_range(0..WINDOW_MS);
    let ringing_ms: i64 = match kind {
        Kind::NoAnswer => 30_000,
        Kind::Busy | Kind::Failed | Kind::Forbidden | Kind::Pending | Kind::Ringing => 0,
        Kind::Voicemail | Kind::VoicemailCutOff | Kind::VoicemailLeft => {
            rng.random_range(15_000..26_000)
        }
        _ if inbound => rng.random_range(500..3_000),
        _ => rng.random_range(2_000..12_000),
    };
    let talk_ms: Option<i64> = match kind {
        Kind::Pending | Kind::Ringing | Kind::InProgress => None,
        Kind::NoAnswer | Kind::Busy | Kind::Forbidden | Kind::Canceled => Some(0),
        Kind::Failed => Some(rng.random_range(100..900)),
        _ => Some(speaking_ms(rng, &turns)),
    };
    let telephony_duration = talk_ms.unwrap_or(0);

    let agent_party = if inbound {
        TelephonyHangup::Callee
    } else {
        TelephonyHangup::Caller
    };
    let person_party = if inbound {
        TelephonyHangup::Caller
    } else {
        TelephonyHangup::Callee
    };
    let hangup_reason = |party: &TelephonyHangup| match party {
        TelephonyHangup::Caller => TelephonyDisconnectReason::CallerHangup,
        _ => TelephonyDisconnectReason::CalleeHangup,
    };
    let (hangup, disconnect) = match (kind, kind.ended_by_agent()) {
        (Kind::Failed, _) => (agent_party, TelephonyDisconnectReason::Error),
        (Kind::Forbidden, _) => (agent_party, TelephonyDisconnectReason::Forbidden),
        (_, Some(true)) => (agent_party.clone(), hangup_reason(&agent_party)),
        (_, Some(false)) => (person_party.clone(), hangup_reason(&person_party)),
        // The agent gave up (timeout, no answer) or nothing has ended yet.
        (_, None) => (agent_party, TelephonyDisconnectReason::UnknownReason),
    };

    let (from, to) = if inbound {
        (p.phone.clone(), a.phone.clone())
    } else {
        (a.phone.clone(), p.phone.clone())
    };
    let recording = matches!(status, CallStatus::Completed)
        .then(|| format!("https://recordings.synthflow.ai/{call_id}.mp3"));
    let collected_variables = match kind {
        _ if kind.is_conversation() => Some(collected(a, &f, false, rng)),
        Kind::InProgress => Some(collected(a, &f, true, rng)),
        _ => None,
    };
    let error_message = match kind {
        Kind::Failed => (*pick(rng, ERRORS)).to_owned(),
        Kind::Forbidden => FORBIDDEN.to_owned(),
        _ => String::new(),
    };
    let prompt = if extras.empty_objects || (fixed.is_none() && inbound && rng.random_bool(0.5)) {
        Map::new()
    } else {
        prompt_variables(a, &p, &f, extras.nested)
    };
    let actions = if extras.empty_objects {
        Map::new()
    } else {
        executed_actions(kind, a, &p, custom)
    };
    let mut extra = Map::new();
    if extras.sip_headers || (fixed.is_none() && inbound && rng.random_bool(0.2)) {
        let sid: String = (0..32)
            .map(|_| *pick(rng, b"0123456789abcdef") as char)
            .collect();
        extra.insert(
            "telephony_sip_headers".into(),
            json!({"X-Twilio-CallSid": format!("CA{sid}"), "X-Forwarded-For": p.phone}),
        );
    }

    Call {
        call_id: Some(call_id),
        model_id: Some(a.model_id.clone()),
        campaign_type: Some(a.campaign_type.to_owned()),
        phone_number_from: Some(from),
        phone_number_to: Some(to),
        name: Some(p.full.clone()),
        transcript: Some(render(&turns)),
        duration: Some((telephony_duration + 500) / 1000),
        recording_url: Some(recording),
        end_call_reason: Some(reason),
        custom_end_call_reason: Some(custom.map(str::to_owned)),
        error_message: Some(error_message),
        executed_actions: Some(actions),
        prompt_variables: Some(prompt),
        type_of_call: Some(if inbound {
            TypeOfCall::Inbound
        } else {
            TypeOfCall::Outbound
        }),
        start_time: Some(start_ms.to_string()),
        timezone: Some(if inbound { a.timezone } else { p.timezone }.to_owned()),
        telephony_hangup: Some(hangup),
        telephony_disconnect_reason: Some(disconnect),
        telephony_duration: Some(telephony_duration),
        telephony_ringing_duration: Some(ringing_ms),
        telephony_start: Some(timestamp(start_ms)),
        telephony_end: talk_ms.map(|t| timestamp(start_ms + t)),
        status: Some(status),
        collected_variables: Some(collected_variables),
        extra,
    }
}

fn random_kind(rng: &mut ChaCha8Rng) -> Kind {
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

/// The `index`-th call of the coverage set (`index < 13`).
fn coverage_call(seed: u64, agents: &[Agent], index: usize) -> Call {
    let (kind, extras) = COVERAGE[index];
    build_call(
        &mut rng_for(seed, Stream::Coverage, index as u64),
        agents,
        kind,
        Some(extras),
    )
}

/// The `index`-th random call of `seed`.
fn random_call(seed: u64, agents: &[Agent], index: usize) -> Call {
    let mut rng = rng_for(seed, Stream::Random, index as u64);
    let kind = random_kind(&mut rng);
    build_call(&mut rng, agents, kind, None)
}

/// The exact 200 body of a call: the one-element envelope, compact, no trailing newline.
pub fn encode(call: &Call) -> Vec<u8> {
    let envelope = GetCallResponse {
        status: Some(EnvelopeStatus::Text("ok".into())),
        response: Some(CallsPage {
            pagination: Some(Pagination {
                total_records: Some(1),
                limit: Some(1),
                offset: Some(0),
                extra: Map::new(),
            }),
            calls: Some(vec![call.clone()]),
            extra: Map::new(),
        }),
        extra: Map::new(),
    };
    serde_json::to_vec(&envelope).expect("a generated call encodes")
}

/// Generates the calls of `opts`, in order (coverage set first), on up to `threads` threads.
pub fn generate(opts: GenerateOptions, threads: usize) -> Vec<GeneratedFile> {
    let agents = agents(opts.seed);
    let jobs: Vec<(bool, usize)> = (0..if opts.coverage { COVERAGE.len() } else { 0 })
        .map(|i| (true, i))
        .chain((0..opts.count).map(|i| (false, i)))
        .collect();
    let make = |&(cov, i): &(bool, usize)| {
        let call = if cov {
            coverage_call(opts.seed, &agents, i)
        } else {
            random_call(opts.seed, &agents, i)
        };
        GeneratedFile {
            id: call.call_id.clone().unwrap_or_default(),
            body: encode(&call),
            call,
            origin: format!("{} #{i}", if cov { "coverage" } else { "random" }),
        }
    };
    let threads = threads.max(1);
    if threads == 1 || jobs.len() < 256 {
        return jobs.iter().map(make).collect();
    }
    let chunk = jobs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(make).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("generator thread"))
            .collect()
    })
}

/// Why a tree could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// `DIR/calls` already holds files and `replace` was not asked for.
    #[error("{0} already holds fixtures; pass --replace to replace the whole folder")]
    NotEmpty(String),
    /// Two generated calls drew the same id (never seen; refused rather than overwritten).
    #[error("two generated calls have the same id {0}")]
    DuplicateId(String),
    /// The file system said no.
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `files` as `out/calls/<id>.json`. The folder is built beside its final place and renamed
/// into it, so a reader never sees half a tree; with `replace`, an existing `calls/` is swapped out
/// whole (stale files go too).
pub fn write_tree(
    out: &Path,
    files: &[GeneratedFile],
    replace: bool,
) -> Result<PathBuf, WriteError> {
    let mut seen = HashSet::with_capacity(files.len());
    for f in files {
        if !seen.insert(f.id.as_str()) {
            return Err(WriteError::DuplicateId(f.id.clone()));
        }
    }
    let target = out.join("calls");
    let occupied = std::fs::read_dir(&target)
        .map(|mut rd| rd.next().is_some())
        .unwrap_or(false);
    if occupied && !replace {
        return Err(WriteError::NotEmpty(target.display().to_string()));
    }
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let tmp = out.join(format!(".calls.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(io_err(&tmp))?;
    for f in files {
        let p = tmp.join(format!("{}.json", f.id));
        std::fs::write(&p, &f.body).map_err(io_err(&p))?;
    }
    let old = out.join(format!(".calls.old-{}", std::process::id()));
    if target.exists() {
        std::fs::rename(&target, &old).map_err(io_err(&target))?;
    }
    std::fs::rename(&tmp, &target).map_err(io_err(&target))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io_err(&old))?;
    }
    Ok(target)
}

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

/// Flags of `generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// Seed of the random stream: the same seed and count give byte-identical files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of random calls (after the coverage set with `--coverage`).
    #[arg(long, default_value_t = 0)]
    pub count: usize,
    /// Start with the smallest set covering every enum value and null/set of every nullable
    /// field, and print the coverage table reached.
    #[arg(long)]
    pub coverage: bool,
    /// Folder to write `calls/<call_id>.json` into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing `DIR/calls` folder whole (stale files go too).
    #[arg(long)]
    pub replace: bool,
    /// Also rewrite the generated table of this markdown file (between its
    /// `<!-- generated calls: begin/end -->` markers).
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
}

/// Runs `generate`.
pub fn run(args: &GenerateArgs) -> std::process::ExitCode {
    use std::process::ExitCode;
    if args.count == 0 && !args.coverage {
        eprintln!("synthflow-mock: nothing to generate: give --count N and/or --coverage");
        return ExitCode::from(2);
    }
    let started = std::time::Instant::now();
    let files = generate(
        GenerateOptions {
            seed: args.seed,
            count: args.count,
            coverage: args.coverage,
        },
        crate::validate::default_threads(),
    );
    let target = match write_tree(&args.out, &files, args.replace) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("synthflow-mock: {e}");
            return ExitCode::from(2);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    if let Some(readme) = &args.readme {
        if let Err(e) = update_readme(readme, &markdown_table(&files)) {
            eprintln!("synthflow-mock: {e}");
            return ExitCode::from(2);
        }
    }
    if args.coverage {
        println!(
            "{}",
            coverage_table(&coverage_of(files.iter().map(|f| &f.call)))
        );
    }
    eprintln!(
        "synthflow-mock: wrote {} calls to {} in {secs:.2} s ({:.0} files/s)",
        files.len(),
        target.display(),
        files.len() as f64 / secs.max(1e-9)
    );
    ExitCode::SUCCESS
}

/// Rewrites the generated table of a markdown file, through a temp file and a rename.
pub fn update_readme(path: &Path, table: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let new = splice_table(&text, table).ok_or_else(|| {
        format!(
            "{} has no {TABLE_BEGIN} ... {TABLE_END} markers",
            path.display()
        )
    })?;
    crate::atomic_file::write_atomic(path, new.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_index_give_the_same_call_and_another_seed_does_not() {
        let a = generate(
            GenerateOptions {
                seed: 3,
                count: 5,
                coverage: false,
            },
            1,
        );
        let b = generate(
            GenerateOptions {
                seed: 3,
                count: 5,
                coverage: false,
            },
            1,
        );
        let c = generate(
            GenerateOptions {
                seed: 4,
                count: 5,
                coverage: false,
            },
            1,
        );
        assert!(a.iter().zip(&b).all(|(x, y)| x.body == y.body));
        assert!(a.iter().zip(&c).all(|(x, y)| x.body != y.body));
    }

    #[test]
    fn transcripts_alternate_bot_and_human_lines() {
        let files = generate(
            GenerateOptions {
                seed: 9,
                count: 300,
                coverage: true,
            },
            1,
        );
        for f in files {
            let t = f.call.transcript.unwrap_or_default();
            let mut last = None;
            for line in t.lines() {
                let bot = if line.starts_with("bot: ") {
                    true
                } else {
                    assert!(line.starts_with("human: "), "{}: {line}", f.id);
                    false
                };
                assert_ne!(last, Some(bot), "{}: two turns in a row: {line}", f.id);
                last = Some(bot);
            }
        }
    }

    #[test]
    fn coverage_set_has_the_thirteen_kinds_of_its_lower_bound() {
        assert_eq!(coverage_kinds().len(), 13);
    }

    #[test]
    fn splice_replaces_only_the_marked_part() {
        let text = format!("a\n{TABLE_BEGIN}\nold\n{TABLE_END}\nb");
        assert_eq!(
            splice_table(&text, "new\n").unwrap(),
            format!("a\n{TABLE_BEGIN}\nnew\n{TABLE_END}\nb")
        );
        assert_eq!(splice_table("no markers", "x"), None);
    }
}
