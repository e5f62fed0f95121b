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

//!
//! The parts, one concern each: `kinds` (what a call is and the coverage set), `people`
//! (agents and the person called), `transcript` (what is said), `actions` (variables and executed
//! actions), `calls` (one whole record), `report` (coverage and markdown tables), `write` (the
//! `calls/` tree and a README's table) and `extended` (`--shapes extended`: the off-document shapes
//! seen live, applied after generation, so the default output never changes).

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde_json::{Map, Value};
use synthflow::model::{CallsPage, EnvelopeStatus, GetCallResponse, Pagination};
use synthflow::Call;

mod actions;
mod calls;
#[cfg(feature = "tools")]
mod extended;
mod kinds;
mod people;
#[cfg(feature = "tools")]
mod report;
mod transcript;
#[cfg(feature = "tools")]
mod write;

#[cfg(feature = "tools")]
pub use extended::extend_shapes;
pub use kinds::{coverage_kinds, Kind};
#[cfg(feature = "tools")]
pub use report::{
    coverage_of, coverage_table, markdown_table, splice_table, TABLE_BEGIN, TABLE_END,
};
#[cfg(feature = "tools")]
pub use write::{update_readme, write_tree, WriteError};

use calls::{coverage_call, random_call, Given};
use kinds::COVERAGE;
use people::agents;

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

/// Which stream a call's randomness comes from.
#[derive(Debug, Clone, Copy)]
enum Stream {
    Agents = 0,
    Random = 1,
    Coverage = 2,
    Made = 3,
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

fn uuid(rng: &mut ChaCha8Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
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

/// A call made through `POST /v2/calls`: what the request fixes; the factory draws the rest
/// (transcript, timings, variables, actions) from `seed`, by the same rules as every other call.
#[derive(Debug, Clone)]
pub struct Order<'a> {
    /// The call id the API answered.
    pub call_id: &'a str,
    /// The outcome.
    pub kind: Kind,
    /// When the call started (unix ms).
    pub start_ms: i64,
    /// The agent (`model_id`).
    pub model_id: &'a str,
    /// The person called (`name`).
    pub name: &'a str,
    /// The number called (`phone`).
    pub phone_to: &'a str,
    /// The caller id (`from_phone_number`); the agent's drawn number when absent.
    pub phone_from: Option<&'a str>,
    /// The person's time zone (`lead_timezone`); `Etc/UTC` when absent.
    pub timezone: Option<&'a str>,
    /// `prompt_variables` (from `custom_variables`).
    pub prompt_variables: Map<String, Value>,
}

/// The final record of a made call (outbound, never a live status: `kind` must be a final one).
pub fn made_call(seed: u64, order: &Order<'_>) -> Call {
    let given = Given {
        call_id: order.call_id.to_owned(),
        start_ms: order.start_ms,
        person: people::Person {
            first: order
                .name
                .split_whitespace()
                .next()
                .unwrap_or(order.name)
                .to_owned(),
            full: order.name.to_owned(),
            phone: order.phone_to.to_owned(),
            timezone: "Etc/UTC",
        },
        prompt_variables: order.prompt_variables.clone(),
    };
    let mut call = calls::made_call(seed, order.kind, order.model_id, order.phone_from, given);
    if let Some(tz) = order.timezone {
        call.timezone = Some(tz.to_owned());
    }
    call
}

/// Generates the calls of `opts`, in order (coverage set first), on every core (`rayon`).
pub fn generate(opts: GenerateOptions) -> Vec<GeneratedFile> {
    let agents = agents(opts.seed);
    let coverage = if opts.coverage { COVERAGE.len() } else { 0 };
    let jobs: Vec<(bool, usize)> = (0..coverage)
        .map(|i| (true, i))
        .chain((0..opts.count).map(|i| (false, i)))
        .collect();
    jobs.par_iter()
        .map(|&(cov, i)| {
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
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_index_give_the_same_call_and_another_seed_does_not() {
        let a = generate(GenerateOptions {
            seed: 3,
            count: 5,
            coverage: false,
        });
        let b = generate(GenerateOptions {
            seed: 3,
            count: 5,
            coverage: false,
        });
        let c = generate(GenerateOptions {
            seed: 4,
            count: 5,
            coverage: false,
        });
        assert!(a.iter().zip(&b).all(|(x, y)| x.body == y.body));
        assert!(a.iter().zip(&c).all(|(x, y)| x.body != y.body));
    }

    #[test]
    fn transcripts_alternate_bot_and_human_lines() {
        let files = generate(GenerateOptions {
            seed: 9,
            count: 300,
            coverage: true,
        });
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
