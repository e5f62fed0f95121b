//! The `synthflow-mock` command: parses flags and hands each subcommand to its own file. Everything
//! else lives in the library so tests run the same code in-process; clap lives only here.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod drift;
mod generate;
mod healthcheck;
mod list;
mod logs;
#[cfg(feature = "online")]
mod record;
mod serve;
mod source;
mod validate;
mod webhook;
mod webhook_args;

/// An offline mock of Synthflow's API for integrators: `GET /v2/calls/{call_id}`, the list
/// `GET /v2/calls`, and `POST /v2/calls`, whose made calls play their lifecycle and send signed
/// post-call webhooks to your receiver (with receiver faults: --webhook-fault). With no arguments
/// it serves the fixtures embedded in the binary on 127.0.0.1:8080.
#[derive(Parser, Debug)]
#[command(
    name = "synthflow-mock",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: serve::ServeArgs,
}

// Parsed once at start: the size of the serve variant costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the fixtures (the default).
    Serve(Box<serve::ServeArgs>),
    /// Print the fixture ids with their status and end reason.
    List(serve::SourceArgs),
    /// Check fixture files or folders against the vendor's schema and the invariants.
    Validate(validate::ValidateArgs),
    /// Record fixtures from the live API (token from SYNTHFLOW_API_KEY), redacted by default.
    #[cfg(feature = "online")]
    Record(record::RecordArgs),
    /// Record fixtures from the live API: needs a build with the `online` feature.
    #[cfg(not(feature = "online"))]
    Record(Offline),
    /// Report drift from the spec and from recorded fixtures; exits 1 on drift.
    Drift(drift::DriftArgs),
    /// Write realistic, self-consistent fixtures, reproducible from a seed.
    Generate(generate::GenerateArgs),
    /// Exit 0 when the mock on 127.0.0.1:PORT answers GET /healthz with 200 (a container's
    /// HEALTHCHECK: needs no shell or curl).
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Post-call webhooks: `webhook send` fires one, signed, at a receiver under test.
    Webhook(webhook::WebhookCmd),
}

/// The arguments of a command this build does not have (taken whole, so the message names the
/// feature rather than a flag).
#[cfg(not(feature = "online"))]
#[derive(clap::Args, Debug)]
struct Offline {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _args: Vec<String>,
}

/// A command that talks to the live API, in a build without `online`: says how to get it.
#[cfg(not(feature = "online"))]
fn offline(command: &str) -> ExitCode {
    eprintln!(
        "synthflow-mock {command}: this build has no HTTP client for the live API; \
         build it with the `online` feature: cargo install synthflow-mock --features online \
         (from the repository: cargo run -p synthflow-mock --features online -- {command} ...)"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve::run(cli.serve),
        Some(Command::Serve(args)) => serve::run(*args),
        Some(Command::List(args)) => list::run(&args),
        Some(Command::Validate(args)) => validate::run(&args),
        #[cfg(feature = "online")]
        Some(Command::Record(args)) => record::run(args),
        #[cfg(not(feature = "online"))]
        Some(Command::Record(_)) => offline("record"),
        Some(Command::Drift(args)) => drift::run(args),
        Some(Command::Generate(args)) => generate::run(&args),
        Some(Command::Healthcheck(args)) => healthcheck::run(&args),
        Some(Command::Webhook(cmd)) => webhook::run(cmd),
    }
}
