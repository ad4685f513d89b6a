//! `--metrics-addr`: `/healthz`, `/readyz` (ready once the first full pass
//! is done) and `/metrics` in Prometheus' text format.
//!
//! Label cardinality is bounded: findings are per rule × namespace ×
//! severity (rules are the loaded policy set's, namespaces the cluster's),
//! watch counters per watched kind; no object names, no label values from
//! object contents.

use palisade_core::Finding;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// The auditor's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    findings: Family<Labels, Gauge>,
    last_pass: FloatGauge,
    pass_age: FloatGauge,
    pass_duration: FloatGauge,
    leader: Gauge,
    objects: Gauge,
    events: Family<Labels, Counter>,
    restarts: Family<Labels, Counter>,
    not_audited: Family<Labels, Gauge>,
    applied: Counter,
    deleted: Counter,
    write_errors: Counter,
    /// Unix time of the last full pass, in milliseconds (0: none yet).
    last_pass_ms: AtomicU64,
    ready: AtomicBool,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut r = Registry::default();
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            findings: Family::default(),
            last_pass: FloatGauge::default(),
            pass_age: FloatGauge::default(),
            pass_duration: FloatGauge::default(),
            leader: Gauge::default(),
            objects: Gauge::default(),
            events: Family::default(),
            restarts: Family::default(),
            not_audited: Family::default(),
            applied: Counter::default(),
            deleted: Counter::default(),
            write_errors: Counter::default(),
            last_pass_ms: AtomicU64::new(0),
            ready: AtomicBool::new(false),
        };
        r.register(
            "palisade_audit_findings",
            "Reported findings by rule, namespace (empty: cluster-scoped) and severity",
            m.findings.clone(),
        );
        r.register(
            "palisade_audit_last_full_pass_timestamp_seconds",
            "Unix time the last full pass ended",
            m.last_pass.clone(),
        );
        r.register(
            "palisade_audit_last_full_pass_age_seconds",
            "Seconds since the last full pass ended",
            m.pass_age.clone(),
        );
        r.register(
            "palisade_audit_last_full_pass_duration_seconds",
            "How long the last full pass took",
            m.pass_duration.clone(),
        );
        r.register(
            "palisade_audit_leader",
            "1 when this replica holds the lease and writes the reports",
            m.leader.clone(),
        );
        r.register(
            "palisade_audit_objects",
            "Objects held in memory",
            m.objects.clone(),
        );
        r.register(
            "palisade_audit_watch_events",
            "Watch events by kind and type (listed, applied, deleted)",
            m.events.clone(),
        );
        r.register(
            "palisade_audit_watch_restarts",
            "Watch failures by kind (each is followed by a back-off and a relist)",
            m.restarts.clone(),
        );
        r.register(
            "palisade_audit_not_audited",
            "1 for a kind that cannot be listed or watched",
            m.not_audited.clone(),
        );
        r.register(
            "palisade_audit_reports_applied",
            "Reports written by server-side apply",
            m.applied.clone(),
        );
        r.register(
            "palisade_audit_reports_deleted",
            "Reports deleted",
            m.deleted.clone(),
        );
        r.register(
            "palisade_audit_report_write_errors",
            "Report writes or deletes that failed",
            m.write_errors.clone(),
        );
        *m.registry.lock().unwrap_or_else(|e| e.into_inner()) = r;
        m
    }

    /// The findings of a pass, replacing the previous ones.
    pub fn set_findings(&self, findings: &[Finding]) {
        let mut counts: BTreeMap<(&str, &str, &str), i64> = BTreeMap::new();
        for f in findings {
            let ns = f.resource.namespace.as_deref().unwrap_or("");
            *counts
                .entry((&*f.rule, ns, f.severity.as_str()))
                .or_default() += 1;
        }
        self.findings.clear();
        for ((rule, ns, sev), n) in counts {
            let labels = vec![
                ("rule", rule.to_string()),
                ("namespace", ns.to_string()),
                ("severity", sev.to_string()),
            ];
            self.findings.get_or_create(&labels).set(n);
        }
    }

    /// A full pass ended after `seconds`.
    pub fn full_pass(&self, seconds: f64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.last_pass.set(now.as_secs_f64());
        self.pass_duration.set(seconds);
        self.last_pass_ms
            .store(now.as_millis() as u64, Ordering::Relaxed);
        self.ready.store(true, Ordering::Relaxed);
    }

    /// Whether this replica leads.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Objects held.
    pub fn set_objects(&self, n: usize) {
        self.objects.set(n as i64);
    }

    /// A watch event of `kind`.
    pub fn event(&self, kind: &str, what: &'static str) {
        let labels = vec![("kind", kind.to_string()), ("type", what.to_string())];
        self.events.get_or_create(&labels).inc();
    }

    /// A watch failure of `kind`.
    pub fn restart(&self, kind: &str) {
        self.restarts
            .get_or_create(&vec![("kind", kind.to_string())])
            .inc();
    }

    /// Whether `kind` is audited.
    pub fn set_not_audited(&self, kind: &str, not: bool) {
        self.not_audited
            .get_or_create(&vec![("kind", kind.to_string())])
            .set(i64::from(not));
    }

    /// Reports written.
    pub fn wrote(&self, applied: usize, deleted: usize, failed: usize) {
        self.applied.inc_by(applied as u64);
        self.deleted.inc_by(deleted as u64);
        self.write_errors.inc_by(failed as u64);
    }

    /// Whether the first full pass is done.
    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// The metrics in the text format.
    pub fn render(&self) -> String {
        let last = self.last_pass_ms.load(Ordering::Relaxed);
        if last > 0 {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64;
            self.pass_age.set(now.saturating_sub(last) as f64 / 1000.0);
        }
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Serves `/healthz`, `/readyz` and `/metrics` on `listener` until the
/// process ends.
pub async fn serve(listener: tokio::net::TcpListener, metrics: std::sync::Arc<Metrics>) {
    use axum::http::StatusCode;
    use axum::routing::get;
    let ready = metrics.clone();
    let app = axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.clone();
                async move {
                    if ready.ready() {
                        (StatusCode::OK, "ready\n")
                    } else {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the first full pass is not done\n",
                        )
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let text = metrics.render();
                async move {
                    (
                        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                        text,
                    )
                }
            }),
        );
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("error: metrics server: {e}");
    }
}
