//! The in-process API: start a mock on a random port, add a call, set a scenario, read the journal.
//!
//!     cargo run -p synthflow-mock --example in_process

use synthflow_mock::{Fault, MockServer, Scenario};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start().await?;
    println!("mock at {}", mock.base_url());

    // A call of your own: any 200 body that passes the contract checks.
    let template = mock
        .state()
        .store()
        .get(&mock.call_ids()[0])
        .map(|f| f.body.clone());
    let my_id = "11111111-2222-4333-8444-555555555555";
    let body = String::from_utf8(template.unwrap_or_default().to_vec())?
        .replace(&mock.call_ids()[0], my_id);
    mock.add_call(body)?;

    // A completed call polled until done, after two rate limits.
    let id = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";
    mock.set_scenario(
        id,
        Scenario {
            faults: vec![Fault::code(429); 2],
            ..Scenario::lifecycle_per_poll()
        },
    )?;
    let client = synthflow::Client::builder()
        .base_url(mock.base_url())
        .token("any-token")
        .build()?;
    for _ in 0..10 {
        match client.get_call(id).await {
            Ok(resp) => {
                let status = resp.call().and_then(|c| c.status.clone());
                println!("status: {status:?}");
                if status.as_ref().is_some_and(|s| !s.is_live()) {
                    break;
                }
            }
            Err(e) => println!("retrying after: {e}"),
        }
    }

    // What the client sent (the token is redacted).
    for r in mock.received_requests().unwrap_or_default() {
        println!("{} {} {} -> {}", r.seq, r.method, r.path, r.status);
    }
    Ok(())
}
