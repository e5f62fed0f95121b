//! The client's error handling against a wiremock stand-in on loopback: each status maps to its
//! own variant, bodies are kept, and the token never shows in `Debug` or in an error.

use std::time::Duration;

use synthflow::{Client, ClientError};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "sk-very-secret-token-123";
const DETAIL_400: &str = r#"{"detail":{"status":"error","description":"Invalid call_id or call not found.","timestamp":"2026-10-05T23:45:55.580390+00:00","request_id":"r1","category":"critical"}}"#;

async fn server_answering(status: u16, body: &str, extra: Option<(&str, &str)>) -> MockServer {
    let server = MockServer::start().await;
    let mut template =
        ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json");
    if let Some((k, v)) = extra {
        template = template.insert_header(k, v);
    }
    Mock::given(method("GET"))
        .and(path("/v2/calls/abc"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

fn client_for(server: &MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .token(TOKEN)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn error_for(status: u16, body: &str, extra: Option<(&str, &str)>) -> ClientError {
    let server = server_answering(status, body, extra).await;
    client_for(&server).get_call("abc").await.unwrap_err()
}

#[tokio::test]
async fn client_sends_the_bearer_token_and_decodes_the_envelope() {
    let server = MockServer::start().await;
    let body =
        std::fs::read("fixtures/handmade/calls/3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0.json").unwrap();
    Mock::given(method("GET"))
        .and(path("/v2/calls/3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let env = client_for(&server)
        .get_call("3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0")
        .await
        .unwrap();
    let call = env.call().unwrap();
    assert_eq!(
        call.end_call_reason,
        Some(synthflow::model::EndCallReason::CustomEndCall)
    );
    assert!(call.custom_end_call_reason().is_some());
}

#[tokio::test]
async fn bad_request_keeps_the_detail_body() {
    match error_for(400, DETAIL_400, None).await {
        ClientError::BadRequest { body, raw } => {
            assert_eq!(
                body.unwrap().description(),
                Some("Invalid call_id or call not found.")
            );
            assert_eq!(raw, DETAIL_400);
        }
        other => panic!("expected BadRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn unauthorized_and_forbidden_are_auth_errors() {
    for status in [401, 403] {
        let err = error_for(
            status,
            r#"{"detail":{"description":"Unauthorized: Invalid or expired token."}}"#,
            None,
        )
        .await;
        assert!(
            matches!(err, ClientError::Unauthorized { status: s, .. } if s == status),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn not_found_is_its_own_variant() {
    let err = error_for(404, r#"{"detail":"Not Found"}"#, None).await;
    assert!(matches!(err, ClientError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("Not Found"));
}

#[tokio::test]
async fn rate_limit_reads_retry_after_when_present() {
    let err = error_for(429, "{}", Some(("retry-after", "7"))).await;
    assert!(
        matches!(err, ClientError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7)),
        "{err:?}"
    );
    let err = error_for(429, "{}", None).await;
    assert!(
        matches!(
            err,
            ClientError::RateLimited {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn server_error_keeps_status_and_body() {
    let err = error_for(500, "upstream exploded", None).await;
    match err {
        ClientError::Status {
            status: 500,
            raw,
            body,
        } => {
            assert_eq!(raw, "upstream exploded");
            assert!(body.is_none());
        }
        other => panic!("expected Status, got {other:?}"),
    }
}

#[tokio::test]
async fn garbage_200_body_is_a_decode_error_with_the_body_kept() {
    let err = error_for(200, "<html>oops</html>", None).await;
    assert!(
        matches!(&err, ClientError::Decode { raw, .. } if raw == "<html>oops</html>"),
        "{err:?}"
    );
}

#[tokio::test]
async fn closed_port_is_a_transport_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/v2"))
        .token(TOKEN)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = client.get_call("abc").await.unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn token_never_appears_in_debug_or_errors() {
    let server = server_answering(401, r#"{"detail":{"description":"nope"}}"#, None).await;
    let client = client_for(&server);
    assert!(!format!("{client:?}").contains(TOKEN));
    assert!(!format!("{:?}", Client::builder().token(TOKEN)).contains(TOKEN));
    let err = client.get_call("abc").await.unwrap_err();
    assert!(!format!("{err:?}").contains(TOKEN));
    assert!(!err.to_string().contains(TOKEN));
}

#[test]
fn call_url_encodes_the_id_as_one_segment() {
    let client = Client::builder()
        .base_url("http://127.0.0.1:1/v2/")
        .build()
        .unwrap();
    assert_eq!(
        client.call_url("a/b c").unwrap().as_str(),
        "http://127.0.0.1:1/v2/calls/a%2Fb%20c"
    );
    assert_eq!(
        synthflow::Region::Eu.base_url(),
        "https://api.eu.synthflow.ai/v2"
    );
}
