//! What is said on a call: the scripts of each agent's purpose, the facts they talk about, and
//! the transcript of a call of each kind.

use rand::rngs::ChaCha8Rng;
use rand::RngExt;

use super::kinds::Kind;
use super::people::{Agent, Person, Purpose};
use super::pick;

/// Days and times an appointment can be at.
pub(super) const SLOTS: &[&str] = &[
    "Monday at 9:30 AM",
    "Tuesday at 3:00 PM",
    "Wednesday at 11:15 AM",
    "Thursday at 2:45 PM",
    "Friday at 10:00 AM",
];

pub(super) const STREETS: &[&str] = &["Alder Street", "Birch Lane", "Cedar Avenue", "Harbor Road"];

const ITEMS: &[(&str, u32)] = &[
    ("nitrile exam gloves, size M", 1840),
    ("sterile gauze sponges 4x4", 1410),
    ("alcohol prep pads, box of 200", 625),
    ("paper exam table roll, 21 inch", 2260),
    ("hand sanitizer, 1 liter pump", 1290),
    ("disposable face masks, box of 50", 995),
];

/// The facts a script talks about, drawn once per call.
pub(super) struct Facts {
    pub(super) slot: &'static str,
    pub(super) street: &'static str,
    pub(super) order: String,
    pub(super) amount_cents: u32,
    pub(super) unit: String,
    pub(super) ticket: String,
}

pub(super) fn money(cents: u32) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// A transcript: (is the agent speaking, line).
pub(super) type Turns = Vec<(bool, String)>;

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
    while bytes < synthflow::model::LONG_TRANSCRIPT_BYTES + 1000 {
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

/// The transcript of a call of `kind`, and the custom end reason when it has one.
pub(super) fn transcript(
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

pub(super) fn render(turns: &Turns) -> String {
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
pub(super) fn speaking_ms(rng: &mut ChaCha8Rng, turns: &Turns) -> i64 {
    turns
        .iter()
        .map(|(_, l)| l.chars().count() as i64 * 65 + 700)
        .sum::<i64>()
        + rng.random_range(0..2000i64)
}
