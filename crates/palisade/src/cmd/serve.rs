//! `palisade serve`: the admission webhook.

use crate::engine::{build_with, EngineArgs, DEFAULT_CONFIG};
use anyhow::Context as _;
use palisade_webhook::{PolicyFactory, ServeOptions, Server};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `palisade serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Serving certificate chain (PEM).
    #[arg(long, value_name = "FILE")]
    tls_cert: PathBuf,
    /// Serving private key (PEM).
    #[arg(long, value_name = "FILE")]
    tls_key: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    addr: SocketAddr,
    /// Require client certificates signed by this CA (the API server's).
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// With --client-ca: the allowed subject common name of client
    /// certificates (e.g. `kube-apiserver`); repeat for several. Without
    /// it any certificate the CA signed is accepted.
    #[arg(long, value_name = "CN", requires = "client_ca")]
    client_cn: Vec<String>,
    /// Plain-HTTP address for `/healthz` and `/readyz` only (kubelet probes
    /// present no client certificate), or `off`.
    #[arg(long, default_value = "0.0.0.0:8080", value_name = "ADDR|off")]
    health_addr: String,
    /// Connections served at once; further ones wait in the listen backlog.
    #[arg(long, default_value_t = palisade_webhook::server::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Seconds a connection may stay open with no request in flight.
    #[arg(long, default_value = "60", value_name = "SECONDS")]
    idle_timeout: f64,
    /// Docker `config.json` with registry credentials (`auths`) for the
    /// image verification of `images:` policies. With --cluster the pods'
    /// own `imagePullSecrets` (and their service account's) are read too.
    #[arg(long, value_name = "FILE")]
    registry_config: Option<PathBuf>,
    #[command(flatten)]
    cluster: super::serve_cluster::ClusterArgs,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Log filter (`info`, `debug` for one line per decision, or an
    /// EnvFilter directive); RUST_LOG overrides it.
    #[arg(long, default_value = "info")]
    log_level: String,
    /// Seconds between checks of the config and TLS files for changes.
    #[arg(long, default_value = "2", value_name = "SECONDS")]
    reload_interval: f64,
    /// Seconds a client gets for the TLS handshake and request headers.
    #[arg(long, default_value = "10", value_name = "SECONDS")]
    header_timeout: f64,
    /// Seconds in-flight requests get to finish at shutdown.
    #[arg(long, default_value = "30", value_name = "SECONDS")]
    shutdown_timeout: f64,
    /// Serve `/noop` (the no-op admission handler: decode the review,
    /// answer allowed, no policy) and `/noop-bare` (read the body only), the
    /// benchmark's references.
    #[arg(long, hide = true)]
    noop_route: bool,
    /// Worker threads (default: one per core).
    #[arg(long, hide = true)]
    threads: Option<usize>,
}

/// Log output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

fn secs(v: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(v)
        .map_err(|_| anyhow::anyhow!("{flag}: `{v}` is not a number of seconds"))
}

fn init_logs(args: &ServeArgs) -> anyhow::Result<()> {
    let lvl = args.log_level.as_str();
    // A bare level applies to Palisade's own logs; libraries stay at warn.
    let directive = if matches!(lvl, "error" | "warn" | "info" | "debug" | "trace") {
        format!("warn,palisade={lvl},palisade_webhook={lvl}")
    } else {
        lvl.to_string()
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&directive))
        .with_context(|| format!("--log-level {}", args.log_level))?;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Json => b.json().flatten_event(true).init(),
        LogFormat::Text => b.with_ansi(false).init(),
    }
    Ok(())
}

/// Runs the webhook until SIGINT or SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::memory::compact();
    let _ = rustls::crypto::ring::default_provider().install_default();
    init_logs(&args)?;
    let config = args.engine.config.clone().or_else(|| {
        let p = PathBuf::from(DEFAULT_CONFIG);
        p.is_file().then_some(p)
    });
    let engine_args = args.engine.clone();
    let factory: PolicyFactory =
        Arc::new(move |c| build_with(c.clone(), &engine_args).map_err(|e| format!("{e:#}").into()));
    let mut opts = ServeOptions::new(args.addr, args.tls_cert.clone(), args.tls_key.clone());
    opts.config = config;
    opts.client_ca = args.client_ca.clone();
    opts.client_cn = args.client_cn.clone();
    opts.health_addr = match args.health_addr.as_str() {
        "off" => None,
        a => Some(
            a.parse()
                .map_err(|_| anyhow::anyhow!("--health-addr: `{a}` is not ADDR:PORT or `off`"))?,
        ),
    };
    opts.max_connections = args.max_connections;
    opts.idle_timeout = secs(args.idle_timeout, "--idle-timeout")?;
    opts.reload_interval = secs(args.reload_interval, "--reload-interval")?;
    opts.header_timeout = secs(args.header_timeout, "--header-timeout")?;
    opts.shutdown_timeout = secs(args.shutdown_timeout, "--shutdown-timeout")?;
    opts.noop_route = args.noop_route;
    if let Some(p) = &args.registry_config {
        opts.registry.options.credentials = super::image::docker_credentials(p)?;
    }
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        if args.cluster.cluster {
            let cluster = super::serve_cluster::Cluster::start(&args.cluster)
                .await
                .context("--cluster")?;
            opts.registry.cluster = Some(cluster.clone());
            opts.registry.pull_secrets = Some(cluster);
            eprintln!("palisade: watching the cluster's namespaces and RBAC objects");
        }
        let server = Server::bind(opts, factory).await?;
        let shutdown = shutdown_signal();
        let addr = server.local_addr()?;
        if let Some(h) = server.health_addr() {
            eprintln!("palisade: health probes on http://{h}/healthz and /readyz");
        }
        // The one line scripts and tests wait for.
        eprintln!("palisade: listening on https://{addr}");
        server.run(shutdown).await;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Catches SIGINT and SIGTERM from now on (inside the runtime, before the
/// server says it is listening, so a signal sent once it is up never meets
/// the default action) and completes when one arrives.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, Signal, SignalKind};
    async fn next(s: Option<Signal>) {
        match s {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    let int = next(signal(SignalKind::interrupt()).ok());
    let term = next(signal(SignalKind::terminate()).ok());
    async move {
        tokio::select! { _ = int => {}, _ = term => {} }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
