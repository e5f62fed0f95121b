//! Hot reload of a fixture folder under concurrent load, through a real HTTP client on loopback:
//! unchanged calls never fail, a changed call is served after the change, a broken file keeps the
//! last good version, and no body is ever torn.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use synthflow_mock::{MockServer, Store};

const CHANGED: &str = "2c94e7b1-5f08-4a3d-b6e2-91d7c4a0f58e";
const ADDED: &str = "00000000-aaaa-4bbb-8ccc-0000000000a1";

/// Temp file then rename, as the team's rule (and any careful editor) writes.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

async fn wait_until_served(mock: &MockServer, id: &str, want: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = crate::support::get(mock, &format!("/calls/{id}")).await;
        if r.status() == 200 && r.bytes().await.unwrap().as_ref() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{id} never served its new version"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_never_fails_an_unchanged_call_nor_tears_a_body() {
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    std::fs::create_dir(&calls).unwrap();
    let store = Store::embedded().unwrap();
    for f in store.fixtures() {
        std::fs::write(calls.join(format!("{}.json", f.id)), &f.body).unwrap();
    }
    let v1 = store.get(CHANGED).unwrap().body.to_vec();
    let v2 = String::from_utf8(v1.clone())
        .unwrap()
        .replace("Guten Tag", "Guten Morgen")
        .into_bytes();
    let v3 = String::from_utf8(v1.clone())
        .unwrap()
        .replace("Guten Tag", "Guten Abend")
        .into_bytes();
    let mock = MockServer::builder()
        .fixtures(dir.path())
        .watch(true)
        .start()
        .await
        .unwrap();
    assert!(mock.is_watching());

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let unchanged: Vec<(String, Vec<u8>)> = store
        .fixtures()
        .filter(|f| f.id != CHANGED)
        .map(|f| (f.id.clone(), f.body.to_vec()))
        .collect();
    let mut workers = Vec::new();
    for w in 0..3 {
        let (stop, ok, base) = (stop.clone(), ok.clone(), mock.base_url());
        let unchanged = unchanged.clone();
        let allowed = [v1.clone(), v2.clone(), v3.clone()];
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let (id, want) = &unchanged[i % unchanged.len()];
                let r = http
                    .get(format!("{base}/calls/{id}"))
                    .bearer_auth("t")
                    .send()
                    .await
                    .expect("request for an unchanged call failed");
                assert_eq!(r.status(), 200, "{id}");
                assert_eq!(r.bytes().await.unwrap().as_ref(), want.as_slice(), "{id}");
                // The changed call: always one whole version, never a mix.
                let r = http
                    .get(format!("{base}/calls/{CHANGED}"))
                    .bearer_auth("t")
                    .send()
                    .await
                    .expect("request for the changed call failed");
                assert_eq!(r.status(), 200);
                let body = r.bytes().await.unwrap();
                assert!(
                    allowed.iter().any(|a| a.as_slice() == body.as_ref()),
                    "torn body"
                );
                ok.fetch_add(2, Ordering::Relaxed);
                i += 1;
            }
        }));
    }

    // A changed file is served after the change.
    write_atomic(&calls, &format!("{CHANGED}.json"), &v2);
    wait_until_served(&mock, CHANGED, &v2).await;

    // A broken file (written in place, as a careless editor does) keeps the last good version;
    // the added file shows when the folder has been read again after it.
    std::fs::write(calls.join(format!("{CHANGED}.json")), &v3[..v3.len() / 2]).unwrap();
    let added = String::from_utf8(v1.clone())
        .unwrap()
        .replace(CHANGED, ADDED);
    write_atomic(&calls, &format!("{ADDED}.json"), added.as_bytes());
    wait_until_served(&mock, ADDED, added.as_bytes()).await;
    let still = crate::support::get(&mock, &format!("/calls/{CHANGED}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(still.as_ref(), v2.as_slice(), "last good version kept");

    // Completing the write serves it.
    std::fs::write(calls.join(format!("{CHANGED}.json")), &v3).unwrap();
    wait_until_served(&mock, CHANGED, &v3).await;

    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    assert!(ok.load(Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn deleting_a_file_stops_serving_its_call_after_reload() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::embedded().unwrap();
    for f in store.fixtures() {
        std::fs::write(dir.path().join(format!("{}.json", f.id)), &f.body).unwrap();
    }
    let mock = MockServer::builder()
        .fixtures(dir.path())
        .start()
        .await
        .unwrap();
    std::fs::remove_file(dir.path().join(format!("{CHANGED}.json"))).unwrap();
    let report = synthflow_mock::internals::reload::reload_dir(dir.path(), mock.state());
    assert_eq!(report.removed, [CHANGED]);
    assert!(mock.state().store().get(CHANGED).is_none());
    assert_eq!(mock.state().store().len(), store.len() - 1);
}
