//! `synthflow-mock serve` (and no subcommand): load the fixtures, build the state, bind, serve.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

pub use crate::source::{load, SourceArgs};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::Args;
use synthflow_mock::internals::behaviour::agents::{AgentConfig, Seed};
use synthflow_mock::internals::{auth::AdminToken, reload};
use synthflow_mock::{
    serve_app_with, AdminAccess, AppState, AuthPolicy, Config, Fault, GlobalFaults, LoadOptions,
    MadeCallConfig, OutcomeRule, RandomFaults, ScenarioFile, ServeOptions, UnknownIdStatus,
};

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Address to listen on.
    #[arg(long, env = "SYNTHFLOW_MOCK_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 picks a free one (printed on start).
    #[arg(long, env = "SYNTHFLOW_MOCK_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Accept only these Bearer tokens (repeat, or comma-separate in the env var). Default: any.
    /// `REGION:KEY` (REGION `global`, `us`, `eu`) accepts KEY on any host but another region's
    /// (by `Host`: `api.eu.synthflow.ai`, `eu.localhost`...), where it gets the live 401.
    #[arg(
        long = "token",
        env = "SYNTHFLOW_MOCK_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub tokens: Vec<String>,
    /// Status for a well-formed call id with no fixture: 400 (documented) or 404.
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_UNKNOWN_ID_STATUS",
        default_value = "400",
        value_parser = unknown_id_status()
    )]
    pub unknown_id_status: UnknownIdStatus,
    /// Admin API under /__admin: off, loopback (loopback peers only) or any.
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_ADMIN",
        default_value = "off",
        value_parser = admin_access()
    )]
    pub admin: AdminAccess,
    /// Request journal size (default 1000 with the admin API, 0 = off without).
    #[arg(long, env = "SYNTHFLOW_MOCK_JOURNAL_SIZE")]
    pub journal_size: Option<usize>,
    /// Reload the --fixtures folder when its files change.
    #[arg(long, env = "SYNTHFLOW_MOCK_WATCH", requires = "fixtures")]
    pub watch: bool,
    /// A fault on every request, e.g. "latency=200" or "code=503" (see docs/scenarios.md).
    #[arg(long, env = "SYNTHFLOW_MOCK_FAULT")]
    pub fault: Option<Fault>,
    /// Random faults on this share of requests (0.0 to 1.0).
    #[arg(long, env = "SYNTHFLOW_MOCK_FAULT_RATE")]
    pub fault_rate: Option<f64>,
    /// Seed of the random faults.
    #[arg(long, env = "SYNTHFLOW_MOCK_FAULT_SEED", default_value_t = 0)]
    pub fault_seed: u64,
    /// The faults to draw from (repeat; default code=429, code=500, code=503).
    #[arg(long = "random-fault")]
    pub random_faults: Vec<Fault>,
    /// Retry-After seconds on a 429.
    #[arg(long, env = "SYNTHFLOW_MOCK_RETRY_AFTER", default_value_t = 1)]
    pub retry_after: u32,
    /// No Retry-After on a 429 (as the live service documents none).
    #[arg(long, env = "SYNTHFLOW_MOCK_NO_RETRY_AFTER")]
    pub no_retry_after: bool,
    /// Seconds the server waits for a whole request head (a silent client, a head sent a byte at
    /// a time, an idle keep-alive) before it closes the connection; 0 = no limit. An answer the
    /// client does not read is not timed: --shutdown-timeout bounds it at exit.
    #[arg(long, env = "SYNTHFLOW_MOCK_HEADER_READ_TIMEOUT", default_value_t = 10)]
    pub header_read_timeout: u64,
    /// Scenarios by call id (JSON); DIR/scenarios.json of --fixtures is read when present.
    #[arg(long, env = "SYNTHFLOW_MOCK_SCENARIOS", value_name = "FILE")]
    pub scenarios: Option<PathBuf>,
    /// Milliseconds from `POST /v2/calls` to the call's final state (a call may ask for its own
    /// with `Prefer: call-duration=MS`).
    #[arg(long, env = "SYNTHFLOW_MOCK_CALL_DURATION_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(0..=synthflow_mock::internals::behaviour::made_calls::MAX_DURATION_MS))]
    pub call_duration_ms: u64,
    /// Most made calls kept in memory; beyond it the oldest is evicted (and logged).
    #[arg(long, env = "SYNTHFLOW_MOCK_MAX_MADE_CALLS", default_value_t = 10_000)]
    pub max_made_calls: usize,
    /// Most agents (and, apart, actions) kept in memory; beyond it the oldest is evicted (logged).
    #[arg(long, env = "SYNTHFLOW_MOCK_MAX_AGENTS", default_value_t = synthflow_mock::internals::behaviour::agents::DEFAULT_MAX_AGENTS)]
    pub max_agents: usize,
    /// `POST /v2/calls` with a model_id that names no agent: 400 instead of accepted.
    #[arg(long, env = "SYNTHFLOW_MOCK_STRICT_AGENTS")]
    pub strict_agents: bool,
    /// Folder of agent and action JSON files to start with (default: the embedded fixtures/agents/).
    #[arg(long, env = "SYNTHFLOW_MOCK_AGENTS", value_name = "DIR")]
    pub agents: Option<PathBuf>,
    /// Outcome of a made call by the number called, first match wins, e.g.
    /// "ends-with:3=failed" (repeat, or comma-separate in the env var; replaces the defaults:
    /// ends-with 1=busy, 2=no-answer, 3=failed, 4=voicemail; "none": every call completes).
    /// Outcomes: completed, busy, no-answer, failed, voicemail, voicemail-left.
    #[arg(
        long = "outcome-rule",
        env = "SYNTHFLOW_MOCK_OUTCOME_RULES",
        value_delimiter = ',',
        value_name = "RULE"
    )]
    pub outcome_rules: Vec<String>,
    /// Bytes the request journal may hold, all entries together (oldest dropped first; 0 = off).
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_JOURNAL_BYTES",
        default_value_t = synthflow_mock::internals::journal::DEFAULT_MAX_BYTES
    )]
    pub journal_bytes: usize,
    /// On SIGTERM/SIGINT, seconds in-flight requests may take to finish before their connections
    /// are closed (a second signal exits at once, with code 130).
    #[arg(long, env = "SYNTHFLOW_MOCK_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    pub shutdown_timeout: u64,
    /// Token admin requests must carry as `Authorization: Bearer <token>`; required by --admin any.
    #[arg(long, env = "SYNTHFLOW_MOCK_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Every this many seconds, give memory freed since (a connection flood, a cleared journal)
    /// back to the system (glibc's malloc_trim); 0 = never.
    #[arg(long, env = "SYNTHFLOW_MOCK_MEMORY_TRIM_SECS", default_value_t = 10)]
    pub memory_trim_secs: u64,
    /// Log format on stderr: "text" (a line per event) or "json" (one JSON object per line, for
    /// log collectors).
    #[arg(
        long,
        env = "SYNTHFLOW_MOCK_LOG_FORMAT",
        default_value = "text",
        value_parser = ["text", "json"]
    )]
    pub log_format: String,
    #[command(flatten)]
    pub webhook: crate::webhook_args::WebhookArgs,
}

