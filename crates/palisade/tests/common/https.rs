//! Requests to a `palisade serve` under test over TLS, trusting the CA its
//! `certs` wrote (HTTP/1.1, one request per connection).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

/// A TLS connection to `addr` trusting `ca` for `localhost`.
fn connect(ca: &Path, addr: &str) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let pem = std::fs::read(ca).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    rustls::StreamOwned::new(conn, TcpStream::connect(addr).unwrap())
}

/// GETs `path` on `addr` over TLS: the whole raw answer, head and body.
pub fn get_raw(ca: &Path, addr: &str, path: &str) -> String {
    let mut s = connect(ca, addr);
    let head = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw).into_owned()
}

/// POSTs `body` to `path` on `addr`, trusting `ca` for `localhost`: the
/// status and the JSON body (`Null` when the body is not JSON).
pub fn post(ca: &Path, addr: &str, path: &str, body: &Value) -> (u16, Value) {
    let mut s = connect(ca, addr);
    let body = serde_json::to_vec(body).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body).unwrap();
    s.flush().unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {}", String::from_utf8_lossy(&raw)));
    let status = String::from_utf8_lossy(&raw[9..12]).parse().unwrap();
    (
        status,
        serde_json::from_slice(&raw[end + 4..]).unwrap_or(Value::Null),
    )
}

/// [`post`] of an AdmissionReview: its `response` (the status in the panic
/// message when the answer is not JSON).
pub fn review(ca: &Path, addr: &str, path: &str, review: &Value) -> Value {
    let (status, v) = post(ca, addr, path, review);
    assert!(!v.is_null(), "HTTP {status}: the answer is not JSON");
    v["response"].clone()
}
