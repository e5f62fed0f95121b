//! What makes the mock fast without changing what it does: the buffered log writer (lines kept in
//! order, written at flush and at the end, counted when dropped), the cache of fixture files
//! already checked (used when the file and the version are unchanged, ignored otherwise), and a
//! reload that reads the changed paths only. Behaviour only: speed is measured by bench/.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use synthflow_mock::internals::log_writer::LogBuffer;
use synthflow_mock::internals::store::{cache, CacheFile};
use synthflow_mock::{AppState, Config, LoadOptions, Store};

/// A sink the test can read.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[test]
fn buffered_log_lines_come_out_whole_in_order_and_at_the_end() {
    let sink = Shared::default();
    // A flush period far beyond the test: whatever comes out is the guard's doing.
    let (buffer, guard) =
        LogBuffer::start(sink.clone(), Duration::from_secs(3600), 1 << 20).unwrap();
    let lines: Vec<String> = (0..1000).map(|i| format!("line {i}\n")).collect();
    std::thread::scope(|s| {
        for half in lines.chunks(500) {
            let buffer = &buffer;
            s.spawn(move || {
                for l in half {
                    (&**buffer).write_all(l.as_bytes()).unwrap();
                }
            });
        }
    });
    assert_eq!(sink.text(), "", "nothing is written before a flush");
    drop(guard);
    let out = sink.text();
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.len(), 1000);
    for l in &got {
        assert!(l.starts_with("line "), "a torn line: {l:?}");
    }
    // Each writer's lines keep their order.
    let firsts: Vec<usize> = got
        .iter()
        .map(|l| l[5..].parse().unwrap())
        .filter(|n| *n < 500)
        .collect();
    assert!(firsts.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(buffer.dropped(), 0);
}

#[test]
fn a_full_log_buffer_drops_lines_counts_and_reports_them() {
    let sink = Shared::default();
    let (buffer, guard) = LogBuffer::start(sink.clone(), Duration::from_secs(3600), 100).unwrap();
    for i in 0..20 {
        (&*buffer)
            .write_all(format!("line {i:02}\n").as_bytes())
            .unwrap();
    }
    // 8 bytes a line: 12 fit in 100 bytes.
    assert_eq!(buffer.dropped(), 8);
    buffer.flush();
    let out = sink.text();
    assert!(out.starts_with("line 00\n"), "{out}");
    assert!(
        out.contains("line 11\n") && !out.contains("line 12\n"),
        "{out}"
    );
    assert!(out.contains("8 log line(s) dropped"), "{out}");
    // Room again after the flush.
    (&*buffer).write_all(b"after\n").unwrap();
    drop(guard);
    assert!(sink.text().ends_with("after\n"));
}

#[test]
fn the_flusher_writes_within_its_period() {
    let sink = Shared::default();
    let (buffer, _guard) =
        LogBuffer::start(sink.clone(), Duration::from_millis(5), 1 << 20).unwrap();
    (&*buffer).write_all(b"soon\n").unwrap();
    // Generous bound on a loaded machine; the point is that no flush call is needed.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sink.text().is_empty() {
        assert!(std::time::Instant::now() < deadline, "never written");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(sink.text(), "soon\n");
}

fn cache_in(dir: &Path, version: &str) -> CacheFile {
    CacheFile {
        path: cache::file_for(&dir.join("cache"), &dir.join("fixtures")),
        version: version.into(),
    }
}

fn fixture_folder(root: &Path) -> PathBuf {
    let fixtures = root.join("fixtures");
    let copy = crate::support::fixture_copy();
    std::fs::rename(copy.path(), &fixtures)
        .or_else(|_| {
            // Another file system: copy.
            std::fs::create_dir_all(fixtures.join("calls"))?;
            for e in std::fs::read_dir(copy.path().join("calls"))? {
                let p = e?.path();
                std::fs::copy(&p, fixtures.join("calls").join(p.file_name().unwrap()))?;
            }
            Ok::<(), std::io::Error>(())
        })
        .unwrap();
    fixtures
}