/// `--outcome-rule` values as rules: none given, the defaults; "none", no rule.
fn outcome_rules(given: &[String]) -> Result<Vec<OutcomeRule>, String> {
    if given.is_empty() {
        return Ok(OutcomeRule::defaults());
    }
    given
        .iter()
        .filter(|r| r.trim() != "none")
        .map(|r| r.parse::<OutcomeRule>())
        .collect()
}

/// `--unknown-id-status`: "400" or "404" (help texts as the values' docs say).
fn unknown_id_status() -> impl TypedValueParser<Value = UnknownIdStatus> {
    PossibleValuesParser::new([
        PossibleValue::new("400").help("The documented answer: 400 with the error body"),
        PossibleValue::new("404")
            .help("What the public catalogue declares and some clients expect: 404"),
    ])
    .map(|s| match s.as_str() {
        "404" => UnknownIdStatus::NotFound,
        _ => UnknownIdStatus::BadRequest,
    })
}

/// `--admin`: "off", "loopback" or "any".
fn admin_access() -> impl TypedValueParser<Value = AdminAccess> {
    PossibleValuesParser::new([
        PossibleValue::new("off").help("No admin API: its paths are 404 like any unknown route"),
        PossibleValue::new("loopback").help("Served to loopback peers only; others get 403"),
        PossibleValue::new("any").help("Served to any peer (only behind a network you trust)"),
    ])
    .map(|s| match s.as_str() {
        "loopback" => AdminAccess::Loopback,
        "any" => AdminAccess::Any,
        _ => AdminAccess::Off,
    })
}

/// An error line on stderr after the buffered log lines (one JSON object in JSON mode).
macro_rules! say {
    ($($t:tt)*) => {{
        crate::logs::line(false, "ERROR", &format!($($t)*));
    }};
}

