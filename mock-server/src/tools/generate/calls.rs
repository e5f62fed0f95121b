//! Building one whole call record from its kind: times, parties, hang-up side, and the parts the
//! other modules draw.

use rand::rngs::ChaCha8Rng;
use rand::RngExt;
use serde_json::{json, Map};
use synthflow::model::{CallStatus, TelephonyDisconnectReason, TelephonyHangup, TypeOfCall};
use synthflow::Call;

use super::actions::{collected, executed_actions, prompt_variables};
use super::kinds::{random_kind, Extras, Kind, COVERAGE, NO_EXTRAS};
use super::people::{agents, person, Agent, Person, Purpose};
use super::transcript::{render, speaking_ms, transcript, Facts, SLOTS, STREETS};
use super::{pick, rng_for, uuid, Stream};

const ERRORS: &[&str] = &[
    "SIP 503 Service Unavailable: carrier trunk rejected the INVITE",
    "SIP 500 Internal Server Error: media gateway did not answer",
    "Media stream failed: no RTP packets received for 10 seconds",
    "LLM request timed out after 3 retries",
];

const FORBIDDEN: &str =
    "SIP 403 Forbidden: outbound calling to this destination is not permitted for the workspace's phone number";

fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

/// 2025-06-01T00:00:00Z and a year later: the window start times fall in.
const WINDOW_START_MS: i64 = 1_748_736_000_000;
const WINDOW_MS: i64 = 365 * 24 * 3600 * 1000;

/// What a made call (`POST /v2/calls`) fixes instead of drawing: its id, start, the person called
/// and the prompt variables. The draws still happen, so the stream stays the same shape.
pub(super) struct Given {
    pub(super) call_id: String,
    pub(super) start_ms: i64,
    pub(super) person: Person,
    pub(super) prompt_variables: Map<String, serde_json::Value>,
}

/// Builds a call of `kind`. A coverage call (`Some(extras)`) has exactly the extras asked for; a
/// random one (`None`) draws them; a made call (`given`) takes its parties from the order.
fn build_call(
    rng: &mut ChaCha8Rng,
    agents: &[Agent],
    kind: Kind,
    fixed: Option<Extras>,
    given: Option<Given>,
) -> Call {
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
    let mut call_id = uuid(rng);
    let mut p = person(rng, extras.non_ascii);
    let mut given_prompt = None;
    let mut given_start = None;
    if let Some(g) = given {
        call_id = g.call_id;
        p = g.person;
        given_prompt = Some(g.prompt_variables);
        given_start = Some(g.start_ms);
    }
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
    let drawn_start = WINDOW_START_MS + rng.random_range(0..WINDOW_MS);
    let start_ms = given_start.unwrap_or(drawn_start);
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
    let prompt = if let Some(given) = given_prompt {
        given
    } else if extras.empty_objects || (fixed.is_none() && inbound && rng.random_bool(0.5)) {
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
        duration: Some(((telephony_duration + 500) / 1000).into()),
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

/// The `index`-th call of the coverage set (`index < 13`).
pub(super) fn coverage_call(seed: u64, agents: &[Agent], index: usize) -> Call {
    let (kind, extras) = COVERAGE[index];
    build_call(
        &mut rng_for(seed, Stream::Coverage, index as u64),
        agents,
        kind,
        Some(extras),
        None,
    )
}

/// The `index`-th random call of `seed`.
pub(super) fn random_call(seed: u64, agents: &[Agent], index: usize) -> Call {
    let mut rng = rng_for(seed, Stream::Random, index as u64);
    let kind = random_kind(&mut rng);
    build_call(&mut rng, agents, kind, None, None)
}

/// A call made through the API: outbound, of `kind`, from the agent `model_id` (the first outbound
/// agent of the seed's workspace, renamed), with `given`'s parties.
pub(super) fn made_call(
    seed: u64,
    kind: Kind,
    model_id: &str,
    from: Option<&str>,
    given: Given,
) -> Call {
    let mut agents = agents(seed);
    for a in &mut agents {
        a.model_id = model_id.to_owned();
        if let Some(from) = from {
            a.phone = from.to_owned();
        }
        // A made call is an API call.
        if !a.purpose.inbound() {
            a.campaign_type = "api";
        }
    }
    let mut rng = rng_for(seed, Stream::Made, 0);
    build_call(&mut rng, &agents, kind, Some(NO_EXTRAS), Some(given))
}
