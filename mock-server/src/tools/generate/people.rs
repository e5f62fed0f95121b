//! Who takes part in a call: the agents of the generated workspace and the person on the other
//! end (names from `fake`, phone numbers from fictional ranges).

use fake::faker::company::raw::CompanyName;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::{DE_DE, EN, FR_FR, JA_JP, PT_BR};
use fake::Fake;
use rand::rngs::ChaCha8Rng;
use rand::RngExt;

use super::{pick, rng_for, uuid, Stream};

/// What an agent is for; it decides the script, the variables and the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    AppointmentReminder,
    OrderConfirmation,
    PaymentReminder,
    PropertyInquiry,
    SupportLine,
}

impl Purpose {
    pub(super) fn inbound(self) -> bool {
        matches!(self, Purpose::PropertyInquiry | Purpose::SupportLine)
    }
}

/// An agent (a `model_id`) of the generated workspace.
#[derive(Debug, Clone)]
pub(super) struct Agent {
    pub(super) model_id: String,
    pub(super) purpose: Purpose,
    pub(super) company: String,
    pub(super) agent_name: String,
    pub(super) phone: String,
    pub(super) timezone: &'static str,
    pub(super) campaign_type: &'static str,
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

pub(super) fn agents(seed: u64) -> Vec<Agent> {
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
pub(super) struct Person {
    pub(super) first: String,
    pub(super) full: String,
    pub(super) phone: String,
    pub(super) timezone: &'static str,
}

pub(super) fn person(rng: &mut ChaCha8Rng, non_ascii: bool) -> Person {
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
