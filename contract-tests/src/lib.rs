//! The contract suite for `GET /v2/calls/{call_id}`, as a library of cases over a [`Target`].
//!
//! The same cases run against the mock (always, in `cargo test`), against the live API (when
//! `SYNTHFLOW_API_KEY` and `SYNTHFLOW_CALL_ID` are set) and against any base URL an integrator
//! points them at. What a 200 body must satisfy is not written here: it is
//! `synthflow::contract::check_call_body` (the vendor's schema, the lossless round trip, the
//! invariants), the same code the mock runs on its fixtures at start-up.
//!
//! Cases:
//! - `get_call[<id>]`: 200, `content-type: application/json`, body passes the contract checks and
//!   holds the call that was asked for;
//! - `unknown_call_id`: a well-formed id that does not exist → the documented 400 (or 404 where the
//!   target is told so) with the live `{"detail":{..}}` body;
//! - `missing_authorization` and `non_bearer_authorization` → 401 "Missing or invalid Authorization header";
//! - `invalid_token` (targets that check tokens) → 401 "Unauthorized: Invalid or expired token.".
//!
//! [`webhook`] checks the other side: a post-call webhook receiver accepts a signed payload and
//! refuses a badly signed or unsigned one.

use std::fmt;
use std::time::Duration;

use synthflow::contract::{check_call_body, check_error_body, CheckOptions};
use synthflow::Client;

pub mod agents;
pub mod drift;
pub mod junit;
pub mod live;
pub mod receiver;
pub mod webhook;

/// The live description of a request without usable credentials.
pub const MISSING_AUTH: &str = "Missing or invalid Authorization header";
/// The live description of a refused token.
pub const INVALID_TOKEN: &str = "Unauthorized: Invalid or expired token.";

/// What the suite runs against.
#[derive(Clone)]
pub struct Target {
    /// A name for reports (`mock`, `live`...).
    pub name: String,
    /// Base URL up to and including `/v2`.
    pub base_url: String,
    /// A token the target accepts.
    pub token: String,
    /// The target refuses tokens it does not know (the live API; a mock started with `--token`).
    pub checks_tokens: bool,
    /// The status the target gives a well-formed unknown id (400 documented; 404 on request).
    pub unknown_id_status: u16,
    /// Accept enum values the vendor's document does not list.
    pub allow_out_of_spec: bool,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .field("checks_tokens", &self.checks_tokens)
            .field("unknown_id_status", &self.unknown_id_status)
            .finish()
    }
}

impl Target {
    /// A target with the documented defaults: any token, unknown id → 400, strict spec.
    pub fn new(
        name: impl Into<String>,
        base_url: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        Target {
            name: name.into(),
            base_url: base_url.into(),
            token: token.into(),
            checks_tokens: false,
            unknown_id_status: 400,
            allow_out_of_spec: false,
            timeout: Duration::from_secs(30),
        }
    }

    fn client(&self, token: Option<&str>) -> Result<Client, String> {
        let mut b = Client::builder()
            .base_url(&self.base_url)
            .timeout(self.timeout);
        if let Some(t) = token {
            b = b.token(t);
        }
        b.build().map_err(|e| e.to_string())
    }
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's name, e.g. `get_call[<id>]`.
    pub name: String,
    /// What failed; empty when the case passed.
    pub failures: Vec<String>,
}

impl CaseResult {
    /// No failure.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The results of a run.
#[derive(Debug, Clone, Default)]
pub struct SuiteReport {
    /// One entry per case, in run order.
    pub cases: Vec<CaseResult>,
}

impl SuiteReport {
    /// Every case passed.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(CaseResult::passed)
    }

    /// The failed cases.
    pub fn failed(&self) -> Vec<&CaseResult> {
        self.cases.iter().filter(|c| !c.passed()).collect()
    }
}

impl fmt::Display for SuiteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.cases {
            writeln!(f, "{} {}", if c.passed() { "PASS" } else { "FAIL" }, c.name)?;
            for failure in &c.failures {
                writeln!(f, "     {failure}")?;
            }
        }
        let failed = self.failed().len();
        write!(f, "{} passed, {} failed", self.cases.len() - failed, failed)
    }
}

/// Runs every case: `get_call` for each id, then the error paths.
pub async fn run_suite(target: &Target, call_ids: &[String]) -> SuiteReport {
    let mut report = SuiteReport::default();
    for id in call_ids {
        report.cases.push(get_call(target, id).await);
    }
    report.cases.push(unknown_call_id(target).await);
    report.cases.push(missing_authorization(target).await);
    report.cases.push(non_bearer_authorization(target).await);
    if target.checks_tokens {
        report.cases.push(invalid_token(target).await);
    }
    report
}

