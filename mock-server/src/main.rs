//! The `synthflow-mock` command: parses flags, loads fixtures, binds and serves. Everything else
//! lives in the library so tests run the same code in-process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use synthflow_mock::generate::{self, GenerateArgs};
use synthflow_mock::validate::{self, ValidateArgs};
use synthflow_mock::{server, AppState, AuthPolicy, Config, LoadOptions, Store, UnknownIdStatus};

/// An offline mock of Synthflow's `GET /v2/calls/{call_id}`. With no arguments it serves the
/// fixtures embedded in the binary on 127.0.0.1:8080.
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
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the fixtures (the default).
    Serve(ServeArgs),
    /// Print the fixture ids with their status and end reason.
    List(SourceArgs),
    /// Check fixture files or folders against the vendor's schema and the invariants.
    Validate(ValidateArgs),
    /// Write realistic, self-consistent fixtures, reproducible from a seed.
    Generate(GenerateArgs),
}

#[derive(Args, Debug, Clone)]
struct SourceArgs {
    /// Serve this folder (`DIR/calls/*.json`, `DIR/errors/*.json`) instead of the embedded fixtures.
    #[arg(long, env = "SYNTHFLOW_MOCK_FIXTURES", value_name = "DIR")]
    fixtures: Option<PathBuf>,
    /// Accept enum values the vendor's document does not list (recorded live data).
    #[arg(long, env = "SYNTHFLOW_MOCK_ALLOW_OUT_OF_SPEC")]
    allow_out_of_spec: bool,
}

#[derive(Args, Debug, Clone)]
struct ServeArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Address to listen on.
    #[arg(long, env = "SYNTHFLOW_MOCK_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one (printed on start).
    #[arg(long, env = "SYNTHFLOW_MOCK_PORT", default_value_t = 8080)]
    port: u16,
    /// Accept only these Bearer tokens (repeat, or comma-separate in the env var). Default: any.
    #[arg(
        long = "token",
        env = "SYNTHFLOW_MOCK_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    tokens: Vec<String>,
    /// Status for a well-formed call id with no fixture: 400 (documented) or 404.
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_UNKNOWN_ID_STATUS",
        value_enum,
        default_value = "400"
    )]
    unknown_id_status: UnknownIdStatus,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::List(args)) => list(&args),
        Some(Command::Validate(args)) => validate::run(&args),
        Some(Command::Generate(args)) => generate::run(&args),
    }
}

fn load(source: &SourceArgs) -> Result<Store, String> {
    let result = match &source.fixtures {
        Some(dir) => Store::from_dir(
            dir,
            LoadOptions {
                allow_out_of_spec: source.allow_out_of_spec,
            },
        ),
        None => Store::embedded(),
    };
    result.map_err(|e| format!("synthflow-mock: refusing to start: {e}"))
}

fn serve(args: ServeArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let store = match load(&args.source) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let addr: SocketAddr = match format!("{}:{}", bracket(&args.host), args.port).parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("synthflow-mock: bad --host/--port: {e}");
            return ExitCode::from(2);
        }
    };
    let config = Config {
        auth: AuthPolicy::tokens(args.tokens),
        unknown_id: args.unknown_id_status,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("synthflow-mock: cannot listen on {addr}: {e}");
                return ExitCode::from(1);
            }
        };
        let local = listener.local_addr().expect("bound address");
        let n = store.len();
        let first = store.ids().first().cloned().unwrap_or_default();
        let router = synthflow_mock::app(AppState::new(store, config));
        let shutdown = shutdown_signal();
        println!("synthflow-mock: serving {n} calls on http://{local}/v2/calls/{{call_id}} (e.g. {first})");
        match server::serve(listener, router, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("synthflow-mock: {e}");
                ExitCode::from(1)
            }
        }
    })
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Registers the SIGTERM handler at once (not on first poll), so a SIGTERM that arrives right
/// after the start-up line still means a graceful stop.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        wait_for_shutdown(
            #[cfg(unix)]
            sigterm,
        )
        .await
    }
}

async fn wait_for_shutdown(#[cfg(unix)] sigterm: Option<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match sigterm {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

fn list(args: &SourceArgs) -> ExitCode {
    let store = match load(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!("{:<38} {:<20} END_CALL_REASON", "CALL_ID", "STATUS");
    for f in store.fixtures() {
        let status = f.status.as_ref().map_or("-", |s| s.as_str());
        let reason = f.end_call_reason.as_ref().map_or("-", |s| s.as_str());
        println!("{:<38} {:<20} {}", f.id, status, reason);
    }
    ExitCode::SUCCESS
}
