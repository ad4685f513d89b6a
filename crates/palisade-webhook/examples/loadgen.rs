//! A small HTTPS load generator for `bench/webhook.sh`.
//!
//! `loadgen --addr 127.0.0.1:8443 --ca ca.crt --path /validate --rate 2000
//! --duration 10 --connections 8 BODY.json...` sends the bodies in turn
//! over keep-alive HTTP/1.1 connections. With `--rate N` the load is open
//! loop: request i is due at start + i/N; when its connection is still busy
//! at that time, latency is measured from the due time, so a slow server
//! cannot hide its queueing (no coordinated
//! omission). With `--rate 0` each connection sends back to back
//! (saturation). Prints one line: requests, errors, rps, p50, p99, p99.9,
//! max, `overloaded` (answers saying the webhook is overloaded) and `late`
//! (requests not answered within `--timeout`, default 5 s: the API server's
//! webhook timeout; they count as errors and the connection is replaced).
//!
//! `--slowloris N` also holds N hostile connections for the whole run: each
//! completes TLS, sends a request line and then one header line per second
//! and never ends its headers; when the server closes it, it reconnects.

use rustls::pki_types::ServerName;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Args {
    addr: String,
    ca: String,
    path: String,
    rate: f64,
    duration: f64,
    connections: usize,
    slowloris: usize,
    timeout: f64,
    bodies: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:8443".into(),
        ca: String::new(),
        path: "/validate".into(),
        rate: 0.0,
        duration: 10.0,
        connections: 8,
        slowloris: 0,
        timeout: 5.0,
        bodies: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => a.addr = val()?,
            "--ca" => a.ca = val()?,
            "--path" => a.path = val()?,
            "--rate" => a.rate = val()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--duration" => a.duration = val()?.parse().map_err(|e| format!("--duration: {e}"))?,
            "--connections" => {
                a.connections = val()?.parse().map_err(|e| format!("--connections: {e}"))?
            }
            "--slowloris" => {
                a.slowloris = val()?.parse().map_err(|e| format!("--slowloris: {e}"))?
            }
            "--timeout" => a.timeout = val()?.parse().map_err(|e| format!("--timeout: {e}"))?,
            _ => a.bodies.push(flag),
        }
    }
    if a.ca.is_empty() || a.bodies.is_empty() {
        return Err("usage: loadgen --ca FILE [--addr A] [--path P] [--rate N] [--duration S] [--connections C] [--slowloris N] [--timeout S] BODY...".into());
    }
    Ok(a)
}

type Stream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

async fn connect(addr: &str, config: Arc<rustls::ClientConfig>) -> std::io::Result<Stream> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
}

/// Sends one request and reads one response; true on HTTP 200.
async fn exchange(s: &mut Stream, req: &[u8], buf: &mut Vec<u8>) -> std::io::Result<bool> {
    s.write_all(req).await?;
    buf.clear();
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(head.starts_with("http/1.1 200"));
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(args));
}

async fn run(args: Args) {
    let pem = std::fs::read(&args.ca).expect("read --ca");
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.expect("PEM")).expect("CA");
    }
    let config = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        args.bodies
            .iter()
            .map(|f| {
                let body = std::fs::read(f).expect("read body");
                let mut r = format!(
                    "POST {} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    args.path,
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            })
            .collect(),
    );
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let overloaded = Arc::new(AtomicU64::new(0));
    let late = Arc::new(AtomicU64::new(0));
    let timeout = Duration::from_secs_f64(args.timeout);
    let held = Arc::new(AtomicU64::new(0));
    for _ in 0..args.slowloris {
        tokio::spawn(slowloris(args.addr.clone(), config.clone(), held.clone()));
    }
    if args.slowloris > 0 {
        // Let the hostile connections open before the measurement.
        for _ in 0..100 {
            if held.load(Ordering::Relaxed) >= args.slowloris as u64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!(
            "slowloris: {} connections held",
            held.load(Ordering::Relaxed)
        );
    }
    let start = Instant::now() + Duration::from_millis(200);
    let end = start + Duration::from_secs_f64(args.duration);
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (config, requests, next, errors, overloaded, late) = (
            config.clone(),
            requests.clone(),
            next.clone(),
            errors.clone(),
            overloaded.clone(),
            late.clone(),
        );
        let (addr, rate) = (args.addr.clone(), args.rate);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            let mut s = connect(&addr, config.clone()).await.expect("connect");
            let mut buf = Vec::with_capacity(16384);
            tokio::time::sleep_until(start.into()).await;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let due = if rate > 0.0 {
                    let due = start + Duration::from_secs_f64(i as f64 / rate);
                    if due >= end {
                        break;
                    }
                    if Instant::now() < due {
                        // The connection was free in time: the timer's
                        // (1 ms) lateness is ours, measure from the send.
                        tokio::time::sleep_until(due.into()).await;
                        Instant::now()
                    } else {
                        // Late because earlier answers were slow: the
                        // server's queueing counts.
                        due
                    }
                } else {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    now
                };
                let req = &requests[i as usize % requests.len()];
                let left = timeout.saturating_sub(due.elapsed());
                match tokio::time::timeout(left, exchange(&mut s, req, &mut buf)).await {
                    Ok(Ok(true)) => {
                        lat.push(due.elapsed().as_nanos() as u64);
                        if buf.windows(10).any(|w| w == b"overloaded") {
                            overloaded.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(Ok(false)) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        late.fetch_add(1, Ordering::Relaxed);
                        errors.fetch_add(1, Ordering::Relaxed);
                        s = connect(&addr, config.clone()).await.expect("reconnect");
                    }
                    Ok(Err(_)) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        s = connect(&addr, config.clone()).await.expect("reconnect");
                    }
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let elapsed = args.duration.max(0.001);
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i] as f64 / 1e6
    };
    println!(
        "requests={} errors={} rps={:.0} p50_ms={:.3} p99_ms={:.3} p999_ms={:.3} max_ms={:.3} overloaded={} late={}",
        all.len(),
        errors.load(Ordering::Relaxed),
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(0.999),
        pct(1.0),
        overloaded.load(Ordering::Relaxed),
        late.load(Ordering::Relaxed)
    );
}

/// One slowloris connection: TLS, a request line, then a header line per
/// second, never the blank line that ends the headers; reconnects when the
/// server closes it. `held` counts the connections open.
async fn slowloris(addr: String, config: Arc<rustls::ClientConfig>, held: Arc<AtomicU64>) {
    loop {
        let Ok(mut s) = connect(&addr, config.clone()).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        held.fetch_add(1, Ordering::Relaxed);
        let mut line = b"POST /validate HTTP/1.1\r\nHost: localhost\r\n".to_vec();
        while s.write_all(&line).await.is_ok() && s.flush().await.is_ok() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            line = b"X-Slow: 1\r\n".to_vec();
        }
        held.fetch_sub(1, Ordering::Relaxed);
    }
}
