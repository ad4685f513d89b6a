//! Cluster practices (family `cluster`): a current Kubernetes version,
//! private nodes, users only through a load balancer, default-deny and
//! egress-limited networking, credentials in Secrets rather than
//! ConfigMaps, and a hardened API server.
//!
//! The rules need objects that a cluster has and manifests rarely do
//! (Nodes, the server version, the kube-apiserver static pod); they run in
//! `scan` too when the input holds them. The server version is the object
//! `palisade.io/v1` `ClusterVersion` named `cluster` whose `serverVersion` is what
//! `kubectl version -o json` prints (`palisade audit` makes it from that
//! output or from the API server's `/version`).
//!
//! Concern keys: the rule ID.

pub mod addresses;
pub mod apiserver;
pub mod configmap;
pub mod encryption;
pub mod flags;
pub mod network;
pub mod releases;
pub mod services;
pub mod versions;

pub use network::NetworkProvider;
pub use releases::{Releases, ReleasesError, ReleasesProvider, Version};

use palisade_core::{Context, Emitter, Resource, Rule, RuleInfo, Scope, Severity};
use std::sync::Arc;

/// The kind of the server-version object (see the module documentation).
pub const CLUSTER_VERSION_KIND: &str = "ClusterVersion";
/// The apiVersion of the server-version object.
pub const CLUSTER_VERSION_API: &str = "palisade.io/v1";

/// The check of a [`ClusterRule`].
pub type Check = Box<dyn Fn(&Resource, &Context<'_>, &mut Emitter<'_>) + Send + Sync>;

/// A rule of the family: its texts, its check, what it checks and reads.
pub struct ClusterRule {
    info: RuleInfo,
    check: Check,
    scope: Scope,
    inventory: Scope,
}

/// The texts of a cluster rule.
pub struct Texts {
    /// Stable kebab-case ID.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what it checks.
    pub title: &'static str,
    /// Why it matters (with the CIS Kubernetes Benchmark section when there is one).
    pub description: &'static str,
    /// How to fix it.
    pub remediation: &'static str,
}

impl ClusterRule {
    /// A shareable rule checking the objects of `scope` and looking up those
    /// of `inventory`.
    pub fn shared(t: Texts, scope: Scope, inventory: Scope, check: Check) -> Arc<dyn Rule> {
        Arc::new(ClusterRule {
            info: RuleInfo {
                id: t.id.to_string(),
                severity: t.severity,
                family: "cluster".to_string(),
                title: t.title.to_string(),
                description: t.description.to_string(),
                remediation: t.remediation.to_string(),
            },
            check,
            scope,
            inventory,
        })
    }
}

impl Rule for ClusterRule {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn check(&self, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
        (self.check)(res, ctx, out)
    }

    fn scope(&self) -> Scope {
        self.scope.clone()
    }

    fn reads_inventory(&self) -> Scope {
        self.inventory.clone()
    }
}

/// Every rule of the family. Versions are judged by the shipped release
/// data, or by the data a [`ReleasesProvider`] puts in the context.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    [
        versions::rules(),
        addresses::rules(),
        services::rules(),
        network::rules(),
        configmap::rules(),
        apiserver::rules(),
        encryption::rules(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let rules = rules();
        let ids: HashSet<&str> = rules.iter().map(|r| r.info().id.as_str()).collect();
        let expected = [
            "cluster-version-outdated",
            "cluster-version-unsupported",
            "node-version-outdated",
            "node-version-skew",
            "node-public-ip",
            "service-public-exposure",
            "namespace-missing-default-deny",
            "network-egress-allow-all",
            "secret-in-configmap",
            "secrets-not-encrypted-at-rest",
            "apiserver-anonymous-auth",
            "apiserver-authorization-mode",
            "apiserver-profiling",
            "apiserver-audit-log-missing",
        ];
        assert_eq!(ids, HashSet::from(expected));
        assert_eq!(rules.len(), expected.len());
        for r in &rules {
            let i = r.info();
            assert_eq!(i.family, "cluster");
            assert!(i.description.len() > 80, "{}", i.id);
            assert!(!i.description.contains("  "), "{}: stray spaces", i.id);
            if i.id.starts_with("apiserver-") || i.id == "secrets-not-encrypted-at-rest" {
                assert!(
                    i.description.contains("CIS Kubernetes Benchmark"),
                    "{}: names its CIS section",
                    i.id
                );
            }
        }
    }
}
