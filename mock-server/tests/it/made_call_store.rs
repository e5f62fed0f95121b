//! Made calls in the fixture store, seen by every reader: after many `POST /v2/calls` each is
//! found by id, listed and summarised exactly as an index derived afresh lists it; beyond
//! `max_calls` the oldest leaves `GET`, the list and the console's summaries alike; a reload of the
//! fixture folder keeps them. The list and summaries are read between the POSTs, so the indexes
//! the mock already derived must follow each new call.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use synthflow_mock::internals::store::summary::SummaryQuery;
use synthflow_mock::MockServer;

use crate::list::ids_of;
use crate::support;

/// No fixture has this agent: the made calls are the only ones listed for it.
const AGENT: &str = "made-call-store-agent";

/// Makes a call for [`AGENT`]; its id.
async fn make(mock: &MockServer) -> String {
    let body = json!({"model_id": AGENT, "phone": "+15555550100", "name": "Ada"});
    let v = support::post_call(&mock.base_url(), &body).await;
    v["response"]["call_id"]
        .as_str()
        .expect("a call id")
        .to_owned()
}

/// The list endpoint's page for [`AGENT`] (`limit` and `offset` as given).
async fn list(mock: &MockServer, limit: u32, offset: u32) -> Value {
    let r = support::get(
        mock,
        &format!("/calls?model_id={AGENT}&limit={limit}&offset={offset}"),
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The console's summaries of [`AGENT`]'s calls, and of every call (first page).
fn summaries(mock: &MockServer) -> (Value, Value) {
    let s = mock.state().summaries();
    let mine = s.page(&SummaryQuery {
        agent: Some(AGENT.into()),
        limit: Some(500),
        ..SummaryQuery::default()
    });
    (mine, s.page(&SummaryQuery::default()))
}

fn summarised_ids(page: &Value) -> Vec<String> {
    page["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every reader's view of the made calls: list pages, summaries.
async fn views(mock: &MockServer) -> Vec<Value> {
    let (mine, all) = summaries(mock);
    vec![list(mock, 100, 0).await, list(mock, 7, 3).await, mine, all]
}

/// The same views from indexes derived afresh: setting the same store again drops them.
async fn fresh_views(mock: &MockServer) -> Vec<Value> {
    let store = (*mock.state().store()).clone();
    mock.state().set_store(store);
    views(mock).await
}

#[tokio::test]
async fn many_made_calls_are_found_listed_and_summarised_as_a_fresh_index_gives() {
    let mock = MockServer::start().await.unwrap();
    assert_eq!(
        list(&mock, 100, 0).await["response"]["pagination"]["total_records"],
        0
    );
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(make(&mock).await);
        if i % 6 == 0 {
            // The indexes exist now: the next POSTs must reach them.
            let page = list(&mock, 100, 0).await;
            assert_eq!(page["response"]["pagination"]["total_records"], ids.len());
            assert_eq!(summaries(&mock).0["total"], ids.len());
        }
    }
    for id in &ids {
        let r = support::get(&mock, &format!("/calls/{id}")).await;
        assert_eq!(r.status(), 200, "{id}");
    }
    let seen = views(&mock).await;
    let want: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        ids_of(&seen[0]).iter().collect::<BTreeSet<_>>(),
        want,
        "every made call is listed once"
    );
    assert_eq!(ids_of(&seen[0]).len(), ids.len());
    assert_eq!(summarised_ids(&seen[2]).len(), ids.len());
    assert_eq!(
        summarised_ids(&seen[2]).iter().collect::<BTreeSet<_>>(),
        want
    );
    assert_eq!(
        seen,
        fresh_views(&mock).await,
        "the same order, filters and counts as indexes derived afresh"
    );
}

#[tokio::test]
async fn beyond_max_calls_the_oldest_made_call_leaves_get_list_and_summaries() {
    let mock = support::mock_keeping(3).await;
    let fixtures = mock.state().store().len();
    let all_before = summaries(&mock).1["all"].as_u64().unwrap();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(make(&mock).await);
        // Read after each POST: the eviction must reach indexes already derived.
        let _ = views(&mock).await;
    }
    assert_eq!(mock.state().made_calls(), 3);
    assert_eq!(mock.state().store().len(), fixtures + 3);
    for old in &ids[..2] {
        let r = support::get(&mock, &format!("/calls/{old}")).await;
        assert_eq!(r.status(), 400, "{old} was evicted");
    }
    let kept: BTreeSet<&String> = ids[2..].iter().collect();
    let seen = views(&mock).await;
    assert_eq!(ids_of(&seen[0]).iter().collect::<BTreeSet<_>>(), kept);
    assert_eq!(
        seen[0]["response"]["pagination"]["total_records"],
        kept.len()
    );
    assert_eq!(
        summarised_ids(&seen[2]).iter().collect::<BTreeSet<_>>(),
        kept
    );
    assert_eq!(seen[3]["all"].as_u64().unwrap(), all_before + 3);
    let by_id = mock.state().summaries().page(&SummaryQuery {
        id: Some(ids[0].clone()),
        ..SummaryQuery::default()
    });
    assert_eq!(by_id["total"], 0, "{by_id}");
    assert_eq!(seen, fresh_views(&mock).await);
}

#[tokio::test]
async fn a_reload_of_the_fixture_folder_keeps_made_calls() {
    let dir = support::fixture_copy();
    let mock = MockServer::builder()
        .fixtures(dir.path())
        .start()
        .await
        .unwrap();
    let made = make(&mock).await;
    assert_eq!(ids_of(&list(&mock, 100, 0).await), vec![made.clone()]);
    // One fixture file gone, the folder read again whole.
    // A fixture from the folder (the made call's random id may sort first).
    let gone = mock
        .state()
        .store()
        .fixtures()
        .map(|f| f.id.clone())
        .find(|id| *id != made)
        .unwrap();
    std::fs::remove_file(dir.path().join("calls").join(format!("{gone}.json"))).unwrap();
    let report = synthflow_mock::internals::reload::reload_dir(dir.path(), mock.state());
    assert_eq!(report.removed, vec![gone.clone()]);
    let r = support::get(&mock, &format!("/calls/{gone}")).await;
    assert_eq!(r.status(), 400, "the deleted fixture is gone");
    let r = support::get(&mock, &format!("/calls/{made}")).await;
    assert_eq!(r.status(), 200, "the made call stays");
    assert_eq!(ids_of(&list(&mock, 100, 0).await), vec![made.clone()]);
    assert_eq!(summarised_ids(&summaries(&mock).0), vec![made]);
}