/// Rewrites the status column of every cache line: only a load that trusts the cache serves it.
fn tamper_statuses(cache: &Path, status: &str) {
    let text = std::fs::read_to_string(cache).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(line);
        } else {
            let cols: Vec<&str> = line.split('\t').collect();
            out.push_str(&format!("{}\t{status}\t{}", cols[0], cols[2]));
        }
        out.push('\n');
    }
    std::fs::write(cache, out).unwrap();
}

#[test]
fn an_unchanged_fixture_is_taken_from_the_cache_and_a_changed_one_checked_again() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = fixture_folder(root.path());
    let c = cache_in(root.path(), "v1");
    let first = Store::from_dir_cached(&fixtures, LoadOptions::default(), &c).unwrap();
    let text = std::fs::read_to_string(&c.path).unwrap();
    assert_eq!(
        text.lines().count(),
        first.len() + 1,
        "a line per file that passed"
    );

    tamper_statuses(&c.path, "from-the-cache");
    let cached = Store::from_dir_cached(&fixtures, LoadOptions::default(), &c).unwrap();
    assert_eq!(cached.len(), first.len());
    assert!(cached
        .fixtures()
        .all(|f| f.status.as_ref().map(|s| s.as_str()) == Some("from-the-cache")));
    for f in first.fixtures() {
        assert_eq!(cached.get(&f.id).unwrap().body, f.body, "same bytes served");
    }

    // Another version: the cache is ignored, every file checked again, statuses true again.
    tamper_statuses(&c.path, "from-the-cache");
    let other = cache_in(root.path(), "v2");
    let fresh = Store::from_dir_cached(&fixtures, LoadOptions::default(), &other).unwrap();
    assert!(fresh
        .fixtures()
        .all(|f| f.status.as_ref().map(|s| s.as_str()) != Some("from-the-cache")));

    // A file broken after it passed is checked again and refused.
    let victim = first.fixtures().next().unwrap();
    std::fs::write(&victim.source, b"{\"response\": 1}").unwrap();
    let err = Store::from_dir_cached(&fixtures, LoadOptions::default(), &other).unwrap_err();
    assert!(err.to_string().contains(&victim.source), "{err}");
}

#[test]
fn an_unreadable_cache_is_no_cache() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = fixture_folder(root.path());
    let c = cache_in(root.path(), "v1");
    std::fs::create_dir_all(c.path.parent().unwrap()).unwrap();
    std::fs::write(&c.path, b"\xff\xfe not a cache").unwrap();
    let store = Store::from_dir_cached(&fixtures, LoadOptions::default(), &c).unwrap();
    let plain = Store::from_dir(&fixtures, LoadOptions::default()).unwrap();
    assert_eq!(store.ids(), plain.ids());
    assert!(std::fs::read_to_string(&c.path)
        .unwrap()
        .starts_with("synthflow-mock validated-fixtures"));
}

