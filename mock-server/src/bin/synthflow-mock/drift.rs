//! `synthflow-mock drift`: the drift report (`synthflow::contract::drift`) over recorded bodies,
//! the upstream's current answers, and the comparison of the two.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;
use synthflow::contract::drift::{DriftAnalyzer, DriftReport};
use synthflow_mock::tools::atomic_file::write_atomic;
use synthflow_mock::tools::validate::collect_files;

/// Report how real answers depart from the vendor's document and from recorded fixtures. Exit
/// status: 0 no drift, 1 drift, 2 bad usage. The token (when the upstream is asked) is read from
/// SYNTHFLOW_API_KEY. Asking the upstream (`--against`, `--id`, `--ids`) needs the `online` feature;
/// files are analysed in every build.
#[derive(Args, Debug)]
#[cfg_attr(not(feature = "online"), allow(dead_code))]
pub struct DriftArgs {
    /// Recorded 200 bodies to analyse offline: files or folders (`errors/` folders are skipped).
    paths: Vec<PathBuf>,
    /// A recorded fixture folder: ask the upstream for each of its ids (unless --id/--ids name
    /// others), and compare each answer with the recorded fixture.
    #[arg(long, value_name = "DIR")]
    against: Option<PathBuf>,
    /// Ask the upstream for this call id (repeatable).
    #[arg(long = "id", value_name = "ID")]
    id: Vec<String>,
    /// Ask the upstream for the ids of this file (one a line, `#` comments).
    #[arg(long, value_name = "FILE")]
    ids: Option<PathBuf>,
    /// The upstream base URL, up to and including /v2.
    #[arg(
        long,
        default_value = "https://api.synthflow.ai/v2",
        value_name = "URL"
    )]
    upstream: String,
    /// The --against fixtures were recorded with --no-redact: compare raw answers.
    #[arg(long)]
    no_redact: bool,
    /// The --against fixtures were recorded with --remap-ids.
    #[arg(long, conflicts_with = "no_redact")]
    remap_ids: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: DriftFormat,
    /// Also write the JSON report to this file (atomically).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Timeout of one upstream request, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum DriftFormat {
    Table,
    Json,
}

pub fn run(args: DriftArgs) -> ExitCode {
    match analyse(&args) {
        Ok(report) => {
            match args.format {
                DriftFormat::Table => print!("{}", report.to_table()),
                DriftFormat::Json => println!("{}", report.to_json()),
            }
            if let Some(out) = &args.output {
                if let Err(e) = write_atomic(out, report.to_json().as_bytes()) {
                    eprintln!("synthflow-mock drift: {}: {e}", out.display());
                    return ExitCode::from(2);
                }
            }
            if report.has_drift() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("synthflow-mock drift: {e}");
            ExitCode::from(2)
        }
    }
}

/// Files, then the upstream when asked (`online`).
fn analyse(args: &DriftArgs) -> Result<DriftReport, String> {
    let drift = analyse_files(&args.paths)?;
    if args.against.is_none() && args.id.is_empty() && args.ids.is_none() {
        if args.paths.is_empty() {
            return Err(
                "nothing to analyse: give recorded files, --against DIR, or --id/--ids".into(),
            );
        }
        return Ok(drift.finish());
    }
    #[cfg(feature = "online")]
    return online::analyse(args, drift);
    #[cfg(not(feature = "online"))]
    Err(
        "asking the upstream (--against, --id, --ids) needs a build with the `online` feature: \
         cargo install synthflow-mock --features online"
            .into(),
    )
}

/// Recorded bodies, offline.
fn analyse_files(paths: &[PathBuf]) -> Result<DriftAnalyzer, String> {
    let mut drift = DriftAnalyzer::new();
    for p in paths {
        let mut files = Vec::new();
        collect_files(p, &mut files).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        for f in files {
            if f.parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "errors")
            {
                continue;
            }
            drift.observe(&f.display().to_string(), &read_json(&f)?);
        }
    }
    Ok(drift)
}

