//! What the webhook reads of the cluster itself (`serve --cluster`): the
//! Namespaces (their labels: Pod Security levels and every rule that reads
//! a namespace) and the RBAC objects (Roles, ClusterRoles, RoleBindings,
//! ClusterRoleBindings), kept current by watches of the API server.
//!
//! This crate knows no cluster client: the binary plugs the watches in
//! through [`ClusterView`], as it plugs the Secrets in through
//! [`crate::images::PullSecrets`]. Nothing a review says ever enters this
//! state: a Namespace CREATE claiming `enforce: privileged` is judged like
//! any object and changes nothing; the namespace's labels change when the
//! API server's watch says they did.
//!
//! Until every watched kind has synced once, and while the state is older
//! than `webhook.clusterMaxStaleSeconds` (a watch broken for that long),
//! `/readyz` answers 503 (so the Deployment gets no traffic) and a review
//! that arrives anyway is answered by `overloadPolicy` (deny by default)
//! without evaluation: judging with empty or frozen state would admit what
//! the cluster's labels forbid.

use palisade_core::Resource;
use std::sync::Arc;
use std::time::Duration;

/// One watched kind's state.
#[derive(Debug, Clone, PartialEq)]
pub struct KindState {
    /// The kind (`Namespace`, `ClusterRole`, ...).
    pub kind: String,
    /// Whether its first list has completed.
    pub synced: bool,
    /// Objects held.
    pub objects: usize,
}

/// The state of the watches.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterStatus {
    /// Every watched kind.
    pub kinds: Vec<KindState>,
    /// How long the state may have missed changes: zero while every watch
    /// is healthy; since the first failure of a watch that has not
    /// recovered; since the start before the first sync.
    pub stale: Duration,
}

impl ClusterStatus {
    /// Whether every kind has synced.
    pub fn synced(&self) -> bool {
        self.kinds.iter().all(|k| k.synced)
    }

    /// Why reviews cannot be judged with this state (`max_stale`: the
    /// configured bound), or `None` when they can.
    pub fn unavailable(&self, max_stale: Duration) -> Option<String> {
        let waiting: Vec<&str> = self
            .kinds
            .iter()
            .filter(|k| !k.synced)
            .map(|k| k.kind.as_str())
            .collect();
        if !waiting.is_empty() {
            return Some(format!(
                "cluster state not synced yet ({})",
                waiting.join(", ")
            ));
        }
        (self.stale > max_stale).then(|| {
            format!(
                "cluster state stale for {} s (watch of the API server broken; bound {} s)",
                self.stale.as_secs(),
                max_stale.as_secs()
            )
        })
    }
}

/// The cluster as the webhook reads it.
pub trait ClusterView: Send + Sync {
    /// The Namespace `name` as the API server has it (`apiVersion`,
    /// `kind`, metadata with labels), when it exists.
    fn namespace(&self, name: &str) -> Option<Arc<Resource>>;
    /// Every Role, ClusterRole, RoleBinding and ClusterRoleBinding.
    fn rbac_objects(&self) -> Vec<Arc<Resource>>;
    /// Sync and staleness, per kind.
    fn status(&self) -> ClusterStatus;
}

/// The Namespace a review is judged with: the cluster's object, with the
/// labels of `webhook.namespaceLabels` for that namespace laid over it key
/// by key (the administrator's pin wins over whoever may patch the
/// namespace); the configured object alone when the cluster has no such
/// namespace (yet); nothing when neither knows it.
pub fn merged_namespace(
    cluster: Option<Arc<Resource>>,
    configured: Option<Arc<Resource>>,
) -> Option<Arc<Resource>> {
    let (live, pinned) = match (cluster, configured) {
        (None, c) => return c,
        (l, None) => return l,
        (Some(l), Some(c)) => (l, c),
    };
    let Some(pins) = pinned
        .value
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.as_object())
        .filter(|p| !p.is_empty())
    else {
        return Some(live);
    };
    let mut value = live.value.clone();
    let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) else {
        return Some(live);
    };
    let labels = meta
        .entry("labels")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    if !labels.is_object() {
        *labels = serde_json::Value::Object(Default::default());
    }
    if let Some(l) = labels.as_object_mut() {
        for (k, v) in pins {
            l.insert(k.clone(), v.clone());
        }
    }
    Resource::from_value(value).map(Arc::new).or(Some(live))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(labels: serde_json::Value) -> Arc<Resource> {
        Arc::new(
            Resource::from_value(json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "shop", "labels": labels}}))
            .unwrap(),
        )
    }

    #[test]
    fn the_configuration_pins_labels_over_the_cluster() {
        let live = ns(json!({"pod-security.kubernetes.io/enforce": "privileged", "team": "a"}));
        let pinned = ns(json!({"pod-security.kubernetes.io/enforce": "restricted"}));
        let got = merged_namespace(Some(live.clone()), Some(pinned.clone())).unwrap();
        assert_eq!(
            got.value["metadata"]["labels"],
            json!({"pod-security.kubernetes.io/enforce": "restricted", "team": "a"})
        );
        assert!(Arc::ptr_eq(
            &merged_namespace(Some(live.clone()), None).unwrap(),
            &live
        ));
        assert!(Arc::ptr_eq(
            &merged_namespace(None, Some(pinned.clone())).unwrap(),
            &pinned
        ));
        assert!(merged_namespace(None, None).is_none());
    }

    #[test]
    fn unavailable_until_synced_and_when_stale() {
        let mut s = ClusterStatus {
            kinds: vec![
                KindState {
                    kind: "Namespace".into(),
                    synced: true,
                    objects: 3,
                },
                KindState {
                    kind: "RoleBinding".into(),
                    synced: false,
                    objects: 0,
                },
            ],
            stale: Duration::from_secs(1),
        };
        let max = Duration::from_secs(60);
        assert!(s.unavailable(max).unwrap().contains("RoleBinding"));
        s.kinds[1].synced = true;
        assert_eq!(s.unavailable(max), None);
        s.stale = Duration::from_secs(61);
        assert!(s.unavailable(max).unwrap().contains("stale for 61 s"));
    }
}
