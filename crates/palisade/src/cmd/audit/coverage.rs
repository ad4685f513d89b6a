//! What an audit could not judge, and why: kinds some active rule checks
//! but the snapshot or cluster does not hold (`{src}` in the reasons).

use palisade_core::{Inventory, PolicySet};
use serde::Serialize;

/// Something not audited.
#[derive(Debug, Clone, Serialize)]
pub struct NotAudited {
    /// What: a kind or a part of the cluster.
    pub what: String,
    /// Why, and which rules it leaves unchecked.
    pub why: String,
}

/// What the rules need, the kind that provides it, and the rules.
const NEEDS: [(&str, &str, &str, &[&str]); 4] = [
    (
        "API server version",
        "ClusterVersion",
        "no server version (`kubectl version -o json` output or /version) in {src}",
        &[
            "cluster-version-outdated",
            "cluster-version-unsupported",
            "node-version-skew",
        ],
    ),
    (
        "Nodes",
        "Node",
        "no Node in {src}",
        &[
            "node-public-ip",
            "node-version-outdated",
            "node-version-skew",
        ],
    ),
    (
        "Namespaces",
        "Namespace",
        "no Namespace in {src} (Pod Security namespace labels unknown: profile defaults apply)",
        &["namespace-missing-default-deny", "pss-namespace-labels"],
    ),
    (
        "kube-apiserver",
        "Pod",
        "no kube-apiserver static pod in {src} (managed control planes do not show it)",
        &[
            "apiserver-anonymous-auth",
            "apiserver-authorization-mode",
            "apiserver-profiling",
            "apiserver-audit-log-missing",
            "secrets-not-encrypted-at-rest",
        ],
    ),
];

/// The parts of the cluster the active rules of `policy` need that
/// `inventory` lacks.
pub fn not_audited(policy: &PolicySet, inventory: &Inventory, src: &str) -> Vec<NotAudited> {
    let active: Vec<&str> = policy
        .active_rules()
        .map(|(i, _, _)| i.id.as_str())
        .collect();
    let has_apiserver = || {
        inventory
            .of_kind("Pod")
            .any(|p| palisade_rules::cluster::flags::ApiServerFlags::of(p).is_some())
    };
    NEEDS
        .iter()
        .filter_map(|(what, kind, why, rules)| {
            let unchecked: Vec<&str> = rules
                .iter()
                .copied()
                .filter(|r| active.contains(r))
                .collect();
            if unchecked.is_empty() {
                return None;
            }
            let present = match *kind {
                "Pod" => has_apiserver(),
                k => inventory.of_kind(k).next().is_some(),
            };
            (!present).then(|| NotAudited {
                what: what.to_string(),
                why: format!(
                    "{}; not checked: {}",
                    why.replace("{src}", src),
                    unchecked.join(", ")
                ),
            })
        })
        .collect()
}
