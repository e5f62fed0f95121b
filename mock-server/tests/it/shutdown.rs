//! Graceful shutdown of `server::serve_with` (what the binary runs on SIGTERM/Ctrl-C): stop
//! accepting, finish the request in flight, close idle keep-alive connections, return `Ok`.
//! Ordered by channels, not by sleeps: no assertion depends on timing.

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use synthflow_mock::server::{serve_with, ServeOptions};
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
    let server = tokio::spawn(serve_with(
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
    let server = tokio::spawn(serve_with(
        listener,
        router,
        async {
            let _ = stop_rx.await;
        },
        ServeOptions {
            // Far beyond BOUND: only shutdown itself may close the idle connection.
            header_read_timeout: Duration::from_secs(3600),
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
