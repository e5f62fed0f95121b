//! Issue 15: the typed model decodes every off-document shape the live service was seen sending
//! (`fixtures/extended/`, `synthflow::contract::shapes`), re-encodes it without loss, and gives
//! its typed value through an accessor. Sources: MAKE-CALL-AND-WEBHOOKS.md §1/§2 ("[3P]" lines),
//! as `fixtures/extended/README.md` lists them.

use std::time::Duration;

use serde_json::{json, Value};
use synthflow::model::{CallIdFormat, GetCallResponse, IntOrString, JudgeVerdict};
use synthflow::{Call, Client};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Decodes `call`, checks it re-encodes to the same JSON value, and returns it.
fn round_trip(call: Value) -> Call {
    let typed: Call = serde_json::from_value(call.clone()).expect("decodes");
    assert_eq!(serde_json::to_value(&typed).unwrap(), call, "lossless");
    typed
}

// MAKE-CALL-AND-WEBHOOKS.md §2 table: `duration` "[3P] observed as a string "25" in list-calls".
#[test]
fn duration_as_a_string_round_trips_and_reads_as_seconds() {
    let c = round_trip(json!({"call_id": "c", "duration": "25"}));
    assert_eq!(c.duration, Some(IntOrString::Text("25".into())));
    assert_eq!(c.duration_seconds(), Some(25));
    let n = round_trip(json!({"call_id": "c", "duration": 25}));
    assert_eq!(n.duration_seconds(), Some(25));
    assert!(!n.duration.unwrap().is_text());
    let odd = round_trip(json!({"duration": "n/a"}));
    assert_eq!(odd.duration_seconds(), None);
}

// MAKE-CALL-AND-WEBHOOKS.md §2: "return_value and parameters_hard_coded were observed as
// JSON-encoded strings ... Two key prefixes were seen side by side ... Identifiers may contain
// spaces."
#[test]
fn json_encoded_action_values_and_both_extractor_prefixes_round_trip_and_decode() {
    let c = round_trip(json!({"executed_actions": {
        "info_extractor_Customer name": {
            "parameters_hard_coded": "{\"identifier\":\"Customer name\",\"choices\":[]}",
            "return_value": "{\"Customer name\":\"Priya Raman\"}"
        },
        "extract_info_1": {
            "parameters_hard_coded": {"identifier": "purchase"},
            "return_value": {"purchase": "car"}
        },
        "webhook_1": {"return_value": "ok"}
    }}));
    let actions: Vec<_> = c.executed_actions_iter().collect();
    assert_eq!(actions.len(), 3);
    assert_eq!(actions[0].extractor_id(), Some("Customer name"));
    assert_eq!(
        actions[0].return_value().unwrap()["Customer name"],
        "Priya Raman"
    );
    assert_eq!(
        actions[0].parameters_hard_coded().unwrap()["identifier"],
        "Customer name"
    );
    assert_eq!(actions[1].extractor_id(), Some("1"));
    assert_eq!(actions[1].return_value().unwrap()["purchase"], "car");
    assert_eq!(actions[2].extractor_id(), None);
    assert_eq!(*actions[2].return_value().unwrap(), json!("ok"));
}

// MAKE-CALL-AND-WEBHOOKS.md §2 `analysis`: "[3P] The values were observed as strings ("true",
// "false", "True", "partial") ... on the GET judge_results object".
#[test]
fn judge_results_as_strings_round_trip_and_read_as_verdicts() {
    let c = round_trip(json!({"judge_results": {
        "goal": "true", "persona": "True", "style": "partial", "opted_in": false,
        "appointment": "not_applicable", "goal_feedback": ""
    }}));
    let v = c.judge_results().unwrap();
    assert_eq!(v[0], ("goal", JudgeVerdict::True));
    assert_eq!(v[1], ("persona", JudgeVerdict::True));
    assert_eq!(v[2], ("style", JudgeVerdict::Partial));
    assert_eq!(v[3], ("opted_in", JudgeVerdict::False));
    assert_eq!(v[4], ("appointment", JudgeVerdict::NotApplicable));
    assert_eq!(v[5], ("goal_feedback", JudgeVerdict::Other(json!(""))));
}

// MAKE-CALL-AND-WEBHOOKS.md §1: "Call IDs come in two formats ... 1691579123700x31589864853004400
// (Bubble-style) ... Newer IDs are UUIDs".
#[test]
fn bubble_style_and_uuid_ids_round_trip_and_are_told_apart() {
    let b = round_trip(json!({"call_id": "1691579123700x31589864853004400"}));
    assert_eq!(b.call_id_format(), Some(CallIdFormat::Bubble));
    let u = round_trip(json!({"call_id": "1c32a3b0-a45c-4d0c-b2b7-7cffd5d687a8"}));
    assert_eq!(u.call_id_format(), Some(CallIdFormat::Uuid));
}

#[test]
fn two_shapes_at_one_place_are_both_reported_out_of_spec() {
    let body = json!({"status":"ok","response":{"calls":[{"executed_actions":{
        "info_extractor_Customer name": {}
    }}]}});
    let report = synthflow::contract::check_call_value(&body, None, Default::default());
    let messages: Vec<&str> = report
        .violations
        .iter()
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].starts_with("extractor-key-info_extractor"));
    assert!(messages[1].starts_with("action-key-with-spaces"));
}

#[test]
fn every_extended_fixture_round_trips_through_the_typed_envelope() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/extended/calls");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let typed: GetCallResponse = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), original);
        n += 1;
    }
    assert!(n >= 5);
}

#[tokio::test]
async fn the_client_reads_every_extended_shape_through_accessors() {
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/extended/calls");
    let server = MockServer::start().await;
    for id in [
        "1691579123700x31589864853004400",
        "7d3e9a41-0c5b-4f28-8e6a-1b9c2d4f7a03",
        "e8a15c72-3b9d-4e06-a4f1-6c2d8b0e5f39",
    ] {
        let body = std::fs::read(base.join(format!("{id}.json"))).unwrap();
        Mock::given(method("GET"))
            .and(path(format!("/v2/calls/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
    }
    let client = Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .token("t")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let get = |id: &'static str| {
        let client = client.clone();
        async move {
            let env = client.get_call(id).await.expect("no decode error");
            env.call().unwrap().clone()
        }
    };
    let bubble = get("1691579123700x31589864853004400").await;
    assert_eq!(bubble.call_id_format(), Some(CallIdFormat::Bubble));
    assert_eq!(bubble.duration_seconds(), Some(27));
    let actions = get("7d3e9a41-0c5b-4f28-8e6a-1b9c2d4f7a03").await;
    let names: Vec<_> = actions
        .executed_actions_iter()
        .filter_map(|a| {
            a.extractor_id()
                .map(|i| (i.to_owned(), a.return_value().unwrap().into_owned()))
        })
        .collect();
    assert_eq!(names.len(), 2);
    assert_eq!(names[1].0, "Customer name");
    assert_eq!(names[1].1["Customer name"], "Priya Raman");
    let judged = get("e8a15c72-3b9d-4e06-a4f1-6c2d8b0e5f39").await;
    assert!(judged
        .judge_results()
        .unwrap()
        .contains(&("style", JudgeVerdict::Partial)));
}