#[test]
fn reload_of_named_paths_reads_only_those() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = fixture_folder(root.path());
    let store = Store::from_dir(&fixtures, LoadOptions::default()).unwrap();
    let ids: Vec<String> = store.ids().to_vec();
    let state = AppState::new(store, Config::default());
    let calls = fixtures.join("calls");
    let (edited, untold, deleted) = (&ids[0], &ids[1], &ids[2]);
    let change = |id: &str| {
        let p = calls.join(format!("{id}.json"));
        let body = std::fs::read_to_string(&p).unwrap();
        // The same call, written with a space more.
        let changed = body.replacen("\"duration\":", "\"duration\": ", 1);
        assert_ne!(body, changed, "{id} has a duration field");
        std::fs::write(&p, changed).unwrap();
    };
    change(edited);
    change(untold);
    std::fs::remove_file(calls.join(format!("{deleted}.json"))).unwrap();
    let report = synthflow_mock::internals::reload::reload_paths(
        &fixtures,
        &[
            calls.join(format!("{edited}.json")),
            calls.join(format!("{deleted}.json")),
            root.path().join("elsewhere.json"),
        ],
        &state,
    );
    assert_eq!(report.updated, vec![edited.clone()]);
    assert_eq!(report.removed, vec![deleted.clone()]);
    let now = state.store();
    let on_disk = |id: &str| std::fs::read(calls.join(format!("{id}.json"))).unwrap();
    assert_eq!(
        now.get(edited).unwrap().body.as_ref(),
        on_disk(edited).as_slice()
    );
    assert_ne!(
        now.get(untold).unwrap().body.as_ref(),
        on_disk(untold).as_slice(),
        "a path nobody named is not read"
    );
    assert!(now.get(deleted).is_none());
    drop(now);
    // The folder itself named: everything is read again.
    let report = synthflow_mock::internals::reload::reload_paths(
        &fixtures,
        std::slice::from_ref(&calls),
        &state,
    );
    assert_eq!(report.updated, vec![untold.clone()]);
}

/// A folder of `count` generated calls (several reading runs, and more ids than are sorted at
/// once), and the generated bodies by id.
fn large_folder(
    root: &Path,
    count: usize,
) -> (PathBuf, std::collections::BTreeMap<String, Vec<u8>>) {
    use synthflow_mock::tools::generate::{generate, GenerateOptions};
    let dir = root.join("large");
    std::fs::create_dir_all(dir.join("calls")).unwrap();
    let mut bodies = std::collections::BTreeMap::new();
    for f in generate(GenerateOptions {
        seed: 7,
        count,
        coverage: false,
    }) {
        std::fs::write(dir.join("calls").join(format!("{}.json", f.id)), &f.body).unwrap();
        bodies.insert(f.id, f.body);
    }
    (dir, bodies)
}

#[test]
fn a_large_folder_is_served_whole_byte_for_byte_in_id_order_with_and_without_the_cache() {
    let root = tempfile::tempdir().unwrap();
    let (dir, bodies) = large_folder(root.path(), 1500);
    let c = CacheFile {
        path: cache::file_for(&root.path().join("cache"), &dir),
        version: "v1".into(),
    };
    let cold = Store::from_dir_cached(&dir, LoadOptions::default(), &c).unwrap();
    let warm = Store::from_dir_cached(&dir, LoadOptions::default(), &c).unwrap();
    let plain = Store::from_dir(&dir, LoadOptions::default()).unwrap();
    let expected: Vec<&String> = bodies.keys().collect();
    for store in [&cold, &warm, &plain] {
        assert_eq!(store.len(), bodies.len());
        assert_eq!(store.first_id(), Some(expected[0].as_str()));
        assert_eq!(store.ids().iter().collect::<Vec<_>>(), expected);
        for (id, body) in &bodies {
            assert_eq!(
                store.get(id).unwrap().body.as_ref(),
                body.as_slice(),
                "{id}"
            );
        }
    }
}

#[test]
fn every_bad_file_of_a_large_folder_is_reported_in_path_order() {
    let root = tempfile::tempdir().unwrap();
    let (dir, bodies) = large_folder(root.path(), 1500);
    // One bad file in each of several reading runs.
    let spoilt: Vec<PathBuf> = bodies
        .keys()
        .step_by(290)
        .map(|id| dir.join("calls").join(format!("{id}.json")))
        .collect();
    for p in &spoilt {
        std::fs::write(p, b"{\"response\": 1}").unwrap();
    }
    let err = Store::from_dir(&dir, LoadOptions::default()).unwrap_err();
    let synthflow_mock::StoreError::BadFiles(bad) = err else {
        panic!("{err}");
    };
    let named: Vec<String> = bad.iter().map(|b| b.path.clone()).collect();
    let expected: Vec<String> = spoilt.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(named, expected);
}
