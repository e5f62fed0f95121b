//! `readall DIR [THREADS]`: the floor of a fixture load. Lists `DIR/*.json`, then reads every file
//! with one `open` + `read` (`std::fs::read`) on THREADS threads (default: every core), and prints
//! `files bytes seconds`: the time from the start of the listing to the last byte read. Nothing is
//! parsed, hashed or kept: what the mock's start-up cannot go below on this disk and page cache.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: readall DIR [THREADS]");
        std::process::exit(2);
    };
    let threads = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let started = Instant::now();
    let paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    let next = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = paths.get(i) else { break };
                let body = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                bytes.fetch_add(body.len(), Ordering::Relaxed);
            });
        }
    });
    println!(
        "{} {} {:.3}",
        paths.len(),
        bytes.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
}
