//! Graceful shutdown of `server::serve_router_with` (what the binary runs on SIGTERM/Ctrl-C): stop
//! accepting, finish the request in flight, close idle keep-alive connections, return `Ok`.
//! Ordered by channels, not by sleeps: no assertion depends on timing.

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use synthflow_mock::internals::server::{serve_router_with, ServeOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Mutex};

/// Only keeps a regression from hanging the suite; never asserted on.
const BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_request_finishes_after_shutdown_starts() {
    let (entered_tx, mut entered_rx) = mpsc::channel::<()>(1);
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release_rx = std::sync::Arc::new(Mutex::new(Some(release_rx)));
    let router = Router::new().route(
        "/slow",
        get(move || {
            let entered_tx = entered_tx.clone();
            let release_rx = release_rx.clone();
            async move {
                entered_tx.send(()).await.unwrap();
                let rx = release_rx.lock().await.take().unwrap();
                let _ = rx.await;
                "done"
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_router_with(
        listener,
        router,
        async {
            let _ = stop_rx.await;
        },
        ServeOptions::default(),
    ));

    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    entered_rx.recv().await.unwrap();
    stop_tx.send(()).unwrap();
    // The handler is still parked, so the server cannot have finished draining.
    assert!(
        !server.is_finished(),
        "server ended with a request in flight"
    );
    release_tx.send(()).unwrap();

    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, client.read_to_end(&mut answer))
        .await
        .expect("bounded")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("done"), "{answer}");

    tokio::time::timeout(BOUND, server)
        .await
        .expect("server drained and returned")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn idle_keep_alive_connection_does_not_hold_shutdown() {
    let router = Router::new().route("/", get(|| async { "ok" }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_router_with(
        listener,
        router,
        async {
            let _ = stop_rx.await;
        },
        ServeOptions {
            // Far beyond BOUND: only shutdown itself may close the idle connection.
            header_read_timeout: Duration::from_secs(3600),
            ..ServeOptions::default()
        },
    ));
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = client.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).ends_with("ok"));

    stop_tx.send(()).unwrap();
    tokio::time::timeout(BOUND, server)
        .await
        .expect("idle connection closed by shutdown")
        .unwrap()
        .unwrap();
    let n = tokio::time::timeout(BOUND, client.read(&mut buf))
        .await
        .expect("bounded")
        .unwrap();
    assert_eq!(n, 0, "the idle connection was closed");
}

/// The real binary with a request held by `Prefer: latency=60000`: its process, a connection with
/// that request in flight, and the binary's stderr (read once it exits).
fn binary_with_a_held_request(
    shutdown_timeout: &str,
) -> (std::process::Child, std::net::TcpStream) {
    use std::io::Write;
    let crate::support::Capturing {
        child,
        addr,
        example_id: id,
        ..
    } = crate::support::spawn_capturing(
        &["--port", "0", "--shutdown-timeout", shutdown_timeout],
        &[],
    );
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "GET /v2/calls/{id} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer t\r\n\
         Prefer: latency=60000\r\n\r\n"
    )
    .unwrap();
    // The request must be in flight before the signal: the server reads it at once; no
    // assertion depends on this pause, only that the request arrived first.
    std::thread::sleep(Duration::from_millis(500));
    (child, conn)
}

fn signal(child: &std::process::Child, name: &str) {
    let ok = std::process::Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}

/// Waits for the process to exit, at most `bound`; its exit code and how long it took.
fn exit_within(child: &mut std::process::Child, bound: Duration) -> (Option<i32>, Duration) {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), start.elapsed());
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_with_a_held_request_exits_0_at_the_shutdown_deadline() {
    let (mut child, _conn) = binary_with_a_held_request("2");
    signal(&child, "TERM");
    let (code, took) = exit_within(&mut child, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(3), "exited after {took:?}");
    assert!(
        took >= Duration::from_millis(1500),
        "waited for the deadline: {took:?}"
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("closing 1 connection(s) still busy"), "{err}");
}

#[test]
fn a_second_signal_exits_at_once_with_130() {
    let (mut child, _conn) = binary_with_a_held_request("30");
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "draining, not gone");
    signal(&child, "INT");
    let (code, took) = exit_within(&mut child, Duration::from_secs(10));
    assert_eq!(code, Some(130));
    assert!(took < Duration::from_secs(1), "exited after {took:?}");
}
