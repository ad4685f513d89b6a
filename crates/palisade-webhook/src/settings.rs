//! The `webhook` section of `palisade.yaml`:
//!
//! ```yaml
//! webhook:
//!   namespace: palisade-system      # the webhook's own namespace (always excluded)
//!   excludeNamespaces: [kube-system] # never evaluated, never mutated
//!   mutate: true                     # opt in to the /mutate patches
//!   namespaceLabels:                 # namespace labels pinned by the administrator (Pod Security levels);
//!     team-a: {pod-security.kubernetes.io/enforce: baseline} # with serve --cluster laid over the cluster's
//!   clusterMaxStaleSeconds: 300      # serve --cluster: state older than this is unavailable
//!   maxBodyBytes: 3145728
//!   ignoreAnnotationRules: [image-latest-tag] # rules palisade.io/ignore may hide (medium or lower)
//!   maxConcurrentEvaluations: 4      # evaluations running at once (default: one per core)
//!   maxQueuedEvaluations: 64         # requests waiting for a slot, at most queueTimeoutMs each
//!   queueTimeoutMs: 1000
//!   overloadPolicy: Fail             # Fail (deny, the default) or Ignore (admit with a warning)
//!   maxFindingsListed: 20            # findings listed in a response (the count stays exact)
//!   imageVerificationTimeoutMs: 3000 # all registry work of one request (images: policies)
//!   imageCacheTtlSeconds: 300        # verdicts kept by digest
//!   imageTagTtlSeconds: 30           # tag -> digest resolutions kept
//!   imageCacheEntries: 10000         # bound on each cache
//!   imageInspectionPending: deny     # image content not inspected yet, no image policy matching
//! ```

use palisade_core::{Config, ConfigError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The namespace assumed to be the webhook's own when neither the config nor
/// `POD_NAMESPACE` names one.
pub const DEFAULT_NAMESPACE: &str = "palisade-system";

/// The default request body limit: Kubernetes objects are at most about
/// 1.5 MiB in etcd, an AdmissionReview carries two of them.
pub const DEFAULT_MAX_BODY: usize = 3 * 1024 * 1024;

/// The validated `webhook` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSettings {
    /// The webhook's own namespace, always excluded (default: the
    /// `POD_NAMESPACE` environment variable, else `palisade-system`).
    pub namespace: Option<String>,
    /// Further namespaces that are never evaluated nor mutated.
    #[serde(default)]
    pub exclude_namespaces: Vec<String>,
    /// Whether `/mutate` returns patches (default false).
    #[serde(default)]
    pub mutate: bool,
    /// Namespace labels set by the administrator (Pod Security levels):
    /// the only source without `serve --cluster`; with it, laid over the
    /// cluster's labels key by key, and used alone for namespaces the
    /// cluster does not have.
    #[serde(default)]
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// With `serve --cluster`: how long the cluster state may have missed
    /// changes (a broken watch) before `/readyz` fails and reviews are
    /// answered by `overloadPolicy` (default 300).
    pub cluster_max_stale_seconds: Option<u64>,
    /// Largest accepted request body in bytes (default 3 MiB).
    pub max_body_bytes: Option<usize>,
    /// Rules the `palisade.io/ignore` annotation may hide at admission
    /// (each of medium severity or lower; default none).
    #[serde(default)]
    pub ignore_annotation_rules: Vec<String>,
    /// Evaluations running at once (default: one per core).
    pub max_concurrent_evaluations: Option<usize>,
    /// Requests waiting for an evaluation slot (default 64); beyond, the
    /// webhook answers at once by `overloadPolicy`.
    pub max_queued_evaluations: Option<usize>,
    /// Request bytes admitted to evaluation at once, running and queued
    /// (default 512 KiB): what bounds the memory of parsed reviews under
    /// overload. Beyond it the webhook answers at once by `overloadPolicy`
    /// without decoding the object; a single request larger than the budget
    /// is admitted only when nothing else is.
    pub max_queued_bytes: Option<usize>,
    /// How long a request waits for a slot, in milliseconds (default 1000).
    pub queue_timeout_ms: Option<u64>,
    /// What an overloaded webhook answers (default `Fail`: deny).
    #[serde(default)]
    pub overload_policy: OverloadPolicy,
    /// Findings listed in a denial, warnings or audit annotations (default
    /// 20); the count in the message stays exact.
    pub max_findings_listed: Option<usize>,
    /// Budget of all registry work of one request, in milliseconds
    /// (default 3000: well inside the API server's default 10 s and the
    /// 5 s `webhook-config` writes).
    pub image_verification_timeout_ms: Option<u64>,
    /// How long an image verdict is kept by digest, in seconds (default 300).
    pub image_cache_ttl_seconds: Option<u64>,
    /// How long a tag's digest is kept, in seconds (default 30).
    pub image_tag_ttl_seconds: Option<u64>,
    /// Bound on the entries of each image cache (default 10,000).
    pub image_cache_entries: Option<usize>,
    /// What an admission answers while the content of an image no image
    /// policy matches is still being inspected (`imageContent.inspectAtAdmission`):
    /// `deny` (the default) or `allow`. A matching policy's
    /// `onRegistryError` decides otherwise.
    #[serde(default)]
    pub image_inspection_pending: palisade_core::images::OnRegistryError,
}

