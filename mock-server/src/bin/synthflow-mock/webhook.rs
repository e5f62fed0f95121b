//! `synthflow-mock webhook send`: fire one signed post-call webhook, built from a fixture, at a
//! receiver under test, and print its answer. Exit status: 0 on a 2xx, 1 on any other answer or
//! none, 2 on bad usage (unknown call id, unreadable fixture).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, Subcommand};
use synthflow::webhook::{sign, PostCallWebhook};
use synthflow_mock::webhook::deliver::post_once;
use synthflow_mock::Store;

#[derive(Args, Debug)]
pub struct WebhookCmd {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand, Debug)]
enum Sub {
    /// Send one signed post-call webhook built from a fixture; print the receiver's answer.
    Send(SendArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["call_id", "fixture"])))]
pub struct SendArgs {
    /// The receiver's URL (http only).
    #[arg(long, value_name = "URL")]
    to: String,
    /// An embedded fixture's call id (see `synthflow-mock list`).
    #[arg(long, value_name = "ID")]
    call_id: Option<String>,
    /// A fixture file: a GET /v2/calls/{id} body, or a post-call payload as is.
    #[arg(long, value_name = "FILE")]
    fixture: Option<PathBuf>,
    /// The secret to sign with (or env SYNTHFLOW_MOCK_WEBHOOK_SECRET, which `ps` does not show).
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "S"
    )]
    secret: String,
    /// Wire name of the signature header.
    #[arg(long, default_value = "Synthflow-Signature", value_name = "NAME")]
    signature_header: String,
    /// Timeout of the request, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
}

pub fn run(cmd: WebhookCmd) -> ExitCode {
    match cmd.command {
        Sub::Send(args) => send(args),
    }
}

/// The payload from the chosen source.
fn payload(args: &SendArgs) -> Result<PostCallWebhook, String> {
    let body: Bytes = match (&args.call_id, &args.fixture) {
        (Some(id), _) => {
            let store = Store::embedded().map_err(|e| e.to_string())?;
            let fixture = store
                .get(id)
                .ok_or_else(|| format!("no embedded fixture {id:?} (see `synthflow-mock list`)"))?;
            fixture.body.clone()
        }
        (None, Some(path)) => std::fs::read(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .into(),
        (None, None) => return Err("give --call-id or --fixture".into()),
    };
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("fixture is not JSON: {e}"))?;
    if value.get("response").is_none() && value.get("call").is_some() {
        return serde_json::from_value(value).map_err(|e| format!("payload: {e}"));
    }
    PostCallWebhook::from_envelope(&body).map_err(|e| e.to_string())
}

fn send(args: SendArgs) -> ExitCode {
    let header = match http::HeaderName::from_bytes(args.signature_header.as_bytes()) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("synthflow-mock webhook send: --signature-header: {e}");
            return ExitCode::from(2);
        }
    };
    let payload = match payload(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("synthflow-mock webhook send: {e}");
            return ExitCode::from(2);
        }
    };
    let call_id = payload.call_id().unwrap_or_default().to_owned();
    let signature = sign(&args.secret, &call_id);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("synthflow-mock webhook send: {e}");
            return ExitCode::from(2);
        }
    };
    let reply = runtime.block_on(post_once(
        &args.to,
        &header,
        Some(&signature),
        Bytes::from(payload.to_json()),
        Duration::from_millis(args.timeout_ms),
    ));
    match reply {
        Ok(r) => {
            println!("call_id: {call_id}");
            println!("status: {}", r.status);
            println!("body: {}", String::from_utf8_lossy(&r.body));
            if (200..300).contains(&r.status) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            println!("call_id: {call_id}");
            println!("error: {e}");
            ExitCode::from(1)
        }
    }
}
