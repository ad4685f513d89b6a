//! The HTTPS server: accept loop with a connection cap, TLS handshakes,
//! HTTP/1.1 and HTTP/2, timeouts for slow and idle clients, the plain-HTTP
//! health port, graceful shutdown.

use crate::app::{health_router, router, AppState};
use crate::conn::{serve, ConnShared};
use crate::engine::{Engine, LoadError, PolicyFactory};
use crate::reload::{hangup, Hangup, Reloader, Stamps};
use crate::tls::{load_certified_key, server_config, CertStore, TlsError};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

/// Default of [`ServeOptions::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

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
    /// Allowed subject common names of client certificates (empty: any
    /// certificate `client_ca` signed).
    pub client_cn: Vec<String>,
    /// Plain-HTTP address serving only `/healthz` and `/readyz` for kubelet
    /// probes (which present no client certificate); `None`: not served.
    pub health_addr: Option<SocketAddr>,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// A connection with no request in flight for this long is closed
    /// (HTTP/1 keep-alive and HTTP/2).
    pub idle_timeout: Duration,
    /// How often changed files are looked for.
    pub reload_interval: Duration,
    /// Time allowed for the TLS handshake and the request headers.
    pub header_timeout: Duration,
    /// Time in-flight requests get to finish at shutdown.
    pub shutdown_timeout: Duration,
    /// Serve `/noop` and `/noop-bare`, the benchmark's references (see
    /// [`crate::router`]).
    pub noop_route: bool,
    /// Registry access beyond the config's `registries:` (credentials of
    /// `--registry-config`).
    pub registry: crate::images::RegistryExtras,
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
            client_cn: Vec::new(),
            health_addr: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: Duration::from_secs(60),
            reload_interval: Duration::from_secs(2),
            header_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            noop_route: false,
            registry: crate::images::RegistryExtras::default(),
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
    health: Option<TcpListener>,
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
        let engine = Engine::load_with(opts.config.as_deref(), &factory, &opts.registry)?;
        let certs = Arc::new(CertStore::new(load_certified_key(
            &opts.tls_cert,
            &opts.tls_key,
        )?));
        let tls = server_config(certs.clone(), opts.client_ca.as_deref())?;
        let listener = bind(opts.addr).await?;
        let health = match opts.health_addr {
            Some(a) => Some(bind(a).await?),
            None => None,
        };
        Ok(Server {
            health,
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

    /// The bound health address, if any.
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health.as_ref().and_then(|l| l.local_addr().ok())
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
            registry: self.opts.registry.clone(),
            state: self.state.clone(),
            certs: self.certs.clone(),
        };
        let watcher =
            tokio::spawn(reloader.watch(self.opts.reload_interval, self.stamps.clone(), self.hup));
        let (stop_tx, stop) = watch::channel(false);
        let health = self.health.map(|l| {
            let app = health_router(self.state.clone());
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let done = async move {
                    let _ = stop.changed().await;
                };
                if let Err(e) = axum::serve(l, app).with_graceful_shutdown(done).await {
                    tracing::warn!(error = %e, "health port stopped");
                }
            })
        });
        let shared = Arc::new(ConnShared {
            acceptor: self.acceptor.clone(),
            app: router(self.state.clone(), self.opts.noop_route),
            builder: http_builder(&self.opts),
            handshake: self.opts.header_timeout,
            idle: self.opts.idle_timeout,
            client_cn: self.opts.client_cn.clone(),
        });
        let max = self.opts.max_connections.max(1);
        let slots = Arc::new(Semaphore::new(max));
        tokio::pin!(shutdown);
        tracing::info!(addr = %self.listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "serving");
        loop {
            let accepted = tokio::select! {
                _ = &mut shutdown => break,
                a = accept(&self.listener, &slots) => a,
            };
            let Some((tcp, peer, slot)) = accepted else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let (shared, stop) = (shared.clone(), stop.clone());
            tokio::spawn(async move {
                serve(shared, tcp, peer, stop).await;
                drop(slot);
            });
        }
        self.state.set_ready(false);
        watcher.abort();
        drop(self.listener);
        tracing::info!("shutting down: waiting for in-flight requests");
        let _ = stop_tx.send(true);
        let all = slots.acquire_many(max as u32);
        if tokio::time::timeout(self.opts.shutdown_timeout, all)
            .await
            .is_err()
        {
            tracing::warn!("shutdown timeout: closing remaining connections");
        }
        if let Some(h) = health {
            h.abort();
        }
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// HTTP/1: header read timeout; HTTP/2: keep-alive pings (a peer that does
/// not answer within the header timeout is dropped) and a stream cap.
fn http_builder(opts: &ServeOptions) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(opts.header_timeout)
        .max_concurrent_streams(256);
    builder
}

/// Waits for a connection slot, then accepts one connection.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> Option<(
    tokio::net::TcpStream,
    SocketAddr,
    tokio::sync::OwnedSemaphorePermit,
)> {
    let slot = slots.clone().acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((tcp, peer)) => Some((tcp, peer, slot)),
        Err(e) => {
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(Duration::from_millis(10)).await;
            None
        }
    }
}
