//! Recording fixtures from an upstream (the live API, or any base URL): a proxy that records each
//! call a client asks for, and bulk capture from a list of ids or an agent's call list.
//!
//! - The token comes from the environment (`SYNTHFLOW_API_KEY`, see [`ApiKey::from_env`]), never
//!   from a flag, and is never written: not in a fixture, a log line or a `Debug` output.
//! - A 200 body becomes `calls/<call_id>.json` in the project's fixture format (compact JSON; the
//!   exact upstream bytes when not redacting), written atomically (temp file + rename); an existing
//!   file is kept unless [`RecordOptions::overwrite`].
//! - Every body is checked with `synthflow::contract::check_call_body` before it is written
//!   (enum values outside the spec are accepted and reported), so a recorded folder always loads in
//!   the mock. A body that fails is refused with its violations, and not written.
//! - An upstream error status is written as an error fixture (`errors/<status>.json`,
//!   `errors/401-invalid.json`) only with [`RecordOptions::record_errors`]; a transport failure is
//!   reported, never written.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use synthflow::client::RawResponse;
use synthflow::contract::{check_call_body, CheckOptions, Violation, ViolationKind};

use crate::store::is_well_formed;
use crate::tools::redact::{RedactError, Redactor};

mod proxy;
mod upstream;

pub use proxy::proxy_app;
pub use upstream::{ApiKey, ApiKeyError, Upstream, UpstreamError, API_KEY_VAR};
/// How recorded bodies are written.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The fixture folder (`calls/` and `errors/` are created in it).
    pub out_dir: PathBuf,
    /// Redaction (on by default in the CLI); `None` writes the upstream's exact bytes.
    pub redactor: Option<Redactor>,
    /// Replace fixtures that exist; by default they are kept.
    pub overwrite: bool,
    /// Write upstream error answers as error fixtures.
    pub record_errors: bool,
}

/// What recording one id did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A fixture was written (`out_of_spec`: it holds enum values the document does not list; serve
    /// it with `--allow-out-of-spec`).
    Written {
        /// The id in the fixture (remapped with `--remap-ids`).
        id: String,
        /// The file.
        path: PathBuf,
        /// Holds values outside the spec.
        out_of_spec: bool,
    },
    /// The fixture exists and `overwrite` is off.
    Skipped {
        /// The file kept.
        path: PathBuf,
    },
    /// The upstream answered an error, written as an error fixture.
    ErrorWritten {
        /// Its status.
        status: u16,
        /// The file.
        path: PathBuf,
    },
    /// The upstream answered an error, not written (`record_errors` is off).
    UpstreamStatus {
        /// Its status.
        status: u16,
    },
}

impl Outcome {
    /// A short word for the proxy's `x-synthflow-record` header and summaries.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Written { .. } => "written",
            Outcome::Skipped { .. } => "skipped",
            Outcome::ErrorWritten { .. } => "error-written",
            Outcome::UpstreamStatus { .. } => "not-written",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Written {
                path, out_of_spec, ..
            } => {
                write!(f, "wrote {}", path.display())?;
                if *out_of_spec {
                    f.write_str(" (values outside the spec: serve with --allow-out-of-spec)")?;
                }
                Ok(())
            }
            Outcome::Skipped { path } => {
                write!(
                    f,
                    "kept {} (exists; --overwrite replaces it)",
                    path.display()
                )
            }
            Outcome::ErrorWritten { status, path } => {
                write!(f, "upstream answered {status}; wrote {}", path.display())
            }
            Outcome::UpstreamStatus { status } => write!(
                f,
                "upstream answered {status}; not written (--record-errors writes error fixtures)"
            ),
        }
    }
}

