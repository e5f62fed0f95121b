//! `synthflow-check receiver post-call|inbound|action`: flags in, `contract_tests::receiver` run,
//! report out. Exit status: 0 every property holds, 1 one does not, 2 bad usage.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Args, Subcommand};
use contract_tests::receiver::from_mock::{action_from_mock, ActionRef};
use contract_tests::receiver::{check_receiver, ActionSpec, Endpoint, ReceiverCheck};

#[derive(Subcommand, Debug)]
pub enum ReceiverCommand {
    /// The post-call webhook receiver (signed over call.call_id).
    PostCall(Webhook),
    /// The inbound-call webhook (signed over call_inbound.from_number; reply: call_inbound).
    Inbound(Webhook),
    /// A custom-action endpoint (the reply must be JSON): the action given by --method and
    /// --body-template, or read from a running mock with --from-mock.
    Action(ActionArgs),
}

#[derive(Args, Debug)]
pub struct Webhook {
    /// The endpoint's URL.
    #[arg(long, value_name = "URL")]
    url: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
pub struct Common {
    /// The webhook secret (prefer the env var: a flag shows in `ps`). Never printed.
    #[arg(
        long,
        env = "SYNTHFLOW_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "S"
    )]
    secret: Option<String>,
    /// The signature header's wire name.
    #[arg(long, default_value = synthflow::webhook::SIGNATURE_HEADER, value_name = "NAME")]
    header: String,
    /// The seed of the payload sequence (default: chosen at random and printed).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// How many generated cases.
    #[arg(long, default_value_t = 200, value_name = "N")]
    cases: usize,
    /// Write JUnit XML here (atomically), one testcase per property.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Per-request time limit in milliseconds.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    time_limit_ms: u64,
    /// Run an API mock on this address; configure the receiver with http://ADDR/v2 as its API
    /// base (e.g. SYNTHFLOW_API_BASE). A refused delivery answered 2xx then passes only if the
    /// receiver makes no API request after it.
    #[arg(long, value_name = "ADDR")]
    api_mock: Option<SocketAddr>,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("mock_action").args(["action_id", "model_id"]).requires("from_mock")))]
pub struct ActionArgs {
    /// The endpoint's URL ({variable} placeholders are filled). With --from-mock it is optional
    /// and, when given, wins over the action's url.
    #[arg(long, value_name = "URL", required_unless_present = "from_mock")]
    url: Option<String>,
    #[command(flatten)]
    common: Common,
    /// The action's HTTP method.
    #[arg(long, default_value = "POST", value_parser = ["GET", "POST", "PUT", "PATCH", "DELETE"], conflicts_with = "from_mock")]
    method: String,
    /// The action's body template with {variable} placeholders, or @FILE to read it from a file.
    #[arg(long, value_name = "TEMPLATE", conflicts_with = "from_mock")]
    body_template: Option<String>,
    /// Read the action from a running mock at this base URL (http://HOST:PORT): its http_mode,
    /// url, headers, query_parameters, json_body_stringified and custom_auth, as the mock (and
    /// Synthflow) send them. Name it with --action-id or --model-id.
    #[arg(long, value_name = "URL", requires = "mock_action")]
    from_mock: Option<String>,
    /// With --from-mock: the action (GET /v2/actions/{ID}).
    #[arg(long, value_name = "ID")]
    action_id: Option<String>,
    /// With --from-mock: the first CUSTOM_ACTION attached to this agent
    /// (GET /v2/assistants/{ID}?include_actions=true).
    #[arg(long, value_name = "ID")]
    model_id: Option<String>,
    /// With --from-mock: the API token sent to the mock (any non-empty one unless the mock was
    /// started with --token).
    #[arg(
        long,
        default_value = "synthflow-check",
        value_name = "T",
        requires = "from_mock"
    )]
    token: String,
    /// Sign action requests over the call_id variable with the secret, and check the refusal
    /// properties. Off by default: Synthflow does not document signing custom actions.
    #[arg(long)]
    signed: bool,
}

pub fn run(cmd: ReceiverCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("synthflow-check: {e}");
            return ExitCode::from(2);
        }
    };
    let mut signed = true;
    let (endpoint, url, common) = match cmd {
        ReceiverCommand::PostCall(w) => (Endpoint::PostCall, w.url, w.common),
        ReceiverCommand::Inbound(w) => (Endpoint::Inbound, w.url, w.common),
        ReceiverCommand::Action(a) => {
            signed = a.signed;
            let (spec, url) = match action_spec(&a, &runtime) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("synthflow-check: {e}");
                    return ExitCode::from(2);
                }
            };
            (Endpoint::Action(spec), url, a.common)
        }
    };
    let mut check = match common.secret.as_deref() {
        _ if !signed => ReceiverCheck::unsigned(endpoint, url),
        Some(s) if !s.is_empty() => ReceiverCheck::new(endpoint, url, s),
        _ => {
            eprintln!(
                "synthflow-check: the webhook secret is missing: set SYNTHFLOW_WEBHOOK_SECRET (or --secret)"
            );
            return ExitCode::from(2);
        }
    };
    let seed = common.seed.unwrap_or_else(random_seed);
    check = check
        .seed(seed)
        .cases(common.cases)
        .header(common.header.clone())
        .time_limit(Duration::from_millis(common.time_limit_ms));
    if let Some(addr) = common.api_mock {
        check = check.api_mock_addr(addr);
    }
    let outcome = match runtime.block_on(check_receiver(check)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("synthflow-check: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", outcome.text());
    if let Some(path) = &common.junit {
        if let Err(e) = contract_tests::junit::write_atomic(path, outcome.junit_xml().as_bytes()) {
            eprintln!("synthflow-check: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if outcome.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The action's spec and URL: from the flags, or read from the mock (`--url` still wins).
fn action_spec(
    a: &ActionArgs,
    runtime: &tokio::runtime::Runtime,
) -> Result<(ActionSpec, String), String> {
    if let Some(base) = &a.from_mock {
        let what = match (&a.action_id, &a.model_id) {
            (Some(id), _) => ActionRef::Action(id.clone()),
            (None, Some(id)) => ActionRef::Agent(id.clone()),
            // clap requires one of them with --from-mock.
            (None, None) => return Err("--from-mock needs --action-id or --model-id".into()),
        };
        if a.token.is_empty() {
            return Err("--token: must not be empty".into());
        }
        let action = runtime
            .block_on(action_from_mock(base, &a.token, &what))
            .map_err(|e| e.to_string())?;
        let url = a.url.clone().unwrap_or(action.url);
        return Ok((action.spec, url));
    }
    let mut spec = ActionSpec {
        method: a.method.clone(),
        ..ActionSpec::default()
    };
    match a.body_template.as_deref() {
        Some(t) if t.starts_with('@') => match std::fs::read_to_string(&t[1..]) {
            Ok(text) => spec.body_template = text,
            Err(e) => return Err(format!("cannot read {}: {e}", &t[1..])),
        },
        Some(t) => spec.body_template = t.to_owned(),
        None => {}
    }
    // clap requires --url without --from-mock.
    let url = a.url.clone().ok_or("--url is required")?;
    Ok((spec, url))
}

/// A seed for a run that names none: not part of any payload, only printed so the run can be
/// repeated with `--seed`.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish() % 1_000_000
}
