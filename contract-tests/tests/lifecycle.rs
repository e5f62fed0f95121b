//! The contract suite's `get_call` case on every step of a lifecycle call served by the mock: each
//! intermediate body (pending, ringing, in-progress) passes it, in order.

use contract_tests::{get_call, Target};
use synthflow_mock::{Advance, MockServer, Scenario};

const ID: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";

#[tokio::test]
async fn every_step_of_a_lifecycle_call_passes_the_get_call_case_in_order() {
    let mock = MockServer::start().await.unwrap();
    // Two polls per step: the suite's case takes the first, this test reads the status on the second.
    mock.set_scenario(
        ID,
        Scenario {
            faults: vec![],
            lifecycle: Some(Advance::PerPoll { polls_per_step: 2 }),
        },
    )
    .unwrap();
    let target = Target::new("mock-lifecycle", mock.base_url(), "t");
    let http = reqwest::Client::new();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let case = get_call(&target, ID).await;
        assert!(case.passed(), "{case:?}");
        let v: serde_json::Value = http
            .get(format!("{}/calls/{ID}", mock.base_url()))
            .bearer_auth("t")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.push(
            v["response"]["calls"][0]["status"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(seen, ["pending", "ringing", "in-progress", "completed"]);
}
