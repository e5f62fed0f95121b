//! Issue 12's attacks, kept as tests: fat requests against the journal (byte bound, paging,
//! release on clear), the admin API driven from another origin or through DNS rebinding, the admin
//! token, and secrets in every form tried (journal, logs, admin answers).

use std::io::{Read, Write};
use std::net::TcpStream;

use axum::body::Body;
use http::Request;
use serde_json::Value;
use synthflow_mock::internals::auth::AdminToken;
use synthflow_mock::internals::journal::{DEFAULT_MAX_BYTES, FIELD_MAX};
use synthflow_mock::{app, AdminAccess, AppState, Config, MockServer, Store};
use tower::ServiceExt;

use crate::support;

const ID: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";

fn admin_config() -> Config {
    Config {
        admin: AdminAccess::Loopback,
        journal_size: 1000,
        ..Config::default()
    }
}

/// In-process request from a loopback peer; the answer's status and body.
async fn send(state: &AppState, req: Request<Body>) -> (u16, Vec<u8>) {
    let mut req = req;
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        "127.0.0.1:9".parse::<std::net::SocketAddr>().unwrap(),
    ));
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

fn fat_request() -> Request<Body> {
    let query = format!("q={}", "x".repeat(60_000));
    let mut b = Request::get(format!("/v2/calls/{ID}?{query}")).header("authorization", "Bearer t");
    let value = "v".repeat(4_000);
    for i in 0..80 {
        b = b.header(format!("x-fat-{i}"), value.as_str());
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn fat_requests_stay_within_the_journal_byte_bound_and_pages_stay_small() {
    let state = AppState::new(Store::embedded().unwrap(), admin_config());
    for _ in 0..300 {
        let (status, _) = send(&state, fat_request()).await;
        assert_eq!(status, 200);
    }
    let (kept, bytes) = state.journal().ring().usage();
    assert!(bytes <= DEFAULT_MAX_BYTES, "{bytes}");
    assert!(kept > 100, "entries are cut, not dropped whole: {kept}");
    for e in state.journal().entries() {
        assert!(e.query.as_ref().unwrap().len() <= FIELD_MAX + 32);
        assert!(e.query.as_ref().unwrap().ends_with("bytes cut]"));
    }

    // The largest page the API gives is still a few MB.
    let (status, body) = send(
        &state,
        Request::get("/__admin/requests?limit=1000")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.len() < 10 * 1024 * 1024, "{}", body.len());
    eprintln!(
        "journal {bytes} B in {kept} entries; largest page {} B",
        body.len()
    );

    let (status, _) = send(
        &state,
        Request::delete("/__admin/requests")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(state.journal().ring().usage(), (0, 0));
}

#[tokio::test]
async fn the_journal_is_paged_with_a_cursor() {
    let state = AppState::new(Store::embedded().unwrap(), admin_config());
    for _ in 0..250 {
        send(
            &state,
            Request::get(format!("/v2/calls/{ID}"))
                .header("authorization", "Bearer t")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    }
    let page = |q: &'static str| {
        let state = state.clone();
        async move {
            let (status, body) = send(
                &state,
                Request::get(format!("/__admin/requests{q}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            serde_json::from_slice::<Value>(&body).unwrap()
        }
    };
    let first = page("").await;
    assert_eq!(first["requests"].as_array().unwrap().len(), 100);
    assert_eq!(first["requests"][0]["seq"], 1);
    assert_eq!(first["next_after"], 100);
    let last = page("?after=200&limit=1000").await;
    assert_eq!(last["requests"].as_array().unwrap().len(), 50);
    assert_eq!(last["next_after"], Value::Null);
    let (status, body) = send(
        &state,
        Request::get("/__admin/requests?limit=5000")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        serde_json::from_slice::<Value>(&body).is_ok(),
        "JSON refusal"
    );
}

/// A raw HTTP/1.1 exchange (to send exactly the `Host` and `Origin` a browser would); the status.
fn raw(addr: std::net::SocketAddr, head: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().unwrap();
    (status, text)
}

async fn journaled_mock(config: Config) -> MockServer {
    let mock = MockServer::builder().config(config).start().await.unwrap();
    support::get(&mock, &format!("/calls/{ID}")).await;
    assert_eq!(mock.received_requests().unwrap().len(), 1);
    mock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_origin_reset_is_403_and_changes_nothing() {
    let mock = journaled_mock(admin_config()).await;
    let addr = mock.addr();
    let (status, text) = tokio::task::spawn_blocking(move || {
        raw(
            addr,
            &format!(
                "POST /__admin/reset HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://evil.example\r\n\
                 Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
            ),
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("another origin"), "{text}");
    assert_eq!(
        mock.received_requests().unwrap().len(),
        1,
        "journal not cleared"
    );

    // The mock's own origin passes.
    let (status, text) = tokio::task::spawn_blocking(move || {
        raw(
            addr,
            &format!(
                "POST /__admin/reset HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            ),
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 200, "{text}");
    assert_eq!(mock.received_requests().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_403_for_every_admin_method() {
    let mock = journaled_mock(admin_config()).await;
    let addr = mock.addr();
    for (method, path) in [
        ("POST", "/__admin/reset"),
        ("DELETE", "/__admin/requests"),
        ("GET", "/__admin/requests"),
        ("PUT", "/__admin/faults"),
        ("DELETE", format!("/__admin/calls/{ID}").leak() as &str),
    ] {
        let (status, text) = tokio::task::spawn_blocking(move || {
            raw(
                addr,
                &format!(
                    "{method} {path} HTTP/1.1\r\nHost: rebound.evil.example:{}\r\n\
                     Content-Length: 2\r\nConnection: close\r\n\r\n{{}}",
                    addr.port()
                ),
            )
        })
        .await
        .unwrap();
        assert_eq!(status, 403, "{method} {path}: {text}");
        assert!(text.contains("\"detail\""), "JSON body: {text}");
    }
    assert_eq!(
        mock.received_requests().unwrap().len(),
        1,
        "journal not cleared"
    );
    assert!(mock.call_ids().contains(&ID.to_owned()), "call not deleted");
}

#[tokio::test]
async fn the_admin_token_is_required_when_set() {
    let mock = journaled_mock(Config {
        admin_token: AdminToken::new("adm1n-t0ken"),
        ..admin_config()
    })
    .await;
    let url = format!("{}/__admin/reset", mock.uri());
    let c = reqwest::Client::new();
    for auth in [None, Some("Bearer wrong"), Some("Basic adm1n-t0ken")] {
        let mut r = c.post(&url);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        assert_eq!(r.send().await.unwrap().status(), 403, "{auth:?}");
    }
    assert_eq!(mock.received_requests().unwrap().len(), 1);
    let r = c
        .post(&url)
        .bearer_auth("adm1n-t0ken")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(mock.received_requests().unwrap().len(), 0);
}

#[test]
fn admin_any_without_a_token_refuses_to_start() {
    let out = std::process::Command::new(support::BIN)
        .args(["--admin", "any", "--port", "0"])
        .env_remove("SYNTHFLOW_MOCK_FIXTURES")
        .env_remove("SYNTHFLOW_MOCK_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--admin any needs --admin-token"), "{err}");
}

/// Every form of secret tried in issue 12 (and the widened list): none reaches the journal, the
/// log or the admin answers.
#[test]
fn no_secret_in_any_form_reaches_the_journal_the_log_or_the_admin_api() {
    // (query, header name, header value); each secret is unique, so a leak names its form.
    let table: &[(&str, &str, &str)] = &[
        ("%74oken=S3CR3T-01", "", ""),
        ("%2574oken=S3CR3T-02", "", ""),
        ("auth=S3CR3T-03", "", ""),
        ("access_token=S3CR3T-04", "", ""),
        ("api_key=S3CR3T-05", "", ""),
        ("Session=S3CR3T-06", "", ""),
        ("jwt=S3CR3T-07", "", ""),
        ("x%2Dcredential=S3CR3T-08", "", ""),
        ("password=S3CR3T-09", "", ""),
        ("private_key=S3CR3T-10", "", ""),
        ("bearer=S3CR3T-11", "", ""),
        ("a=1&sig%6eature=S3CR3T-12", "", ""),
        ("", "x-auth", "S3CR3T-13"),
        ("", "x-credential", "S3CR3T-14"),
        ("", "x-api-key", "S3CR3T-15"),
        ("", "cookie", "session=S3CR3T-16"),
        ("", "proxy-authorization", "Basic S3CR3T-17"),
        ("", "x-session-id", "S3CR3T-18"),
        ("", "x-jwt", "S3CR3T-19"),
        ("", "x-bearer", "S3CR3T-20"),
        ("", "x-private-key", "S3CR3T-21"),
        ("", "x-auth-token", "S3CR3T-22"),
        ("", "x-client-secret", "S3CR3T-23"),
    ];
    // The real binary, so its log (stderr) is the one users get.
    let running = support::spawn_capturing(
        &[
            "--port",
            "0",
            "--admin",
            "loopback",
            "--shutdown-timeout",
            "1",
        ],
        &[],
    );
    let addr: std::net::SocketAddr = running.addr.parse().unwrap();
    for (query, name, value) in table {
        let target = if query.is_empty() {
            format!("/v2/calls/{ID}")
        } else {
            format!("/v2/calls/{ID}?{query}")
        };
        let extra = if name.is_empty() {
            String::new()
        } else {
            format!("{name}: {value}\r\n")
        };
        let (status, text) = raw(
            addr,
            &format!(
                "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer S3CR3T-00\r\n\
                 {extra}Connection: close\r\n\r\n"
            ),
        );
        assert_eq!(status, 200, "{text}");
    }
    // A 20 kB path: the log line carries 512 bytes of it.
    let (status, _) = raw(
        addr,
        &format!(
            "GET /v2/calls/{} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer t\r\n\
             Connection: close\r\n\r\n",
            "b".repeat(20_000)
        ),
    );
    assert_eq!(status, 400);
    let (status, admin) = raw(
        addr,
        &format!(
            "GET /__admin/requests?limit=1000 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 200);
    let logs = running.stop().stderr;
    assert!(
        logs.matches("request").count() >= table.len(),
        "one log line a request: {logs}"
    );
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("synthflow_mock::request"))
        .collect();
    assert_eq!(
        lines.len(),
        table.len() + 2,
        "the table, the long path, the admin GET: {logs}"
    );
    for l in &lines {
        assert_eq!(l.matches("method").count(), 1, "one method field: {l}");
        assert!(l.len() < 1024, "a bounded line: {} bytes", l.len());
    }
    assert!(
        lines.iter().any(|l| l.contains("…[19")),
        "the long path is cut: {logs}"
    );
    for (where_, text) in [("admin answer (journal)", &admin), ("log", &logs)] {
        assert!(
            !text.contains("S3CR3T"),
            "a secret in the {where_}: {}",
            &text[text.find("S3CR3T").unwrap().saturating_sub(120)..]
        );
    }
    // Each request: its Authorization and its secret; the long path: its Authorization.
    assert_eq!(
        admin.matches("[redacted]").count(),
        table.len() * 2 + 1,
        "{admin}"
    );
}
