//! `receiver PORT count|silent`: the webhook receiver of bench/webhooks.sh.
//!
//! - `count`: answers every POST with 200 and counts it, with the times of the first and the last
//!   one; `GET /stats` answers `count first_ns last_ns` (nanoseconds since the receiver started), so
//!   the bench computes deliveries per second as the senders delivered them, not as it polled.
//! - `silent`: accepts connections and never reads or answers (a receiver that hangs): what a
//!   sender must survive without slowing the API it serves.
//!
//! hyper on tokio, like the ceiling, so the receiver is never the bottleneck of the measure.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Default)]
struct Stats {
    count: AtomicU64,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(mode)) = (args.next(), args.next()) else {
        eprintln!("usage: receiver PORT count|silent");
        std::process::exit(2);
    };
    let silent = match mode.as_str() {
        "count" => false,
        "silent" => true,
        other => {
            eprintln!("receiver: unknown mode {other:?} (count|silent)");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap_or(0))).await?;
    println!("receiver: {mode} on http://{}", listener.local_addr()?);
    let start = Instant::now();
    let stats = Arc::new(Stats::default());
    let mut held = Vec::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if silent {
            // Keep the socket open and unread: the sender waits for its own timeout.
            held.push(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let stats = stats.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let stats = stats.clone();
                async move {
                    if req.method() == Method::GET {
                        let body = format!(
                            "{} {} {}\n",
                            stats.count.load(Ordering::SeqCst),
                            stats.first_ns.load(Ordering::SeqCst),
                            stats.last_ns.load(Ordering::SeqCst)
                        );
                        return Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))));
                    }
                    // Read the whole body, as a real receiver would, before answering.
                    let _ = req.into_body().collect().await;
                    let now = start.elapsed().as_nanos() as u64;
                    let _ = stats.first_ns.compare_exchange(
                        0,
                        now,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                    stats.last_ns.fetch_max(now, Ordering::SeqCst);
                    stats.count.fetch_add(1, Ordering::SeqCst);
                    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