/// `get_call[<id>]`.
pub async fn get_call(target: &Target, call_id: &str) -> CaseResult {
    let name = format!("get_call[{call_id}]");
    let mut failures = Vec::new();
    let raw = match target.client(Some(&target.token)) {
        Ok(c) => c.get_call_raw(call_id).await,
        Err(e) => return fail(name, e),
    };
    let raw = match raw {
        Ok(r) => r,
        Err(e) => return fail(name, format!("request failed: {e}")),
    };
    if raw.status != 200 {
        failures.push(format!(
            "status: expected 200, got {} ({})",
            raw.status,
            snippet(&raw.body)
        ));
        return CaseResult { name, failures };
    }
    check_json_content_type(raw.content_type(), &mut failures);
    let report = check_call_body(
        &raw.body,
        Some(call_id),
        CheckOptions {
            allow_out_of_spec: target.allow_out_of_spec,
        },
    );
    failures.extend(report.violations.iter().map(|v| format!("body {v}")));
    CaseResult { name, failures }
}

/// `unknown_call_id`: an id that cannot exist gets the documented error.
pub async fn unknown_call_id(target: &Target) -> CaseResult {
    let id = "00000000-0000-4000-8000-00000000dead";
    error_case(
        "unknown_call_id",
        target,
        Some(&target.token),
        id,
        target.unknown_id_status,
        None,
    )
    .await
}

/// `missing_authorization`: no header at all.
pub async fn missing_authorization(target: &Target) -> CaseResult {
    error_case(
        "missing_authorization",
        target,
        None,
        &probe_id(),
        401,
        Some(MISSING_AUTH),
    )
    .await
}

/// `non_bearer_authorization`: a scheme other than Bearer.
pub async fn non_bearer_authorization(target: &Target) -> CaseResult {
    let name = "non_bearer_authorization";
    let url = format!(
        "{}/calls/{}",
        target.base_url.trim_end_matches('/'),
        probe_id()
    );
    let http = match reqwest::Client::builder().timeout(target.timeout).build() {
        Ok(c) => c,
        Err(e) => return fail(name.into(), e.to_string()),
    };
    match http
        .get(url)
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
    {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = resp.bytes().await.unwrap_or_default();
            judge_error(name, status, ct.as_deref(), &body, 401, Some(MISSING_AUTH))
        }
        Err(e) => fail(name.into(), format!("request failed: {}", e.without_url())),
    }
}

/// `invalid_token`: a Bearer token the target does not know.
pub async fn invalid_token(target: &Target) -> CaseResult {
    error_case(
        "invalid_token",
        target,
        Some("contract-tests-not-a-real-token"),
        &probe_id(),
        401,
        Some(INVALID_TOKEN),
    )
    .await
}

/// The id used where any id will do (auth is checked before the id).
fn probe_id() -> String {
    "00000000-0000-4000-8000-000000000000".to_owned()
}

async fn error_case(
    name: &str,
    target: &Target,
    token: Option<&str>,
    call_id: &str,
    want_status: u16,
    want_description: Option<&str>,
) -> CaseResult {
    let client = match target.client(token) {
        Ok(c) => c,
        Err(e) => return fail(name.into(), e),
    };
    match client.get_call_raw(call_id).await {
        Ok(raw) => judge_error(
            name,
            raw.status,
            raw.content_type(),
            &raw.body,
            want_status,
            want_description,
        ),
        Err(e) => fail(name.into(), format!("request failed: {e}")),
    }
}

fn judge_error(
    name: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    want_status: u16,
    want_description: Option<&str>,
) -> CaseResult {
    let mut failures = Vec::new();
    if status != want_status {
        failures.push(format!(
            "status: expected {want_status}, got {status} ({})",
            snippet(body)
        ));
    }
    check_json_content_type(content_type, &mut failures);
    failures.extend(
        check_error_body(body, want_description)
            .into_iter()
            .map(|v| format!("body {v}")),
    );
    CaseResult {
        name: name.into(),
        failures,
    }
}

fn check_json_content_type(ct: Option<&str>, failures: &mut Vec<String>) {
    let ok = ct.is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if !ok {
        failures.push(format!(
            "content-type: expected application/json, got {ct:?}"
        ));
    }
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(160).collect()
}

fn fail(name: String, why: String) -> CaseResult {
    CaseResult {
        name,
        failures: vec![why],
    }
}
