//! Prometheus metrics served on `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// At most this many distinct `kind` labels; later kinds count as `other`
/// (the kind comes from the request, so it must not grow the registry
/// without bound).
pub const MAX_KINDS: usize = 256;

/// The webhook's counters and histograms.
pub struct Metrics {
    kinds: std::sync::RwLock<std::collections::HashSet<String>>,
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
            kinds: Default::default(),
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
                ("kind", self.kind_label(kind)),
                ("decision", decision.to_string()),
            ])
            .inc();
        self.latency.observe(seconds);
    }

    fn kind_label(&self, kind: &str) -> String {
        let plain = kind.len() <= 63 && kind.chars().all(|c| c.is_ascii_alphanumeric());
        if !plain {
            return "other".into();
        }
        if self.kinds.read().is_ok_and(|k| k.contains(kind)) {
            return kind.to_string();
        }
        match self.kinds.write() {
            Ok(mut k) if k.len() < MAX_KINDS => {
                k.insert(kind.to_string());
                kind.to_string()
            }
            _ => "other".into(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_labels_are_bounded() {
        let m = Metrics::new();
        for i in 0..MAX_KINDS + 10 {
            m.request("validate", "CREATE", &format!("Kind{i}"), "allowed", 0.001);
        }
        m.request("validate", "CREATE", "Kind0", "allowed", 0.001);
        m.request("validate", "CREATE", "bad kind\n{", "allowed", 0.001);
        let text = m.render();
        assert!(text.contains(r#"kind="Kind0",decision="allowed"} 2"#));
        assert!(
            text.contains(r#"kind="other",decision="allowed"} 11"#),
            "{text}"
        );
        assert!(!text.contains(&format!("Kind{}", MAX_KINDS + 1)));
    }
}
