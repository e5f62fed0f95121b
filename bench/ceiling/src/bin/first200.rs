//! `first200 HOST:PORT PATH TOKEN [LIMIT_MS]`: polls the server with a raw HTTP/1.1 GET every
//! millisecond until it answers 200, then prints the wall-clock time of that answer as Unix
//! microseconds (to subtract the launch time the caller took, e.g. bash's `$EPOCHREALTIME`).
//! Exits 1 if no 200 came within LIMIT_MS (default 60000). Loopback only: HOST must be 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 || !args[0].starts_with("127.0.0.1:") {
        eprintln!("usage: first200 127.0.0.1:PORT PATH TOKEN [LIMIT_MS]");
        std::process::exit(2);
    }
    let limit = Duration::from_millis(args.get(3).and_then(|s| s.parse().ok()).unwrap_or(60_000));
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        args[1], args[0], args[2]
    );
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(mut s) = TcpStream::connect(&args[0]) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = [0u8; 12];
            if s.write_all(request.as_bytes()).is_ok()
                && s.read_exact(&mut head).is_ok()
                && &head[9..12] == b"200"
            {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                println!("{}", now.as_micros());
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    eprintln!("first200: no 200 from {} within {limit:?}", args[0]);
    std::process::exit(1);
}
