//! Kubernetes' bootstrap RBAC policy, shipped as data per version
//! (`data/bootstrap/v1.N.json`, extracted from real clusters by
//! `data/extract_bootstrap.py`, see `data/SOURCES.md`): every ClusterRole,
//! ClusterRoleBinding, Role and RoleBinding the API server reconciles at
//! start (`cluster-admin`, `admin`, `edit`, `view`, the
//! `system:aggregate-to-*` parts, `system:auth-delegator`, the
//! `system:controller:*` roles and their bindings, the kube-system and
//! kube-public Roles). The graph adds them where the input does not define
//! the same identity, as they exist in every cluster; the service accounts
//! their bindings name are the built-in accounts of kube-system.

use crate::model::{PolicyRule, RBAC_GROUP};
use crate::parse::namespace_of;
use palisade_core::{Field, Resource};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

/// The versions shipped, oldest first.
pub const VERSIONS: [&str; 2] = ["1.21", "1.27"];
/// The version the graph uses.
pub const DEFAULT_VERSION: &str = "1.27";

/// The names of the user-facing default roles.
pub const NAMES: [&str; 4] = ["cluster-admin", "admin", "edit", "view"];

/// What a user-facing default role grants, in words (for summaries).
pub fn describe(name: &str) -> Option<&'static str> {
    Some(match name {
        "cluster-admin" => "every verb on every resource and non-resource URL",
        "admin" => {
            "read and write of most namespaced objects, Secrets, exec, roles and rolebindings"
        }
        "edit" => {
            "read and write of most namespaced objects, Secrets and exec; no roles or bindings"
        }
        "view" => "read of most namespaced objects; no Secrets",
        _ => return None,
    })
}

fn text(version: &str) -> Option<&'static str> {
    Some(match version {
        "1.21" => include_str!("../data/bootstrap/v1.21.json"),
        "1.27" => include_str!("../data/bootstrap/v1.27.json"),
        _ => return None,
    })
}

/// (kind, namespace, name) of an RBAC object.
type Key = (String, Option<String>, String);

/// One version's objects, indexed by identity.
struct Policy {
    objects: Vec<Arc<Resource>>,
    index: HashMap<Key, usize>,
}

fn key(res: &Resource) -> Key {
    let ns = matches!(res.id.kind.as_str(), "Role" | "RoleBinding").then(|| namespace_of(res));
    (res.id.kind.clone(), ns, res.id.name.clone())
}

fn load(version: &str) -> Policy {
    let items: Vec<Value> = text(version)
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v.get("items").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let objects: Vec<Arc<Resource>> = items
        .into_iter()
        .filter_map(Resource::from_value)
        .map(Arc::new)
        .collect();
    let index = objects
        .iter()
        .enumerate()
        .map(|(i, r)| (key(r), i))
        .collect();
    Policy { objects, index }
}

fn policy(version: &str) -> Option<&'static Policy> {
    static DATA: OnceLock<Vec<Policy>> = OnceLock::new();
    let all = DATA.get_or_init(|| VERSIONS.iter().map(|v| load(v)).collect());
    VERSIONS.iter().position(|v| *v == version).map(|i| &all[i])
}

/// Every bootstrap object of `version` (empty for an unknown version).
pub fn objects(version: &str) -> &'static [Arc<Resource>] {
    policy(version).map(|p| p.objects.as_slice()).unwrap_or(&[])
}

/// The service accounts (namespace, name) the bootstrap bindings of
/// `version` name: the controllers' accounts of kube-system, which the
/// controller manager creates in every cluster.
pub fn service_accounts(version: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for res in objects(version) {
        let subjects = res.value.field("subjects").and_then(Value::as_array);
        for s in subjects.into_iter().flatten() {
            let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
            if text("kind") == "ServiceAccount" && !text("namespace").is_empty() {
                out.insert((text("namespace").to_string(), text("name").to_string()));
            }
        }
    }
    out
}

/// Whether `res` is one of Kubernetes' own objects: an RBAC object whose
/// kind, namespace, name and content (rules or aggregation rule; roleRef and
/// subjects) equal those of the bootstrap policy of a shipped version.
/// Labels do not count: anyone can write `kubernetes.io/bootstrapping`.
pub fn is_own(res: &Resource) -> bool {
    if res.id.group() != RBAC_GROUP {
        return false;
    }
    let k = key(res);
    VERSIONS.iter().filter_map(|v| policy(v)).any(|p| {
        p.index
            .get(&k)
            .is_some_and(|&i| same_content(&p.objects[i], res))
    })
}

fn same_content(own: &Resource, res: &Resource) -> bool {
    match res.id.kind.as_str() {
        "ClusterRole" | "Role" => {
            let agg = |r: &Resource| r.value.field("aggregationRule").cloned();
            match (agg(own), agg(res)) {
                // the aggregation controller owns the rules of an aggregated role
                (Some(a), Some(b)) => a == b,
                (None, None) => rules(own) == rules(res),
                _ => false,
            }
        }
        _ => role_ref(own) == role_ref(res) && subjects(own) == subjects(res),
    }
}

fn rules(res: &Resource) -> Vec<PolicyRule> {
    let mut out: Vec<PolicyRule> = res
        .value
        .field("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| {
            let mut r = PolicyRule::from_value(v).0;
            for l in [
                &mut r.verbs,
                &mut r.api_groups,
                &mut r.resources,
                &mut r.resource_names,
                &mut r.non_resource_urls,
            ] {
                l.sort();
            }
            r
        })
        .collect();
    out.sort_by_key(|r| format!("{r:?}"));
    out
}

fn role_ref(res: &Resource) -> (String, String) {
    let rr = res.value.field("roleRef");
    let text = |k: &str| {
        rr.and_then(|r| r.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (text("kind"), text("name"))
}

fn subjects(res: &Resource) -> BTreeSet<(String, String, String)> {
    res.value
        .field("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            (text("kind"), text("namespace"), text("name"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_parses() {
        for v in VERSIONS {
            let objs = objects(v);
            assert!(objs.len() > 100, "{v}: {}", objs.len());
            for name in NAMES.iter().chain(&["system:auth-delegator"]) {
                assert!(
                    objs.iter()
                        .any(|r| r.id.kind == "ClusterRole" && r.id.name == *name),
                    "{v} {name}"
                );
            }
            let sas = service_accounts(v);
            assert!(sas.contains(&(
                "kube-system".to_string(),
                "horizontal-pod-autoscaler".to_string()
            )));
        }
        assert!(objects("1.99").is_empty());
    }

    #[test]
    fn own_objects_match_by_content_not_label() {
        let own = objects(DEFAULT_VERSION)
            .iter()
            .find(|r| r.id.kind == "ClusterRoleBinding" && r.id.name == "cluster-admin")
            .unwrap();
        assert!(is_own(own));
        let mut forged = (**own).clone();
        forged.value["subjects"][0]["name"] = "system:authenticated".into();
        assert!(!is_own(&forged));
    }
}