/// What the webhook answers when every evaluation slot is taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum OverloadPolicy {
    /// Deny, saying the webhook is overloaded (as `failurePolicy: Fail`).
    #[default]
    Fail,
    /// Admit with a warning that the request was not checked.
    Ignore,
}

/// Default of `maxQueuedEvaluations`.
pub const DEFAULT_MAX_QUEUED: usize = 64;
/// Default of `maxQueuedBytes`: 512 KiB. A decoded review holds about 12
/// times its body (a pod of 1,000 containers: 84 KiB of JSON, 1 MiB
/// decoded), so this keeps parsed reviews near 6 MiB under overload, while
/// 64 ordinary pod reviews (a few KiB each, `managedFields` included) still
/// fit in the queue.
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 512 << 10;
/// Default of `queueTimeoutMs`.
pub const DEFAULT_QUEUE_TIMEOUT_MS: u64 = 1000;
/// Default of `imageVerificationTimeoutMs`.
pub const DEFAULT_IMAGE_TIMEOUT_MS: u64 = 3000;
/// Default of `clusterMaxStaleSeconds`.
pub const DEFAULT_CLUSTER_MAX_STALE_SECONDS: u64 = 300;
/// Default of `maxFindingsListed`.
pub const DEFAULT_MAX_LISTED: usize = 20;

impl WebhookSettings {
    /// Reads the `webhook` section of `config`; errors name file, line and key.
    pub fn from_config(config: &Config) -> Result<WebhookSettings, ConfigError> {
        Ok(config.section("webhook")?.unwrap_or_default())
    }

    /// The webhook's own namespace.
    pub fn own_namespace(&self) -> String {
        self.namespace
            .clone()
            .or_else(|| {
                std::env::var("POD_NAMESPACE")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
    }

    /// Whether requests in `ns` are excluded.
    pub fn excluded(&self, own: &str, ns: &str) -> bool {
        ns == own || self.exclude_namespaces.iter().any(|n| n == ns)
    }

    /// The body limit.
    pub fn max_body(&self) -> usize {
        self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY)
    }

    /// Evaluations running at once.
    pub fn max_concurrent(&self) -> usize {
        // Evaluation is CPU-bound: more threads than cores add no
        // throughput and take CPU from the threads that accept, read and
        // answer (overload answers and probes included).
        self.max_concurrent_evaluations
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            })
            .max(1)
    }

    /// Requests waiting for a slot.
    pub fn max_queued(&self) -> usize {
        self.max_queued_evaluations.unwrap_or(DEFAULT_MAX_QUEUED)
    }

    /// The byte budget of admitted requests, in KiB (at least 1).
    pub fn max_queued_kib(&self) -> usize {
        self.max_queued_bytes
            .unwrap_or(DEFAULT_MAX_QUEUED_BYTES)
            .div_ceil(1024)
            .clamp(1, tokio::sync::Semaphore::MAX_PERMITS)
    }

    /// How long a request waits for a slot.
    pub fn queue_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.queue_timeout_ms.unwrap_or(DEFAULT_QUEUE_TIMEOUT_MS))
    }

    /// The registry budget of one request.
    pub fn image_budget(&self) -> std::time::Duration {
        std::time::Duration::from_millis(
            self.image_verification_timeout_ms
                .unwrap_or(DEFAULT_IMAGE_TIMEOUT_MS)
                .max(1),
        )
    }

    /// The image verifier's budget and caches.
    pub fn verifier_options(&self) -> palisade_images::VerifierOptions {
        let d = palisade_images::VerifierOptions::default();
        let secs = std::time::Duration::from_secs;
        palisade_images::VerifierOptions {
            budget: self.image_budget(),
            verdict_ttl: self.image_cache_ttl_seconds.map_or(d.verdict_ttl, secs),
            tag_ttl: self.image_tag_ttl_seconds.map_or(d.tag_ttl, secs),
            max_entries: self.image_cache_entries.unwrap_or(d.max_entries),
        }
    }

    /// The staleness bound of the cluster state.
    pub fn cluster_max_stale(&self) -> std::time::Duration {
        std::time::Duration::from_secs(
            self.cluster_max_stale_seconds
                .unwrap_or(DEFAULT_CLUSTER_MAX_STALE_SECONDS),
        )
    }

    /// Findings listed in one response.
    pub fn max_listed(&self) -> usize {
        self.max_findings_listed
            .unwrap_or(DEFAULT_MAX_LISTED)
            .max(1)
    }
}
