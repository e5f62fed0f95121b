//! `synthflow-mock webhook send`: fire one post-call webhook (signed, or `--unsigned`), built from
//! an embedded fixture, a fixture file, or a running mock's call (`--from URL --call-id ID`, a
//! made call included), at a receiver under test, and print its answer. It goes through the same
//! outgoing door as the server's deliveries. Exit status: 0 on a 2xx, 1 on any other answer or
//! none, 2 on bad usage (unknown call id, unreadable fixture, no secret).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, Subcommand};
use http::{HeaderMap, HeaderValue, Method};
use synthflow::webhook::{sign, PostCallWebhook};
use synthflow_mock::internals::outgoing::{OutRequest, Outgoing, Sent};
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
    /// An embedded fixture's call id (see `synthflow-mock list`), or with --from a call of a
    /// running mock (a made call too).
    #[arg(long, value_name = "ID")]
    call_id: Option<String>,
    /// A running mock's base URL (http://127.0.0.1:8080): the call is read from its
    /// GET /v2/calls/{id} instead of the embedded fixtures.
    #[arg(long, value_name = "URL", requires = "call_id")]
    from: Option<String>,
    /// The Bearer token for --from (a mock started without --token accepts any).
    #[arg(
        long,
        default_value = "synthflow-mock-webhook-send",
        value_name = "TOKEN"
    )]
    token: String,
    /// Send without a signature header (to see how the receiver treats an unsigned webhook).
    #[arg(long, conflicts_with = "secret")]
    unsigned: bool,
    /// A fixture file: a GET /v2/calls/{id} body, or a post-call payload as is.
    #[arg(long, value_name = "FILE")]
    fixture: Option<PathBuf>,
    /// The secret to sign with (or env SYNTHFLOW_MOCK_WEBHOOK_SECRET, else SYNTHFLOW_WEBHOOK_SECRET,
    /// which `ps` does not show). Required unless --unsigned.
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "S"
    )]
    secret: Option<String>,
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

/// `GET {base}/v2/calls/{id}` of a running mock, through the outgoing door.
async fn fetch(
    out: &Outgoing,
    base: &str,
    id: &str,
    token: &str,
    timeout: Duration,
) -> Result<Bytes, String> {
    let base = base.trim_end_matches('/').trim_end_matches("/v2");
    let url = format!("{base}/v2/calls/{id}");
    let mut headers = HeaderMap::new();
    let bearer =
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| format!("--token: {e}"))?;
    headers.insert(http::header::AUTHORIZATION, bearer);
    let sent = out
        .send(OutRequest {
            kind: "webhook-send",
            url: &url,
            method: Method::GET,
            headers,
            body: Bytes::new(),
            timeout,
        })
        .await;
    match sent {
        Sent::Answer(a) if a.status == 200 => Ok(a.body),
        Sent::Answer(a) => Err(format!(
            "GET {url}: {} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        )),
        Sent::Refused(e) | Sent::Failed(e) | Sent::Error(e) => Err(format!("GET {url}: {e}")),
    }
}

/// The payload from the chosen source (`fetched`: the body read with --from).
fn payload(args: &SendArgs, fetched: Option<Bytes>) -> Result<PostCallWebhook, String> {
    let body: Bytes = match (&args.call_id, &args.fixture) {
        _ if fetched.is_some() => fetched.unwrap_or_default(),
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
    let secret = args
        .secret
        .clone()
        .or_else(|| std::env::var("SYNTHFLOW_WEBHOOK_SECRET").ok())
        .filter(|s| !s.is_empty());
    if secret.is_none() && !args.unsigned {
        eprintln!(
            "synthflow-mock webhook send: no secret: give --secret, SYNTHFLOW_MOCK_WEBHOOK_SECRET or \
             SYNTHFLOW_WEBHOOK_SECRET, or --unsigned"
        );
        return ExitCode::from(2);
    }
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
    let timeout = Duration::from_millis(args.timeout_ms);
    let out = Outgoing::new(Vec::new(), 0);
    let fetched = match (&args.from, &args.call_id) {
        (Some(base), Some(id)) => {
            match runtime.block_on(fetch(&out, base, id, &args.token, timeout)) {
                Ok(b) => Some(b),
                Err(e) => {
                    eprintln!("synthflow-mock webhook send: --from: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        _ => None,
    };
    let payload = match payload(&args, fetched) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("synthflow-mock webhook send: {e}");
            return ExitCode::from(2);
        }
    };
    let call_id = payload.call_id().unwrap_or_default().to_owned();
    let mut headers = HeaderMap::new();
    if let Some(secret) = &secret {
        if let Ok(v) = HeaderValue::from_str(&sign(secret, &call_id)) {
            headers.insert(header, v);
        }
    }
    let sent = runtime.block_on(out.send(OutRequest {
        kind: "webhook",
        url: &args.to,
        method: Method::POST,
        headers,
        body: Bytes::from(payload.to_json()),
        timeout,
    }));
    println!("call_id: {call_id}");
    println!("signed: {}", secret.is_some());
    match sent {
        Sent::Answer(r) => {
            println!("status: {}", r.status);
            println!("body: {}", String::from_utf8_lossy(&r.body));
            if (200..300).contains(&r.status) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Sent::Refused(e) | Sent::Failed(e) | Sent::Error(e) => {
            println!("error: {e}");
            ExitCode::from(1)
        }
    }
}
