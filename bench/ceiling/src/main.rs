//! `ceiling BODY_FILE PORT`: the fastest honest answer to `GET /v2/calls/{id}` on this machine.
//! hyper's HTTP/1 connection on a multi-threaded tokio runtime, the body read once into `Bytes`,
//! and per request only what the mock must do too: check for `Authorization: Bearer <token>`,
//! then answer 200 `application/json` with those bytes (401 otherwise). No routing, no id lookup,
//! no logging: what is left is hyper and the kernel.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const UNAUTHORIZED: &[u8] =
    br#"{"detail":{"status":"error","description":"Missing or invalid Authorization header"}}"#;

fn has_bearer(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.as_bytes().get(..7).map(|p| (p, v.as_bytes().len())))
        .is_some_and(|(p, len)| p.eq_ignore_ascii_case(b"bearer ") && len > 7)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(port)) = (args.next(), args.next()) else {
        eprintln!("usage: ceiling BODY_FILE PORT");
        std::process::exit(2);
    };
    let body = Bytes::from(std::fs::read(&file)?);
    let listener = TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap_or(0))).await?;
    println!(
        "ceiling: serving {} bytes on http://{}",
        body.len(),
        listener.local_addr()?
    );
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => continue,
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let resp = if has_bearer(&req) {
                    let mut r = Response::new(Full::new(body.clone()));
                    r.headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    r
                } else {
                    let mut r = Response::new(Full::new(Bytes::from_static(UNAUTHORIZED)));
                    *r.status_mut() = StatusCode::UNAUTHORIZED;
                    r.headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    r
                };
                async move { Ok::<_, Infallible>(resp) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
