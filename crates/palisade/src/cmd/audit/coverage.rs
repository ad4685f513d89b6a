//! What an audit could not judge, and why: kinds some active rule checks
//! but the snapshot or cluster does not hold (`{src}` in the reasons).

use palisade_core::{Inventory, PolicySet, Resource};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Which parts of [`NEEDS`] an audit has seen, from every object it
/// evaluated (a streamed snapshot keeps only the context's objects in the
/// inventory, so the inventory alone cannot say).
#[derive(Debug, Default)]
pub struct Seen([AtomicBool; NEEDS.len()]);

impl Seen {
    /// What the objects of `inventory` show.
    pub fn of(inventory: &Inventory) -> Seen {
        let seen = Seen::default();
        for r in inventory.iter() {
            seen.observe(r);
        }
        seen
    }

    /// Notes what `res` shows (safe from any thread).
    pub fn observe(&self, res: &Resource) {
        for (i, (_, kind, _, _)) in NEEDS.iter().enumerate() {
            if res.id.kind != *kind || self.0[i].load(Ordering::Relaxed) {
                continue;
            }
            let present = match *kind {
                "Pod" => palisade_rules::cluster::flags::ApiServerFlags::of(res).is_some(),
                _ => true,
            };
            if present {
                self.0[i].store(true, Ordering::Relaxed);
            }
        }
    }
}

/// The parts of the cluster the active rules of `policy` need that the
/// audit has not `seen`.
pub fn not_audited(policy: &PolicySet, seen: &Seen, src: &str) -> Vec<NotAudited> {
    let active: Vec<&str> = policy
        .active_rules()
        .map(|(i, _, _)| i.id.as_str())
        .collect();
    NEEDS
        .iter()
        .enumerate()
        .filter_map(|(i, (what, _, why, rules))| {
            let unchecked: Vec<&str> = rules
                .iter()
                .copied()
                .filter(|r| active.contains(r))
                .collect();
            if unchecked.is_empty() {
                return None;
            }
            let present = seen.0[i].load(Ordering::Relaxed);
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
