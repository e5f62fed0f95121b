//! Ready-made `wiremock::Mock`s for suites that already run a `wiremock::MockServer`: a call, the
//! documented 400, the two 401s, a 429 (with or without `Retry-After`), 500 and 503, with the live
//! service's bodies from the embedded fixture set.
//!
//! ```no_run
//! # async fn run() {
//! use synthflow_mock::mocks;
//! let server = wiremock::MockServer::start().await;
//! let id = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";
//! mocks::rate_limited(id, Some(2)).up_to_n_times(1).mount(&server).await;
//! mocks::call(id).expect(1).mount(&server).await;
//! // base URL for the client under test: format!("{}/v2", server.uri())
//! # }
//! ```

use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::store::Store;

fn embedded() -> Store {
    Store::embedded().expect("the embedded fixtures load (checked by the crate's own tests)")
}

fn get_call(id: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET")).and(path(format!("/v2/calls/{id}")))
}

fn json(status: u16, body: impl AsRef<[u8]>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_ref().to_vec(), "application/json")
}

/// The body of an embedded call fixture.
pub fn call_body(id: &str) -> Option<bytes::Bytes> {
    embedded().get(id).map(|f| f.body.clone())
}

/// `GET /v2/calls/{id}` answers the embedded fixture of `id` (panics on an id the set lacks: a
/// test bug), as the mock does.
pub fn call(id: &str) -> Mock {
    let body = call_body(id).unwrap_or_else(|| panic!("no embedded fixture for call id {id:?}"));
    get_call(id).respond_with(json(200, body))
}

/// `GET /v2/calls/{id}` answers `body` (any bytes: your own call).
pub fn call_with_body(id: &str, body: impl AsRef<[u8]>) -> Mock {
    get_call(id).respond_with(json(200, body))
}

/// The documented 400 for an unknown or malformed call id.
pub fn bad_request(id: &str) -> Mock {
    get_call(id).respond_with(json(400, embedded().errors().bad_request.render()))
}

/// The 401 for a missing `Authorization` header, on every call id.
pub fn missing_auth() -> Mock {
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"^/v2/calls/[^/]+$"))
        .respond_with(json(401, embedded().errors().missing_auth.render()))
}

/// The 401 for a bad or expired token, on every call id.
pub fn invalid_token() -> Mock {
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"^/v2/calls/[^/]+$"))
        .respond_with(json(401, embedded().errors().invalid_token.render()))
}

/// A 429 for `id`, with `Retry-After: <secs>` when given.
pub fn rate_limited(id: &str, retry_after: Option<u32>) -> Mock {
    let mut t = json(429, embedded().errors().rate_limited.render());
    if let Some(s) = retry_after {
        t = t.insert_header("retry-after", s.to_string().as_str());
    }
    get_call(id).respond_with(t)
}

/// A 500 for `id`.
pub fn internal_error(id: &str) -> Mock {
    get_call(id).respond_with(json(500, embedded().errors().internal.render()))
}

/// A 503 for `id`.
pub fn unavailable(id: &str) -> Mock {
    get_call(id).respond_with(json(503, embedded().errors().unavailable.render()))
}