/// The upstream's current answers, and their comparison with recorded fixtures.
#[cfg(feature = "online")]
mod online {
    use std::time::Duration;

    use serde_json::Value;
    use synthflow::contract::drift::{DriftAnalyzer, DriftReport};
    use synthflow_mock::tools::record::{self, ApiKey, Upstream};
    use synthflow_mock::tools::redact::Redactor;
    use synthflow_mock::tools::validate::collect_files;

    use super::{describe, read_json, DriftArgs};

    pub(super) fn analyse(
        args: &DriftArgs,
        mut drift: DriftAnalyzer,
    ) -> Result<DriftReport, String> {
        let mut ids = args.id.clone();
        if let Some(file) = &args.ids {
            ids.extend(record::read_ids_file(file).map_err(|e| e.to_string())?);
        }
        let recorded_dir = args.against.as_ref().map(|d| {
            if d.join("calls").is_dir() {
                d.join("calls")
            } else {
                d.clone()
            }
        });
        if ids.is_empty() {
            if let Some(dir) = &recorded_dir {
                let mut files = Vec::new();
                collect_files(dir, &mut files)
                    .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
                ids.extend(
                    files
                        .iter()
                        .filter_map(|f| f.file_stem())
                        .map(|s| s.to_string_lossy().into_owned()),
                );
                if args.remap_ids {
                    return Err(
                    "--against with --remap-ids needs the original ids: pass them with --id/--ids"
                        .into(),
                );
                }
            }
        }
        if ids.is_empty() {
            if args.paths.is_empty() {
                return Err(
                    "nothing to analyse: give recorded files, --against DIR, or --id/--ids".into(),
                );
            }
            return Ok(drift.finish());
        }
        let key = ApiKey::from_env().map_err(|e| e.to_string())?;
        let secret = key.expose().to_owned();
        let upstream = Upstream::new(&args.upstream, key, Duration::from_secs(args.timeout))
            .map_err(|e| format!("--upstream: {e}"))?;
        let redactor = (!args.no_redact).then(|| Redactor::from_env(args.remap_ids));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async {
            for id in &ids {
                let raw = match upstream.get_call(id).await {
                    Ok(r) => r,
                    Err(e) => {
                        drift.upstream_error(id, format!("transport failure: {e}"));
                        continue;
                    }
                };
                if raw.status != 200 {
                    drift.upstream_error(id, format!("HTTP {}{}", raw.status, describe(&raw.body)));
                    continue;
                }
                let current: Value = match serde_json::from_slice(&raw.body) {
                    Ok(v) => v,
                    Err(e) => {
                        drift.upstream_error(
                            id,
                            format!("HTTP 200 with a body that is not JSON: {e}"),
                        );
                        continue;
                    }
                };
                drift.observe(id, &current);
                let Some(dir) = &recorded_dir else { continue };
                let file_id = redactor.as_ref().map_or_else(|| id.clone(), |r| r.id(id));
                let fixture = dir.join(format!("{file_id}.json"));
                if !fixture.is_file() {
                    continue;
                }
                let recorded = read_json(&fixture)?;
                let comparable = match &redactor {
                    Some(r) => r
                        .call_body(&raw.body, &[&secret])
                        .map_err(|e| format!("{id}: {e}"))
                        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))?,
                    None => current,
                };
                drift.compare(id, &recorded, &comparable);
            }
            Ok::<(), String>(())
        })?;
        Ok(drift.finish())
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{}: line {} column {}: not valid JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// `: <description>` of an error body, when it has one (never the whole body).
#[cfg(feature = "online")]
fn describe(body: &[u8]) -> String {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return String::new(),
    };
    let d = v
        .pointer("/detail/description")
        .or_else(|| v.get("detail"))
        .or_else(|| v.get("message"))
        .and_then(Value::as_str);
    d.map(|d| format!(": {}", d.chars().take(120).collect::<String>()))
        .unwrap_or_default()
}
