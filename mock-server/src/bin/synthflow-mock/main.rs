//! The `synthflow-mock` command: parses flags and hands each subcommand to its own file. Everything
//! else lives in the library so tests run the same code in-process; clap lives only here.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod drift;
mod generate;
mod healthcheck;
mod list;
mod logs;
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
    Record(record::RecordArgs),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve::run(cli.serve),
        Some(Command::Serve(args)) => serve::run(*args),
        Some(Command::List(args)) => list::run(&args),
        Some(Command::Validate(args)) => validate::run(&args),
        Some(Command::Record(args)) => record::run(args),
        Some(Command::Drift(args)) => drift::run(args),
        Some(Command::Generate(args)) => generate::run(&args),
        Some(Command::Healthcheck(args)) => healthcheck::run(&args),
        Some(Command::Webhook(cmd)) => webhook::run(cmd),
    }
}