pub fn run(args: ServeArgs) -> ExitCode {
    // Kept until the server has stopped: dropping it writes the lines still buffered.
    let log_guard = crate::logs::init(args.log_format == "json");
    let store = match load(&args.source) {
        Ok(s) => s,
        Err(e) => {
            say!("{e}");
            return ExitCode::from(2);
        }
    };
    let addr: SocketAddr = match format!("{}:{}", bracket(&args.host), args.port).parse() {
        Ok(a) => a,
        Err(e) => {
            say!("synthflow-mock: bad --host/--port: {e}");
            return ExitCode::from(2);
        }
    };
    let random = match args.fault_rate {
        None => None,
        Some(rate) => match RandomFaults::new(rate, args.fault_seed, args.random_faults.clone()) {
            Ok(r) => Some(r),
            Err(e) => {
                say!("synthflow-mock: --fault-rate: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let admin_token = args.admin_token.as_deref().and_then(AdminToken::new);
    if args.admin == AdminAccess::Any && admin_token.is_none() {
        say!(
            "synthflow-mock: refusing to start: --admin any needs --admin-token (or \
             SYNTHFLOW_MOCK_ADMIN_TOKEN): without one, anyone who reaches the port could change \
             every answer or delete calls"
        );
        return ExitCode::from(2);
    }
    let scenarios = match load_scenarios(&args) {
        Ok(s) => s,
        Err(e) => {
            say!("{e}");
            return ExitCode::from(2);
        }
    };
    let outcome_rules = match outcome_rules(&args.outcome_rules) {
        Ok(r) => r,
        Err(e) => {
            say!("synthflow-mock: --outcome-rule: {e}");
            return ExitCode::from(2);
        }
    };
    let webhooks = match args
        .webhook
        .config(std::env::var("SYNTHFLOW_WEBHOOK_SECRET").ok())
    {
        Ok(w) => w,
        Err(e) => {
            say!("{e}");
            return ExitCode::from(2);
        }
    };
    let agents = match &args.agents {
        None => AgentConfig::default(),
        Some(dir) => match Seed::from_dir(dir) {
            Ok(seed) => AgentConfig {
                seed,
                ..AgentConfig::default()
            },
            Err(e) => {
                say!("synthflow-mock: refusing to start: --agents: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let config = Config {
        agents: AgentConfig {
            max_agents: args.max_agents,
            strict: args.strict_agents,
            ..agents
        },
        webhooks,
        auth: AuthPolicy::parse(&args.tokens),
        unknown_id: args.unknown_id_status,
        retry_after: (!args.no_retry_after).then_some(args.retry_after),
        admin: args.admin,
        journal_size: args
            .journal_size
            .unwrap_or(if args.admin == AdminAccess::Off {
                0
            } else {
                1000
            }),
        faults: GlobalFaults {
            always: args.fault,
            random,
        },
        load: LoadOptions {
            allow_out_of_spec: args.source.allow_out_of_spec,
        },
        made_calls: MadeCallConfig {
            duration_ms: args.call_duration_ms,
            max_calls: args.max_made_calls,
            outcome_rules,
        },
        journal_bytes: args.journal_bytes,
        admin_token,
        host: Some(args.host.clone()),
    };
    let receiver_faults = match args.webhook.faults() {
        Ok(f) => f,
        Err(e) => {
            say!("{e}");
            return ExitCode::from(2);
        }
    };
    let state = AppState::new(store, config);
    if let Err(e) = state.webhooks().set_faults(receiver_faults) {
        say!("synthflow-mock: --webhook-fault {e}");
        return ExitCode::from(2);
    }
    if state.webhooks().config().default_url.is_some() {
        state.webhooks().warn_if_unsigned();
    }
    for (id, sc) in scenarios {
        if let Err(e) = state.set_scenario(&id, sc) {
            say!("synthflow-mock: refusing to start: scenario: {e}");
            return ExitCode::from(2);
        }
    }
    let watch_dir = args.watch.then(|| args.source.fixtures.clone()).flatten();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                say!("synthflow-mock: cannot listen on {addr}: {e}");
                return ExitCode::from(1);
            }
        };
        let local = listener.local_addr().expect("bound address");
        let n = state.store().len();
        let first = state.store().first_id().unwrap_or_default().to_owned();
        let _watcher = match &watch_dir {
            None => None,
            Some(dir) => match reload::watch(dir, state.clone()) {
                Ok(w) => Some(w),
                Err(e) => {
                    say!("synthflow-mock: cannot watch {}: {e}", dir.display());
                    return ExitCode::from(1);
                }
            },
        };

        if args.memory_trim_secs > 0 {
            trim_memory_every(std::time::Duration::from_secs(args.memory_trim_secs));
        }
        let shutdown = shutdown_signal();
        tracing::info!("{}", state.webhooks().outgoing().rules().describe());
        crate::logs::line(
            true,
            "INFO",
            &format!("synthflow-mock: serving {n} calls on http://{local}/v2/calls/{{call_id}} (e.g. {first})"),
        );
        let options = ServeOptions {
            header_read_timeout: std::time::Duration::from_secs(args.header_read_timeout),
            shutdown_timeout: Some(std::time::Duration::from_secs(args.shutdown_timeout)),
        };
        let hooks = state.webhooks().clone();
        let lifecycles = state.lifecycles().clone();
        let grace = std::time::Duration::from_secs(args.webhook.webhook_shutdown_grace);
        let served = serve_app_with(listener, state, shutdown, options).await;
        // Calls still in their lifecycle are not played on: each is named, with the webhook it
        // would have sent (docs/webhooks.md, "Shutdown").
        let mut unfinished = lifecycles.cancel_all();
        for u in &mut unfinished {
            // The same choice of URL as a delivery's (the call's own, else the default).
            u.webhook_url = hooks
                .destination(u.webhook_url.as_deref())
                .map(|url| synthflow_mock::internals::redact::url(&url));
        }
        let report = hooks.shutdown(grace).await;
        let warn = |text: String| crate::logs::line(false, "WARN", &text);
        let dropped = crate::logs::dropped();
        if dropped > 0 {
            warn(format!("synthflow-mock: {dropped} log line(s) dropped in all: the log output did not keep up"));
        }
        if !unfinished.is_empty() {
            warn(format!(
                "synthflow-mock: {} call(s) still in their lifecycle at shutdown, their post-call webhooks not sent: {}",
                unfinished.len(),
                unfinished.iter().map(|u| u.to_string()).collect::<Vec<_>>().join(", ")
            ));
        }
        if !report.pending.is_empty() {
            warn(format!(
                "synthflow-mock: {} webhook(s) not delivered at shutdown: {}",
                report.pending.len(),
                report.pending.join(", ")
            ));
        }
        match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                say!("synthflow-mock: {e}");
                ExitCode::from(1)
            }
        }
    });
    drop(runtime);
    drop(log_guard);
    code
}

fn load_scenarios(args: &ServeArgs) -> Result<ScenarioFile, String> {
    let mut files = Vec::new();
    if let Some(dir) = &args.source.fixtures {
        let p = dir.join("scenarios.json");
        if p.is_file() {
            files.push(p);
        }
    }
    files.extend(args.scenarios.clone());
    let mut out = ScenarioFile::new();
    for p in files {
        let text = std::fs::read_to_string(&p)
            .map_err(|e| format!("synthflow-mock: cannot read {}: {e}", p.display()))?;
        let file: ScenarioFile = serde_json::from_str(&text).map_err(|e| {
            format!(
                "synthflow-mock: {}:{}:{}: {e}",
                p.display(),
                e.line(),
                e.column()
            )
        })?;
        out.extend(file);
    }
    Ok(out)
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Gives freed heap memory back to the system every `period`, on a thread of its own. glibc
/// keeps what a burst freed (5,000 connections' buffers, a cleared journal) in its arenas for ever
/// otherwise; a trim of an idle heap costs well under a millisecond (bench/flood.sh,
/// docs/hardening.md). A thread, since `malloc_trim` blocks while it works.
fn trim_memory_every(period: std::time::Duration) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("memory-trim".into())
            .spawn(move || loop {
                // The first trim is at once: it gives back what loading a large set freed (100k
                // fixtures: 1.48x the bodies' bytes when ready, 1.58x with the first trim a
                // period later).
                // SAFETY: malloc_trim only returns free pages to the system; it is thread-safe
                // (it takes each arena's lock) and has no precondition.
                unsafe {
                    libc::malloc_trim(0);
                }
                std::thread::sleep(period);
            });
        if let Err(e) = spawned {
            tracing::warn!("no thread to give freed memory back ({e}): it is kept");
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = period;
}

/// The signals that stop the server: SIGTERM and SIGINT (Ctrl-C), registered when this is made.
struct StopSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn new() -> StopSignals {
        StopSignals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
        }
    }

    /// The next SIGTERM or SIGINT.
    async fn next(&mut self) {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match &mut self.term {
                Some(s) => {
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
    }
}

/// Exit code when a second signal cuts the drain short: 130 (128 + SIGINT, the shell's
/// "interrupted"), so a supervisor can tell an abandoned drain from a clean exit (0).
pub const SECOND_SIGNAL_EXIT: i32 = 130;

/// Registers the SIGTERM handler at once (before the start-up line is printed, so a supervisor
/// that signals right after reading it is not racing the registration), then waits for it or
/// Ctrl-C. From then on a second signal exits the process at once ([`SECOND_SIGNAL_EXIT`]).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut signals = StopSignals::new();
    async move {
        signals.next().await;
        tracing::info!(
            "shutting down: finishing in-flight requests (a second signal exits at once)"
        );
        tokio::spawn(async move {
            signals.next().await;
            tracing::warn!("second signal: exiting at once");
            crate::logs::flush();
            std::process::exit(SECOND_SIGNAL_EXIT);
        });
    }
}
