//! Prometheus metrics served on `/metrics`.

use palisade_core::Action;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::RwLock;

type Labels = Vec<(&'static str, String)>;

/// The request counters of one kind, by endpoint, operation and decision.
type KindCounters = Vec<([&'static str; 3], Counter)>;

/// At most this many distinct `kind` labels; later kinds count as `other`
/// (the kind comes from the request, so it must not grow the registry
/// without bound).
pub const MAX_KINDS: usize = 256;

/// The webhook's counters and histograms.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Histogram,
    rule_hits: Family<Labels, Counter>,
    reloads: Family<Labels, Counter>,
    images: ImageMetrics,
    cluster_synced: Family<Labels, Gauge>,
    cluster_objects: Family<Labels, Gauge>,
    cluster_stale: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// The family counters already created, found by borrowed keys (the
    /// family's own lookup needs its owned label vector, several
    /// allocations per request and per finding). Its keys are also the kinds
    /// that have a label of their own. Bounded like the labels: kinds by
    /// [`MAX_KINDS`], rules by the loaded policy sets.
    by_kind: RwLock<HashMap<String, KindCounters>>,
    by_rule: RwLock<HashMap<String, [Option<Counter>; 3]>>,
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
        let images = ImageMetrics::register(&mut registry);
        let cluster_synced = Family::<Labels, Gauge>::default();
        let cluster_objects = Family::<Labels, Gauge>::default();
        let cluster_stale = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "palisade_cluster_synced",
            "serve --cluster: 1 once the watch of this kind has completed its first list",
            cluster_synced.clone(),
        );
        registry.register(
            "palisade_cluster_objects",
            "serve --cluster: objects held per watched kind",
            cluster_objects.clone(),
        );
        registry.register(
            "palisade_cluster_stale_seconds",
            "serve --cluster: how long the state may have missed changes (0 while every watch is healthy)",
            cluster_stale.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            rule_hits,
            reloads,
            images,
            cluster_synced,
            cluster_objects,
            cluster_stale,
            by_kind: Default::default(),
            by_rule: Default::default(),
        }
    }

    /// Counts one decided request and its duration.
    pub fn request(
        &self,
        endpoint: &'static str,
        operation: &'static str,
        kind: &str,
        decision: &'static str,
        seconds: f64,
    ) {
        self.latency.observe(seconds);
        let key = [endpoint, operation, decision];
        let cached = |m: &HashMap<String, KindCounters>| {
            m.get(kind)?
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, c)| c.clone())
        };
        if let Some(c) = self.by_kind.read().ok().and_then(|m| cached(&m)) {
            c.inc();
            return;
        }
        let label = self.kind_label(kind);
        let counter = self
            .requests
            .get_or_create(&vec![
                ("endpoint", endpoint.to_string()),
                ("operation", operation.to_string()),
                ("kind", label.clone()),
                ("decision", decision.to_string()),
            ])
            .clone();
        counter.inc();
        if label == kind {
            // Only kinds that got their own label (bounded by MAX_KINDS).
            if let Ok(mut m) = self.by_kind.write() {
                let list = m.entry(label).or_default();
                if !list.iter().any(|(k, _)| *k == key) {
                    list.push((key, counter));
                }
            }
        }
    }

    fn kind_label(&self, kind: &str) -> String {
        let plain = kind.len() <= 63 && kind.chars().all(|c| c.is_ascii_alphanumeric());
        if !plain {
            return "other".into();
        }
        if self.by_kind.read().is_ok_and(|m| m.contains_key(kind)) {
            return kind.to_string();
        }
        match self.by_kind.write() {
            Ok(mut m) if m.contains_key(kind) || m.len() < MAX_KINDS => {
                m.entry(kind.to_string()).or_default();
                kind.to_string()
            }
            _ => "other".into(),
        }
    }

    /// Counts one finding.
    pub fn rule_hit(&self, rule: &str, action: Action) {
        let i = action as usize;
        let cached = self
            .by_rule
            .read()
            .ok()
            .and_then(|m| m.get(rule).and_then(|c| c[i].clone()));
        let counter = match cached {
            Some(c) => c,
            None => {
                let c = self.rule_hit_counter(rule, action);
                if let Ok(mut m) = self.by_rule.write() {
                    m.entry(rule.to_string()).or_default()[i] = Some(c.clone());
                }
                c
            }
        };
        counter.inc();
    }

    fn rule_hit_counter(&self, rule: &str, action: Action) -> Counter {
        self.rule_hits
            .get_or_create(&vec![
                ("rule", rule.to_string()),
                ("action", action.as_str().to_string()),
            ])
            .clone()
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

    /// The image verification metrics.
    pub fn images(&self) -> &ImageMetrics {
        &self.images
    }

    /// Sets the cluster state gauges from `status`.
    pub fn cluster(&self, status: &crate::cluster::ClusterStatus) {
        for k in &status.kinds {
            let l = vec![("kind", k.kind.clone())];
            self.cluster_synced
                .get_or_create(&l)
                .set(i64::from(k.synced));
            self.cluster_objects
                .get_or_create(&l)
                .set(i64::try_from(k.objects).unwrap_or(i64::MAX));
        }
        self.cluster_stale.set(status.stale.as_secs_f64());
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

/// Image verification at admission: verifications by result, the verdict
/// cache, registry errors, and the time to verify one image.
pub struct ImageMetrics {
    verifications: Family<Labels, Counter>,
    cache: Family<Labels, Counter>,
    registry_errors: Counter,
    latency: Histogram,
}

impl ImageMetrics {
    fn register(registry: &mut Registry) -> ImageMetrics {
        let m = ImageMetrics {
            verifications: Family::default(),
            cache: Family::default(),
            registry_errors: Counter::default(),
            latency: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
        };
        registry.register(
            "palisade_image_verifications",
            "Image verifications at admission by result (passed, failed, registry_error, unmatched, unmatched_denied, invalid)",
            m.verifications.clone(),
        );
        registry.register(
            "palisade_image_cache",
            "Image verdict cache lookups by result (hit, miss)",
            m.cache.clone(),
        );
        registry.register(
            "palisade_image_registry_errors",
            "Image verifications the registry could not answer (timeout, auth, not found, budget spent)",
            m.registry_errors.clone(),
        );
        registry.register(
            "palisade_image_verification_duration_seconds",
            "Time to verify one image at admission (cache hits included)",
            m.latency.clone(),
        );
        m
    }

    /// Counts one verification with `result`, whether it was answered from
    /// the cache (`None`: no cache lookup, e.g. no policy matched) and its
    /// duration.
    pub fn verification(&self, result: &'static str, cached: Option<bool>, seconds: f64) {
        self.verifications
            .get_or_create(&vec![("result", result.to_string())])
            .inc();
        if result == "registry_error" {
            self.registry_errors.inc();
        }
        if let Some(hit) = cached {
            let l = if hit { "hit" } else { "miss" };
            self.cache
                .get_or_create(&vec![("result", l.to_string())])
                .inc();
        }
        self.latency.observe(seconds);
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

    #[test]
    fn cached_counters_are_the_family_counters() {
        let m = Metrics::new();
        for _ in 0..3 {
            m.rule_hit("host-pid", Action::Enforce);
            m.request("validate", "CREATE", "Pod", "denied", 0.001);
        }
        m.rule_hit("host-pid", Action::Warn);
        m.request("validate", "UPDATE", "Pod", "denied", 0.001);
        let text = m.render();
        assert!(
            text.contains(r#"palisade_rule_hits_total{rule="host-pid",action="enforce"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"palisade_rule_hits_total{rule="host-pid",action="warn"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"operation="CREATE",kind="Pod",decision="denied"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"operation="UPDATE",kind="Pod",decision="denied"} 1"#),
            "{text}"
        );
    }
}
