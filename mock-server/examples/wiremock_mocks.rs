//! Ready-made `wiremock::Mock`s for suites that already use wiremock: a 429 once, then the call.
//!
//!     cargo run -p synthflow-mock --features wiremock --example wiremock_mocks

use synthflow_mock::mocks;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = wiremock::MockServer::start().await;
    let id = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";
    mocks::rate_limited(id, Some(1))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mocks::call(id).mount(&server).await;
    let client = synthflow::Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .token("any-token")
        .build()?;
    match client.get_call(id).await {
        Err(e) => println!("first answer: {e}"),
        Ok(_) => println!("first answer: unexpected 200"),
    }
    let call = client.get_call(id).await?;
    println!("then: {:?}", call.call().and_then(|c| c.status.clone()));
    Ok(())
}
