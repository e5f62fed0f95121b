//! The ready-made wiremock mocks answer what the mock server answers, and the project's client
//! maps them as it maps the live service.

use synthflow::{Client, ClientError};
use synthflow_mock::mocks;

const ID: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";

async fn client(server: &wiremock::MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .token("t")
        .build()
        .unwrap()
}

#[tokio::test]
async fn rate_limited_once_then_the_call() {
    let server = wiremock::MockServer::start().await;
    mocks::rate_limited(ID, Some(2))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mocks::call(ID).expect(1).mount(&server).await;
    let c = client(&server).await;
    match c.get_call(ID).await {
        Err(ClientError::RateLimited { retry_after, .. }) => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(2)))
        }
        other => panic!("expected a 429, got {other:?}"),
    }
    let call = c.get_call(ID).await.unwrap();
    assert_eq!(call.call().unwrap().call_id.as_deref(), Some(ID));
}

#[tokio::test]
async fn bad_request_and_server_errors_carry_the_live_bodies() {
    let server = wiremock::MockServer::start().await;
    mocks::bad_request("nope").mount(&server).await;
    mocks::unavailable("down").mount(&server).await;
    mocks::internal_error("boom").mount(&server).await;
    let c = client(&server).await;
    assert!(matches!(
        c.get_call("nope").await,
        Err(ClientError::BadRequest { body: Some(_), .. })
    ));
    assert_eq!(c.get_call("down").await.unwrap_err().status(), Some(503));
    assert_eq!(c.get_call("boom").await.unwrap_err().status(), Some(500));
}

#[tokio::test]
async fn missing_auth_mock_matches_any_call_id() {
    let server = wiremock::MockServer::start().await;
    mocks::missing_auth().mount(&server).await;
    let c = client(&server).await;
    assert_eq!(c.get_call(ID).await.unwrap_err().status(), Some(401));
}