/// Why an id could not be recorded. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The id cannot be a call id (it would not be a safe file name either).
    #[error("{0:?} is not a well-formed call id")]
    BadId(String),
    /// The upstream could not be reached.
    #[error("transport failure: {0}")]
    Transport(#[source] UpstreamError),
    /// The body breaks the contract; not written.
    #[error("refused, the body breaks the contract:\n{}", .0.iter().map(|v| format!("  {v}")).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<Violation>),
    /// Redaction failed.
    #[error("redaction: {0}")]
    Redact(#[from] RedactError),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Records from an upstream into a folder.
#[derive(Debug, Clone)]
pub struct Recorder {
    upstream: Upstream,
    opts: RecordOptions,
}

impl Recorder {
    /// A recorder.
    pub fn new(upstream: Upstream, opts: RecordOptions) -> Self {
        Recorder { upstream, opts }
    }

    /// The upstream.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The options.
    pub fn options(&self) -> &RecordOptions {
        &self.opts
    }

    /// Fetches one id and records it. Returns the upstream's answer (for the proxy to pass on)
    /// when there was one.
    pub async fn record(&self, id: &str) -> (Option<RawResponse>, Result<Outcome, RecordError>) {
        if !is_well_formed(id) {
            return (None, Err(RecordError::BadId(id.to_owned())));
        }
        let raw = match self.upstream.get_call(id).await {
            Ok(r) => r,
            Err(e) => return (None, Err(RecordError::Transport(e))),
        };
        let result = self.store(id, &raw);
        (Some(raw), result)
    }

    /// Writes what the upstream answered for `id`.
    pub fn store(&self, id: &str, raw: &RawResponse) -> Result<Outcome, RecordError> {
        let secret = self.upstream.key().expose();
        if raw.status != 200 {
            if !self.opts.record_errors {
                return Ok(Outcome::UpstreamStatus { status: raw.status });
            }
            let name = match raw.status {
                401 => "401-invalid.json".to_owned(),
                s => format!("{s}.json"),
            };
            let bytes = match &self.opts.redactor {
                Some(r) => r.error_body(&raw.body, &[secret])?,
                None => {
                    if serde_json::from_slice::<serde_json::Value>(&raw.body).is_err() {
                        return Err(RecordError::Refused(vec![Violation {
                            kind: ViolationKind::Json,
                            pointer: String::new(),
                            message: format!("the {} error body is not JSON", raw.status),
                        }]));
                    }
                    refuse_secret(&raw.body, secret)?;
                    raw.body.to_vec()
                }
            };
            let path = self.opts.out_dir.join("errors").join(name);
            if path.exists() && !self.opts.overwrite {
                return Ok(Outcome::Skipped { path });
            }
            write_atomic(&path, &bytes)?;
            return Ok(Outcome::ErrorWritten {
                status: raw.status,
                path,
            });
        }
        let (file_id, bytes) = match &self.opts.redactor {
            Some(r) => (r.id(id), r.call_body(&raw.body, &[secret])?),
            None => {
                refuse_secret(&raw.body, secret)?;
                (id.to_owned(), raw.body.to_vec())
            }
        };
        let report = check_call_body(
            &bytes,
            Some(&file_id),
            CheckOptions {
                allow_out_of_spec: true,
            },
        );
        if !report.is_ok() {
            return Err(RecordError::Refused(report.violations));
        }
        let out_of_spec = !check_call_body(&bytes, Some(&file_id), CheckOptions::default())
            .violations
            .is_empty();
        let path = self
            .opts
            .out_dir
            .join("calls")
            .join(format!("{file_id}.json"));
        if path.exists() && !self.opts.overwrite {
            return Ok(Outcome::Skipped { path });
        }
        write_atomic(&path, &bytes)?;
        Ok(Outcome::Written {
            id: file_id,
            path,
            out_of_spec,
        })
    }

    /// Records every id in turn; one line per id on `log`.
    pub async fn record_all(&self, ids: &[String], log: &mut dyn Write) -> Summary {
        let mut summary = Summary::default();
        for id in ids {
            let (_, result) = self.record(id).await;
            let _ = match &result {
                Ok(o) => writeln!(log, "{id}: {o}"),
                Err(e) => writeln!(log, "{id}: {e}"),
            };
            summary.add(&result);
        }
        summary
    }
}

fn refuse_secret(body: &[u8], secret: &str) -> Result<(), RecordError> {
    if crate::tools::redact::contains(body, secret.as_bytes()) {
        return Err(RecordError::Redact(RedactError::SecretSurvived));
    }
    Ok(())
}

/// Counts of a bulk run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Fixtures written.
    pub written: usize,
    /// Kept because they existed.
    pub skipped: usize,
    /// Upstream errors (written or not).
    pub upstream_errors: usize,
    /// Transport failures, refusals, bad ids, write failures.
    pub failed: usize,
}

impl Summary {
    fn add(&mut self, r: &Result<Outcome, RecordError>) {
        match r {
            Ok(Outcome::Written { .. }) => self.written += 1,
            Ok(Outcome::Skipped { .. }) => self.skipped += 1,
            Ok(Outcome::ErrorWritten { .. } | Outcome::UpstreamStatus { .. }) => {
                self.upstream_errors += 1
            }
            Err(_) => self.failed += 1,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} written, {} kept, {} upstream error(s), {} failed",
            self.written, self.skipped, self.upstream_errors, self.failed
        )
    }
}

/// Reads an ids file: one id a line; blank lines and `#` comments skipped. A bad id is an error
/// naming its line.
pub fn read_ids_file(path: &Path) -> Result<Vec<String>, IdsFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| IdsFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let mut ids = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let id = line.split('#').next().unwrap_or("").trim();
        if id.is_empty() {
            continue;
        }
        if !is_well_formed(id) {
            return Err(IdsFileError::BadId {
                path: path.display().to_string(),
                line: n + 1,
                id: id.to_owned(),
            });
        }
        ids.push(id.to_owned());
    }
    Ok(ids)
}

/// Why an ids file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IdsFileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a call id.
    #[error("{path}:{line}: {id:?} is not a well-formed call id")]
    BadId {
        /// The file.
        path: String,
        /// The line, from 1.
        line: usize,
        /// What the line holds.
        id: String,
    },
}

/// Writes a file atomically ([`crate::tools::atomic_file`]), naming it in the error.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordError> {
    crate::tools::atomic_file::write_atomic(path, bytes).map_err(|source| RecordError::Io {
        path: path.display().to_string(),
        source,
    })
}
