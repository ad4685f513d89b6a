//! The `webhook` section of `palisade.yaml`:
//!
//! ```yaml
//! webhook:
//!   namespace: palisade-system      # the webhook's own namespace (always excluded)
//!   excludeNamespaces: [kube-system] # never evaluated, never mutated
//!   mutate: true                     # opt in to the /mutate patches
//!   namespaceLabels:                 # labels of namespaces that existed before the webhook
//!     team-a: {pod-security.kubernetes.io/enforce: baseline}
//!   maxBodyBytes: 3145728
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
    /// Labels of namespaces known before their Namespace object is seen by
    /// the webhook (for Pod Security levels).
    #[serde(default)]
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Largest accepted request body in bytes (default 3 MiB).
    pub max_body_bytes: Option<usize>,
}

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
}
