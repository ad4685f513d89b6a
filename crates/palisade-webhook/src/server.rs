//! The HTTPS server: accept loop, TLS handshakes, HTTP/1.1 and HTTP/2,
//! timeouts for slow clients, graceful shutdown.

use crate::app::{router, AppState};
use crate::engine::{Engine, LoadError, PolicyFactory};
use crate::reload::{hangup, Hangup, Reloader, Stamps};
use crate::tls::{load_certified_key, server_config, CertStore, TlsError};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (`0.0.0.0:8443`; port 0 picks a free one).
    pub addr: SocketAddr,
    /// Configuration file (`None`: the defaults).
    pub config: Option<PathBuf>,
    /// Serving certificate chain (PEM).
    pub tls_cert: PathBuf,
    /// Serving key (PEM).
    pub tls_key: PathBuf,
    /// CA whose client certificates are required (the API server's).
    pub client_ca: Option<PathBuf>,
    /// How often changed files are looked for.
    pub reload_interval: Duration,
    /// Time allowed for the TLS handshake and the request headers.
    pub header_timeout: Duration,
    /// Time in-flight requests get to finish at shutdown.
    pub shutdown_timeout: Duration,
    /// Serve `/noop` and `/noop-bare`, the benchmark's references (see
    /// [`crate::router`]).
    pub noop_route: bool,
}

impl ServeOptions {
    /// Options with the defaults for everything but the files and address.
    pub fn new(addr: SocketAddr, tls_cert: PathBuf, tls_key: PathBuf) -> ServeOptions {
        ServeOptions {
            addr,
            config: None,
            tls_cert,
            tls_key,
            client_ca: None,
            reload_interval: Duration::from_secs(2),
            header_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            noop_route: false,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration or policies are invalid.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// The TLS files are invalid.
    #[error("{0}")]
    Tls(#[from] TlsError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A bound server, ready to run.
pub struct Server {
    opts: ServeOptions,
    listener: TcpListener,
    state: Arc<AppState>,
    certs: Arc<CertStore>,
    acceptor: TlsAcceptor,
    factory: PolicyFactory,
    stamps: Stamps,
    hup: Hangup,
}

impl Server {
    /// Loads the configuration and TLS files and binds the address.
    pub async fn bind(opts: ServeOptions, factory: PolicyFactory) -> Result<Server, ServeError> {
        let stamps = Stamps::now(opts.config.as_deref(), &opts.tls_cert, &opts.tls_key);
        let engine = Engine::load(opts.config.as_deref(), &factory)?;
        let certs = Arc::new(CertStore::new(load_certified_key(
            &opts.tls_cert,
            &opts.tls_key,
        )?));
        let tls = server_config(certs.clone(), opts.client_ca.as_deref())?;
        let listener = TcpListener::bind(opts.addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: opts.addr,
                source,
            })?;
        Ok(Server {
            state: Arc::new(AppState::new(engine)),
            acceptor: TlsAcceptor::from(Arc::new(tls)),
            certs,
            listener,
            opts,
            factory,
            stamps,
            hup: hangup(),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (engine, metrics).
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// Serves until `shutdown` completes, then stops accepting and lets
    /// in-flight requests finish (up to the shutdown timeout).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let reloader = Reloader {
            config: self.opts.config.clone(),
            cert: self.opts.tls_cert.clone(),
            key: self.opts.tls_key.clone(),
            factory: self.factory.clone(),
            state: self.state.clone(),
            certs: self.certs.clone(),
        };
        let watcher =
            tokio::spawn(reloader.watch(self.opts.reload_interval, self.stamps.clone(), self.hup));
        let app = router(self.state.clone(), self.opts.noop_route);
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.opts.header_timeout);
        builder.http2().timer(TokioTimer::new());
        let builder = Arc::new(builder);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let handshake = self.opts.header_timeout;
        tokio::pin!(shutdown);
        tracing::info!(addr = %self.listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "serving");
        loop {
            let (tcp, peer) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = self.acceptor.clone();
            let app = app.clone();
            let builder = builder.clone();
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let tls = match tokio::time::timeout(handshake, acceptor.accept(tcp)).await {
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
                let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    app.clone().oneshot(req.map(axum::body::Body::new))
                });
                let conn = builder.serve_connection(TokioIo::new(tls), svc);
                if let Err(e) = watcher.watch(conn).await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
        self.state.set_ready(false);
        watcher.abort();
        drop(self.listener);
        tracing::info!("shutting down: waiting for in-flight requests");
        if tokio::time::timeout(self.opts.shutdown_timeout, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("shutdown timeout: closing remaining connections");
        }
    }
}
