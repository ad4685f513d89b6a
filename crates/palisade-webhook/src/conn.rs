//! One client connection: TLS handshake within the header timeout, the
//! allowed client certificate subjects, HTTP/1.1 or HTTP/2, and an idle
//! timeout that closes a connection with no request in flight (HTTP/1
//! keep-alive and HTTP/2 alike), so idle connections cannot pile up.

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// What every connection shares.
pub(crate) struct ConnShared {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) app: axum::Router,
    pub(crate) builder: Builder<TokioExecutor>,
    /// TLS handshake deadline.
    pub(crate) handshake: Duration,
    /// Close a connection idle for this long.
    pub(crate) idle: Duration,
    /// Allowed client certificate common names (empty: any the CA signed).
    pub(crate) client_cn: Vec<String>,
}

/// Requests in flight and the time of the last one's end, in ms since the
/// connection started.
struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    last: AtomicU64,
}

impl Activity {
    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let now = self.start.elapsed().as_millis() as u64;
        Some(Duration::from_millis(
            now.saturating_sub(self.last.load(Ordering::SeqCst)),
        ))
    }
}

/// Ends a request in [`Activity`] when dropped (also when the request's
/// future is dropped because the client left).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        a.last
            .store(a.start.elapsed().as_millis() as u64, Ordering::SeqCst);
        a.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `tcp` until it closes, goes idle or `stop` turns true (then
/// in-flight requests finish first).
pub(crate) async fn serve(
    shared: Arc<ConnShared>,
    tcp: TcpStream,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let tls = match tokio::time::timeout(shared.handshake, shared.acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    if !shared.client_cn.is_empty() {
        let certs = tls.get_ref().1.peer_certificates().unwrap_or(&[]);
        match certs.first().map(|c| common_names(c)) {
            Some(cns) if cns.iter().any(|cn| shared.client_cn.contains(cn)) => {}
            found => {
                tracing::warn!(%peer, subject = ?found, allowed = ?shared.client_cn, "client certificate subject not allowed: connection closed");
                return;
            }
        }
    }
    let activity = Arc::new(Activity {
        start: Instant::now(),
        in_flight: AtomicUsize::new(0),
        last: AtomicU64::new(0),
    });
    let app = shared.app.clone();
    let act = activity.clone();
    let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        act.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(act.clone());
        let fut = app.clone().oneshot(req.map(axum::body::Body::new));
        async move {
            let out = fut.await;
            drop(guard);
            out
        }
    });
    let conn = shared.builder.serve_connection(TokioIo::new(tls), svc);
    tokio::pin!(conn);
    let tick = (shared.idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut closing = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep(tick), if !closing => {
                if activity.idle_for().is_some_and(|d| d >= shared.idle) {
                    tracing::debug!(%peer, "idle connection closed");
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The subject common names of a DER certificate (none when unreadable).
fn common_names(der: &[u8]) -> Vec<String> {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => cert
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok().map(str::to_string))
            .collect(),
        Err(_) => Vec::new(),
    }
}
