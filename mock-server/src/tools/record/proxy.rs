//! The recording proxy: a client asks it for calls, it fetches them from the upstream, records
//! them and passes the answers on.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, StatusCode};

use super::{RecordError, Recorder};

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
