//! `synthflow-mock healthcheck`: the container's HEALTHCHECK, which must work without a shell or
//! curl (the image is `FROM scratch`). One raw HTTP/1.1 `GET /healthz` to 127.0.0.1:PORT: exit 0 on
//! a 200, 1 on anything else (refused, timeout, another status). Loads nothing, logs nothing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;

/// The whole check must end within this.
const TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Args, Debug)]
pub struct HealthcheckArgs {
    /// The port the mock listens on (loopback).
    #[arg(long, env = "SYNTHFLOW_MOCK_PORT", default_value_t = 8080)]
    port: u16,
}

pub fn run(args: &HealthcheckArgs) -> ExitCode {
    match check(args.port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synthflow-mock healthcheck: {e}");
            ExitCode::from(1)
        }
    }
}

fn check(port: u16) -> Result<(), String> {
    let start = Instant::now();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("{addr}: {e}"))?;
    let left = || {
        TIMEOUT
            .saturating_sub(start.elapsed())
            .max(Duration::from_millis(1))
    };
    s.set_write_timeout(Some(left()))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("write: {e}"))?;
    s.set_read_timeout(Some(left()))
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 16];
    let mut n = 0;
    while n < head.len() {
        match s.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    let line = String::from_utf8_lossy(&head[..n]);
    if line.starts_with("HTTP/1.1 200") || line.starts_with("HTTP/1.0 200") {
        Ok(())
    } else {
        Err(format!("GET /healthz answered {line:?}"))
    }
}
