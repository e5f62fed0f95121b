//! `synthflow-check`: the contract suite as a command for anyone's CI.
//!
//! ```text
//! SYNTHFLOW_API_KEY=... synthflow-check --base-url https://api.synthflow.ai/v2 \
//!     --call-id ID [--call-id ID...] [--junit report.xml]
//! SYNTHFLOW_WEBHOOK_SECRET=... synthflow-check --webhook-receiver http://127.0.0.1:9000/hook
//! SYNTHFLOW_WEBHOOK_SECRET=... synthflow-check receiver post-call --url http://127.0.0.1:9000/hook
//! ```
//!
//! `receiver post-call|inbound|action` is the generative suite for the integrator's endpoints
//! (`contract_tests::receiver`, `receiver.rs` here parses its flags; docs/contract-suite.md).
//!
//! Runs `contract_tests::run_suite` (the same cases as `cargo test -p contract-tests`) against any
//! target — the live API, a staging proxy, a mock — prints a readable summary and, with `--junit`,
//! writes JUnit XML. Exit status: 0 every case passed, 1 a case failed, 2 bad usage. The token is
//! read from `SYNTHFLOW_API_KEY` only, never from a flag, and is never printed.
//!
//! With `--webhook-receiver URL --webhook-secret S` it also (or only, without `--base-url`) checks a
//! post-call webhook receiver: a signed payload must be accepted, a badly signed or unsigned one
//! refused (`contract_tests::webhook`).
//!
//! It is a binary of `contract-tests` rather than a subcommand of `synthflow-mock` because
//! `contract-tests` depends on `synthflow-mock` (it runs the suite against the mock), so the mock
//! cannot depend back on the suite.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use contract_tests::agents::{run_agent_cases, Writes};
use contract_tests::webhook::{run_webhook_cases, WebhookTarget};
use contract_tests::{junit, run_suite, SuiteReport, Target};

/// Run Synthflow's GET /v2/calls/{call_id} contract suite against any base URL. The token is read
/// from SYNTHFLOW_API_KEY.
#[derive(Parser, Debug)]
#[command(name = "synthflow-check", version, subcommand_negates_reqs = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Base URL of the target, up to and including /v2.
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "webhook_receiver",
        requires = "call_ids"
    )]
    base_url: Option<String>,
    /// A call id of the account to fetch and check (repeat, or comma-separate).
    #[arg(
        long = "call-id",
        value_name = "ID",
        value_delimiter = ',',
        requires = "base_url"
    )]
    call_ids: Vec<String>,
    /// Also check this post-call webhook receiver: signed payload accepted, bad ones refused.
    #[arg(long, value_name = "URL", requires = "webhook_secret")]
    webhook_receiver: Option<String>,
    /// The secret the receiver verifies with (prefer the env var: a flag shows in `ps`).
    #[arg(
        long,
        env = "SYNTHFLOW_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "S"
    )]
    webhook_secret: Option<String>,
    /// The signature header's wire name.
    #[arg(long, default_value = "Synthflow-Signature", value_name = "NAME")]
    webhook_signature_header: String,
    /// Write JUnit XML here (atomically).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// A name for the target in reports.
    #[arg(long, default_value = "target")]
    name: String,
    /// The target refuses tokens it does not know (the live API does): also check that 401.
    #[arg(long)]
    checks_tokens: bool,
    /// The status the target gives a well-formed unknown id.
    #[arg(long, value_enum, default_value = "400")]
    unknown_id_status: UnknownStatus,
    /// Accept enum values the vendor's document does not list.
    #[arg(long)]
    allow_out_of_spec: bool,
    /// Timeout of one request, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Also run the read-only agent and action cases (/assistants, /actions).
    #[arg(long)]
    agents: bool,
    /// Also run the agent and action cases that create, change and delete (they delete what
    /// they created); implies --agents. Never on by default against a live account.
    #[arg(long)]
    live_writes: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the integrator's own endpoint (post-call webhook, inbound webhook, custom action)
    /// with generated, signed payloads; failures are shrunk and printed with a curl replay.
    #[command(subcommand)]
    Receiver(receiver::ReceiverCommand),
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum UnknownStatus {
    #[value(name = "400")]
    BadRequest,
    #[value(name = "404")]
    NotFound,
}

mod receiver;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Receiver(cmd)) = cli.command {
        return receiver::run(cmd);
    }
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
    let mut report = SuiteReport::default();
    if let Some(base_url) = &cli.base_url {
        let token = match std::env::var("SYNTHFLOW_API_KEY") {
            Ok(t) if !t.trim().is_empty() => t,
            _ => {
                eprintln!(
                    "synthflow-check: SYNTHFLOW_API_KEY is not set: export the API key in the \
                     environment (it is never taken from a flag)"
                );
                return ExitCode::from(2);
            }
        };
        let mut target = Target::new(cli.name.clone(), base_url.clone(), token);
        target.checks_tokens = cli.checks_tokens;
        target.unknown_id_status = match cli.unknown_id_status {
            UnknownStatus::BadRequest => 400,
            UnknownStatus::NotFound => 404,
        };
        target.allow_out_of_spec = cli.allow_out_of_spec;
        target.timeout = Duration::from_secs(cli.timeout);
        let ids: Vec<String> = cli
            .call_ids
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        report = runtime.block_on(run_suite(&target, &ids));
        if cli.agents || cli.live_writes {
            let writes = if cli.live_writes {
                Writes::Allowed
            } else {
                Writes::ReadOnly
            };
            let cases = runtime.block_on(run_agent_cases(&target, writes));
            report.cases.extend(cases);
        }
        println!("synthflow-check: {} at {base_url}", cli.name);
    }
    if let (Some(url), Some(secret)) = (&cli.webhook_receiver, &cli.webhook_secret) {
        let mut target = WebhookTarget::new(url.clone(), secret.clone());
        target.signature_header = cli.webhook_signature_header.clone();
        target.timeout = Duration::from_secs(cli.timeout);
        let hooks = runtime.block_on(run_webhook_cases(&target));
        println!("synthflow-check: webhook receiver at {url}");
        report.cases.extend(hooks.cases);
    }
    println!("{report}");
    if let Some(path) = &cli.junit {
        let xml = junit::to_xml(&report, &cli.name);
        if let Err(e) = junit::write_atomic(path, xml.as_bytes()) {
            eprintln!("synthflow-check: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
