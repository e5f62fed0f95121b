//! `synthflow-mock record`: flags to a [`Recorder`], then either the proxy or a bulk run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use synthflow_mock::tools::record::{self, ApiKey, RecordOptions, Recorder, Upstream};
use synthflow_mock::tools::redact::Redactor;

/// Record fixtures from the live API (or any upstream). The token is read from SYNTHFLOW_API_KEY.
#[derive(Args, Debug)]
pub struct RecordArgs {
    /// The upstream base URL, up to and including /v2.
    #[arg(
        long,
        default_value = "https://api.synthflow.ai/v2",
        value_name = "URL"
    )]
    upstream: String,
    /// The fixture folder to write (calls/ and errors/ inside it).
    #[arg(long, default_value = "recorded", value_name = "DIR")]
    out: PathBuf,
    /// Bulk mode: record the ids of this file (one a line, `#` comments), then exit.
    #[arg(long, value_name = "FILE")]
    ids: Option<PathBuf>,
    /// Bulk mode: record every call of this agent (paging through GET /v2/calls), then exit.
    #[arg(long, value_name = "ID")]
    model_id: Option<String>,
    /// Replace fixtures that exist (default: keep them).
    #[arg(long)]
    overwrite: bool,
    /// Write the upstream's exact bytes: phone numbers, names and transcripts included.
    #[arg(long)]
    no_redact: bool,
    /// Replace call and agent ids by UUIDs derived from them.
    #[arg(long, conflicts_with = "no_redact")]
    remap_ids: bool,
    /// Write upstream error answers as error fixtures (errors/<status>.json).
    #[arg(long)]
    record_errors: bool,
    /// Proxy mode: address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Proxy mode: port (0 picks a free one, printed on start).
    #[arg(long, default_value_t = 8081)]
    port: u16,
    /// Timeout of one upstream request, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

pub fn run(args: RecordArgs) -> ExitCode {
    let key = match ApiKey::from_env() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("synthflow-mock record: {e}");
            return ExitCode::from(2);
        }
    };
    let upstream = match Upstream::new(&args.upstream, key, Duration::from_secs(args.timeout)) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("synthflow-mock record: --upstream: {e}");
            return ExitCode::from(2);
        }
    };
    let recorder = Arc::new(Recorder::new(
        upstream,
        RecordOptions {
            out_dir: args.out.clone(),
            redactor: (!args.no_redact).then(|| Redactor::from_env(args.remap_ids)),
            overwrite: args.overwrite,
            record_errors: args.record_errors,
        },
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let mut ids: Vec<String> = Vec::new();
        if let Some(file) = &args.ids {
            match record::read_ids_file(file) {
                Ok(more) => ids.extend(more),
                Err(e) => {
                    eprintln!("synthflow-mock record: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        if let Some(model) = &args.model_id {
            match recorder.upstream().list_call_ids(model).await {
                Ok(more) => ids.extend(more),
                Err(e) => {
                    eprintln!("synthflow-mock record: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        if args.ids.is_some() || args.model_id.is_some() {
            let summary = recorder.record_all(&ids, &mut std::io::stderr()).await;
            println!("synthflow-mock record: {summary} → {}", args.out.display());
            return if summary.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            };
        }
        proxy(recorder, &args).await
    })
}

async fn proxy(recorder: Arc<Recorder>, args: &RecordArgs) -> ExitCode {
    let host = if args.host.contains(':') && !args.host.starts_with('[') {
        format!("[{}]", args.host)
    } else {
        args.host.clone()
    };
    let addr: SocketAddr = match format!("{host}:{}", args.port).parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("synthflow-mock record: bad --host/--port: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("synthflow-mock record: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let local = listener.local_addr().expect("bound address");
    println!(
        "synthflow-mock record: proxying http://{local}/v2/calls/{{call_id}} to {}, writing {}",
        recorder.upstream().base_url(),
        args.out.display()
    );
    // The proxy is served by the mock's accept loop; the tools stay below the HTTP layers.
    let app = record::proxy_app(recorder);
    match synthflow_mock::internals::server::serve_router(
        listener,
        app,
        crate::serve::shutdown_signal(),
    )
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synthflow-mock record: {e}");
            ExitCode::from(1)
        }
    }
}
