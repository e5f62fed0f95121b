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
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, StatusCode};
use synthflow::client::RawResponse;
use synthflow::contract::{check_call_body, CheckOptions, Violation, ViolationKind};

use crate::redact::{RedactError, Redactor};
use crate::routes::is_well_formed;

/// The environment variable the token is read from.
pub const API_KEY_VAR: &str = "SYNTHFLOW_API_KEY";

/// The API token. Never printed.
#[derive(Clone)]
pub struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// A token from a string (tests); empty is refused.
    pub fn new(token: impl Into<String>) -> Result<Self, String> {
        let t: String = token.into();
        if t.trim().is_empty() {
            return Err(format!("{API_KEY_VAR} is empty"));
        }
        Ok(ApiKey(t))
    }

    /// The token from `SYNTHFLOW_API_KEY`.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(API_KEY_VAR) {
            Ok(t) => ApiKey::new(t),
            Err(_) => Err(format!(
                "{API_KEY_VAR} is not set: export the API key in the environment (it is never \
                 taken from a flag)"
            )),
        }
    }

    /// The token itself, for the request header and for checking it was not written.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The service being recorded from.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: synthflow::Client,
    http: reqwest::Client,
    base_url: String,
    key: ApiKey,
}

impl Upstream {
    /// An upstream at `base_url` (up to and including `/v2`).
    pub fn new(base_url: &str, key: ApiKey, timeout: Duration) -> Result<Self, String> {
        let client = synthflow::Client::builder()
            .base_url(base_url)
            .token(key.expose())
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Upstream {
            base_url: client.base_url().to_owned(),
            client,
            http,
            key,
        })
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The token (to check nothing written holds it).
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// `GET /calls/{id}`, any status; `Err` only for a transport failure (no URL, no token in it).
    pub async fn get_call(&self, id: &str) -> Result<RawResponse, String> {
        self.client
            .get_call_raw(id)
            .await
            .map_err(|e| e.to_string())
    }

    /// Every call id of an agent, paging through `GET /calls?model_id=..` (`limit` 100).
    pub async fn list_call_ids(&self, model_id: &str) -> Result<Vec<String>, String> {
        const LIMIT: u64 = 100;
        let mut ids = Vec::new();
        let mut offset = 0u64;
        loop {
            let mut url = reqwest::Url::parse(&format!("{}/calls", self.base_url))
                .map_err(|e| format!("base URL: {e}"))?;
            url.query_pairs_mut()
                .append_pair("model_id", model_id)
                .append_pair("limit", &LIMIT.to_string())
                .append_pair("offset", &offset.to_string());
            let resp = self
                .http
                .get(url)
                .bearer_auth(self.key.expose())
                .send()
                .await
                .map_err(|e| format!("list calls: {}", e.without_url()))?;
            let status = resp.status().as_u16();
            let body = resp
                .bytes()
                .await
                .map_err(|e| format!("list calls: {}", e.without_url()))?;
            if status != 200 {
                return Err(format!(
                    "list calls (offset {offset}): HTTP {status}: {}",
                    String::from_utf8_lossy(&body)
                        .chars()
                        .take(200)
                        .collect::<String>()
                ));
            }
            let page: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| format!("list calls (offset {offset}): not JSON: {e}"))?;
            let calls = page
                .pointer("/response/calls")
                .and_then(|c| c.as_array())
                .cloned()
                .unwrap_or_default();
            let before = ids.len();
            ids.extend(
                calls
                    .iter()
                    .filter_map(|c| c.get("call_id").and_then(|i| i.as_str()))
                    .map(str::to_owned),
            );
            let total = page
                .pointer("/response/pagination/total_records")
                .and_then(|t| t.as_u64());
            offset += calls.len() as u64;
            let done = calls.is_empty()
                || ids.len() == before
                || total.is_some_and(|t| offset >= t)
                || (total.is_none() && (calls.len() as u64) < LIMIT);
            if done {
                break;
            }
        }
        ids.dedup();
        Ok(ids)
    }
}

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
    Transport(String),
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
        let secret = self.upstream.key.expose();
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
    if crate::redact::contains(body, secret.as_bytes()) {
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

/// The recording proxy: `GET /v2/calls/{call_id}` is fetched from the upstream with the
/// recorder's token (the client's own `Authorization` is ignored), recorded, and answered with the
/// upstream's status and body. The header `x-synthflow-record` says what was done
/// (`written`, `skipped`, `error-written`, `not-written`, `refused`). A transport failure is a 502.
pub fn proxy_app(recorder: Arc<Recorder>) -> Router {
    Router::new()
        .route("/v2/calls/{call_id}", get(proxy_call))
        .fallback(|| async {
            json_error(
                StatusCode::NOT_FOUND,
                "the recording proxy serves GET /v2/calls/{call_id} only",
            )
        })
        .with_state(recorder)
}

async fn proxy_call(State(rec): State<Arc<Recorder>>, UrlPath(id): UrlPath<String>) -> Response {
    let (raw, result) = rec.record(&id).await;
    let word = match &result {
        Ok(o) => {
            eprintln!("record: {id}: {o}");
            o.word()
        }
        Err(e) => {
            eprintln!("record: {id}: {e}");
            "refused"
        }
    };
    let Some(raw) = raw else {
        let (status, what) = match result {
            Err(RecordError::BadId(_)) => (StatusCode::BAD_REQUEST, "malformed call id".to_owned()),
            Err(e) => (StatusCode::BAD_GATEWAY, format!("upstream: {e}")),
            Ok(_) => (StatusCode::BAD_GATEWAY, "no answer".to_owned()),
        };
        let mut resp = json_error(status, &what);
        resp.headers_mut().insert(
            "x-synthflow-record",
            HeaderValue::from_static("not-written"),
        );
        return resp;
    };
    let mut resp = Response::new(Body::from(raw.body.clone()));
    *resp.status_mut() = StatusCode::from_u16(raw.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let ct = raw
        .headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    resp.headers_mut()
        .insert("x-synthflow-record", HeaderValue::from_static(word));
    resp
}

fn json_error(status: StatusCode, description: &str) -> Response {
    let body = serde_json::json!({"detail": {"status": "error", "description": description, "category": "proxy"}});
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Reads an ids file: one id a line; blank lines and `#` comments skipped. A bad id is an error
/// naming its line.
pub fn read_ids_file(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut ids = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let id = line.split('#').next().unwrap_or("").trim();
        if id.is_empty() {
            continue;
        }
        if !is_well_formed(id) {
            return Err(format!(
                "{}:{}: {id:?} is not a well-formed call id",
                path.display(),
                n + 1
            ));
        }
        ids.push(id.to_owned());
    }
    Ok(ids)
}

/// Writes a file atomically ([`crate::atomic_file`]), naming it in the error.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordError> {
    crate::atomic_file::write_atomic(path, bytes).map_err(|source| RecordError::Io {
        path: path.display().to_string(),
        source,
    })
}
