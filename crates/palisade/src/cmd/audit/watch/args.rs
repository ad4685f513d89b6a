//! The flags of `audit --watch`.

use palisade_audit::live::lease::{Elector, LeaseConfig};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Controller mode.
#[derive(clap::Args, Debug, Clone)]
pub struct WatchArgs {
    /// Keep running: watch the kinds the rules read, re-evaluate what
    /// changes, keep the reports current (with `--apply`).
    #[arg(long, conflicts_with = "snapshot")]
    pub watch: bool,
    /// Seconds between full passes (every object evaluated again, the API
    /// server's version read again).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 600,
        requires = "watch"
    )]
    pub resync: u64,
    /// Milliseconds to wait after a change for more before evaluating
    /// (bursts are evaluated once).
    #[arg(long, value_name = "MS", default_value_t = 1000, requires = "watch")]
    pub debounce_ms: u64,
    /// Seconds the API server keeps one watch request open.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 290,
        requires = "watch"
    )]
    pub watch_timeout: u32,
    /// Elect a leader on this `coordination.k8s.io/v1` Lease: only its
    /// holder writes reports; the other replicas keep their cache warm.
    /// Without it this replica always writes.
    #[arg(long, value_name = "NAME", requires = "watch")]
    pub lease_name: Option<String>,
    /// The Lease's namespace [default: POD_NAMESPACE, then the service
    /// account's namespace, then `default`].
    #[arg(long, value_name = "NAMESPACE", requires = "lease_name")]
    pub lease_namespace: Option<String>,
    /// Seconds a holder that stops renewing keeps the Lease.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 15,
        requires = "lease_name"
    )]
    pub lease_duration: u64,
    /// Seconds between renewals (and between a follower's looks).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 2.0,
        requires = "lease_name"
    )]
    pub lease_renew: f64,
    /// Serve `/healthz`, `/readyz` and `/metrics` (Prometheus) on ADDR
    /// (e.g. `0.0.0.0:9090`).
    #[arg(long, value_name = "ADDR", requires = "watch")]
    pub metrics_addr: Option<SocketAddr>,
}

impl WatchArgs {
    /// The elector of `--lease-name`, if given.
    pub fn lease(&self, client: &kube::Client) -> Option<Elector> {
        let name = self.lease_name.clone()?;
        let namespace = self.lease_namespace.clone().unwrap_or_else(own_namespace);
        let renew = if self.lease_renew.is_finite() && self.lease_renew > 0.0 {
            Duration::from_secs_f64(self.lease_renew)
        } else {
            Duration::from_secs(2)
        };
        let cfg = LeaseConfig {
            namespace,
            name,
            identity: identity(),
            duration: Duration::from_secs(self.lease_duration.max(1)),
            retry: renew,
        };
        eprintln!(
            "lease {}/{} as {} (duration {}s)",
            cfg.namespace,
            cfg.name,
            cfg.identity,
            cfg.duration.as_secs()
        );
        Some(Elector::new(client.clone(), cfg))
    }
}

/// This replica's identity: `POD_NAME`, else the host name.
fn identity() -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    env("POD_NAME")
        .or_else(|| env("HOSTNAME"))
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| format!("palisade-{}", std::process::id()))
}

/// `POD_NAMESPACE`, else the service account's namespace, else `default`.
fn own_namespace() -> String {
    const SA: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
    std::env::var("POD_NAMESPACE")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string(Path::new(SA))
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "default".into())
}
