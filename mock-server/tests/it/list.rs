//! `GET /v2/calls` through a real HTTP client on loopback: paging covers every fixture exactly
//! once, filters apply, bad paging and filters get a 400 JSON body.

use std::collections::{BTreeSet, HashSet};

use reqwest::StatusCode;
use serde_json::Value;
use synthflow_mock::MockServer;

async fn list(mock: &MockServer, query: &str) -> (StatusCode, Value) {
    let resp = crate::support::get(mock, &format!("/calls?{query}")).await;
    let status = resp.status();
    assert_eq!(resp.headers()["content-type"], "application/json");
    (status, resp.json().await.unwrap())
}

fn model_ids(mock: &MockServer) -> BTreeSet<String> {
    mock.state()
        .store()
        .fixtures()
        .map(|f| {
            let v: Value = serde_json::from_slice(&f.body).unwrap();
            v["response"]["calls"][0]["model_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The call ids of a list page, in order.
pub(crate) fn ids_of(page: &Value) -> Vec<String> {
    page["response"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn paging_through_every_model_returns_every_fixture_exactly_once() {
    let mock = MockServer::start().await.unwrap();
    let mut seen = Vec::new();
    for model in model_ids(&mock) {
        let mut offset = 0;
        loop {
            let (status, page) =
                list(&mock, &format!("model_id={model}&limit=2&offset={offset}")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(page["status"], "ok");
            let p = &page["response"]["pagination"];
            assert_eq!(
                (p["limit"].as_u64(), p["offset"].as_u64()),
                (Some(2), Some(offset))
            );
            let ids = ids_of(&page);
            let total = p["total_records"].as_u64().unwrap();
            if ids.is_empty() {
                assert!(offset >= total);
                break;
            }
            assert!(offset + ids.len() as u64 <= total);
            for c in page["response"]["calls"].as_array().unwrap() {
                assert_eq!(c["model_id"].as_str(), Some(model.as_str()));
                assert_eq!(c["call_status"], c["status"]);
            }
            seen.extend(ids);
            offset += 2;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "a call was listed twice: {seen:?}"
    );
    let all: HashSet<String> = mock.call_ids().into_iter().collect();
    assert_eq!(unique.len(), all.len());
    assert!(seen.iter().all(|id| all.contains(id)));
}

#[tokio::test]
async fn default_limit_is_20_and_items_are_newest_first() {
    let mock = MockServer::start().await.unwrap();
    let model = model_ids(&mock).into_iter().next().unwrap();
    let (_, page) = list(&mock, &format!("model_id={model}")).await;
    assert_eq!(page["response"]["pagination"]["limit"], 20);
    let starts: Vec<i64> = page["response"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["start_time"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "{starts:?}");
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let mock = MockServer::start().await.unwrap();
    // 4f0c2d8e...: six calls, among them one failed (9e4b7d21, start 1760295603118).
    let model = "4f0c2d8e";
    let model = model_ids(&mock)
        .into_iter()
        .find(|m| m.starts_with(model))
        .unwrap();
    let (_, all) = list(&mock, &format!("model_id={model}&limit=100")).await;
    let n = all["response"]["pagination"]["total_records"]
        .as_u64()
        .unwrap();
    assert!(n >= 3);
    let (_, failed) = list(&mock, &format!("model_id={model}&call_status=failed")).await;
    assert_eq!(ids_of(&failed), ["9e4b7d21-3c8f-4a56-a0e7-b1d9f2c5e834"]);
    // to_date is exclusive, from_date inclusive.
    let (_, before) = list(
        &mock,
        &format!("model_id={model}&to_date=1760295603118&limit=100"),
    )
    .await;
    assert!(!ids_of(&before).contains(&"9e4b7d21-3c8f-4a56-a0e7-b1d9f2c5e834".to_owned()));
    let (_, from) = list(
        &mock,
        &format!("model_id={model}&from_date=1760295603118&to_date=1760295603119"),
    )
    .await;
    assert_eq!(ids_of(&from), ["9e4b7d21-3c8f-4a56-a0e7-b1d9f2c5e834"]);
    let (_, long) = list(
        &mock,
        &format!("model_id={model}&duration_min=100&limit=100"),
    )
    .await;
    for c in long["response"]["calls"].as_array().unwrap() {
        assert!(c["duration"].as_i64().unwrap() >= 100);
    }
    let (_, lead) = list(
        &mock,
        &format!("model_id={model}&lead_phone_number=%2B15105550149"),
    )
    .await;
    assert_eq!(ids_of(&lead), ["9e4b7d21-3c8f-4a56-a0e7-b1d9f2c5e834"]);
}

#[tokio::test]
async fn bad_paging_and_filters_get_a_400_json_body_naming_the_problem() {
    let mock = MockServer::start().await.unwrap();
    for (query, want) in [
        ("", "model_id is required"),
        // The live wording (MAKE-CALL-AND-WEBHOOKS.md §1, [3P]); tests/it/fidelity.rs pins it whole.
        ("model_id=m&limit=-1", "Limit must be between 1 and 100."),
        ("model_id=m&limit=101", "Limit must be between 1 and 100."),
        (
            "model_id=m&limit=99999999999999999999",
            "Limit must be between 1 and 100.",
        ),
        ("model_id=m&offset=abc", "offset="),
        ("model_id=m&offset=-5", "offset=-5"),
        ("model_id=m&from_date=tomorrow", "from_date="),
        ("model_id=m&duration_min=9&duration_max=1", "duration_min"),
        ("model_id=m&lead_phone_number=+14155550100", "E.164"),
        (
            "model_id=m&include_all_actions=maybe",
            "include_all_actions",
        ),
    ] {
        let (status, body) = list(&mock, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        let d = body["detail"]["description"].as_str().unwrap();
        assert!(d.contains(want), "{query}: {d}");
        assert_eq!(body["detail"]["status"], "error");
    }
}

#[tokio::test]
async fn list_requires_authorization() {
    let mock = MockServer::start().await.unwrap();
    let resp = reqwest::Client::new()
        .get(format!("{}/calls?model_id=m", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}
