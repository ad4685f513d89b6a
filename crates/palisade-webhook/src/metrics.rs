//! Prometheus metrics served on `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// The webhook's counters and histograms.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Histogram,
    rule_hits: Family<Labels, Counter>,
    reloads: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        let latency = Histogram::new(exponential_buckets(0.00005, 2.0, 16));
        let rule_hits = Family::<Labels, Counter>::default();
        let reloads = Family::<Labels, Counter>::default();
        registry.register(
            "palisade_admission_requests",
            "Admission requests by endpoint, operation, kind and decision",
            requests.clone(),
        );
        registry.register(
            "palisade_admission_duration_seconds",
            "Time to decide one admission request",
            latency.clone(),
        );
        registry.register(
            "palisade_rule_hits",
            "Findings by rule and action",
            rule_hits.clone(),
        );
        registry.register(
            "palisade_reloads",
            "Reloads of the policy configuration and TLS files by what and result",
            reloads.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            rule_hits,
            reloads,
        }
    }

    /// Counts one decided request and its duration.
    pub fn request(
        &self,
        endpoint: &str,
        operation: &str,
        kind: &str,
        decision: &str,
        seconds: f64,
    ) {
        self.requests
            .get_or_create(&vec![
                ("endpoint", endpoint.to_string()),
                ("operation", operation.to_string()),
                ("kind", kind.to_string()),
                ("decision", decision.to_string()),
            ])
            .inc();
        self.latency.observe(seconds);
    }

    /// Counts one finding.
    pub fn rule_hit(&self, rule: &str, action: &str) {
        self.rule_hits
            .get_or_create(&vec![
                ("rule", rule.to_string()),
                ("action", action.to_string()),
            ])
            .inc();
    }

    /// Counts one reload of `what` (`policy`, `tls`) with `result` (`success`, `failure`).
    pub fn reload(&self, what: &str, result: &str) {
        self.reloads
            .get_or_create(&vec![
                ("what", what.to_string()),
                ("result", result.to_string()),
            ])
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
