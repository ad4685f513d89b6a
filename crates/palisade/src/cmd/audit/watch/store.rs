//! The watched cluster in memory and what was found in it: every object
//! the watchers delivered, the evaluation of each, and which of them must
//! be evaluated again.
//!
//! What is re-evaluated after a change:
//! - the changed object itself (added or modified; a deleted object's
//!   findings are dropped), unless only its `resourceVersion` or
//!   `managedFields` changed;
//! - every object, when the changed object is of a kind some rule or
//!   context provider reads from the inventory ([`PolicySet::context_keep`]:
//!   Namespaces, NetworkPolicies, RBAC, ServiceAccounts, the workloads a
//!   namespace has...) and the part of it they read changed (its identity:
//!   added or deleted; its metadata; or the whole object);
//! - every object on a full pass (`--resync`).

use super::super::coverage::{self, NotAudited};
use crate::report::{self, Evaluated, Report};
use palisade_core::{Context, Inventory, Keep, PolicySet, Resource, ResourceId, Severity};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The objects and their evaluations.
#[derive(Default)]
pub struct Store {
    objects: BTreeMap<ResourceId, Arc<Resource>>,
    cache: HashMap<ResourceId, Evaluated>,
    dirty: BTreeSet<ResourceId>,
    everything: bool,
}

/// What one pass did.
pub struct Pass {
    /// The findings of every object (as a one-shot audit of the store).
    pub report: Report,
    /// Objects evaluated in this pass.
    pub evaluated: usize,
    /// The objects held.
    pub objects: usize,
    /// What the rules could not check for want of objects.
    pub not_audited: Vec<NotAudited>,
}

impl Store {
    /// Whether some object waits to be evaluated.
    pub fn pending(&self) -> bool {
        self.everything || !self.dirty.is_empty()
    }

    /// The objects of `api_version`/`kind` are now exactly `objects` (a
    /// watcher listed them). Returns the objects that are not Kubernetes
    /// objects (no apiVersion, kind or name), which are skipped.
    pub fn listed(
        &mut self,
        policy: &PolicySet,
        api_version: &str,
        kind: &str,
        objects: Vec<Value>,
    ) -> usize {
        let mut seen = BTreeSet::new();
        let mut bad = 0;
        for obj in objects {
            match Resource::from_value(obj) {
                Some(r) => {
                    seen.insert(r.id.clone());
                    self.put(policy, r);
                }
                None => bad += 1,
            }
        }
        let gone: Vec<ResourceId> = self
            .objects
            .keys()
            .filter(|id| id.api_version == api_version && id.kind == kind && !seen.contains(*id))
            .cloned()
            .collect();
        for id in gone {
            self.remove(policy, &id);
        }
        bad
    }

    /// An object was added or changed; `false` when it is not a
    /// Kubernetes object.
    pub fn applied(&mut self, policy: &PolicySet, obj: Value) -> bool {
        match Resource::from_value(obj) {
            Some(r) => {
                self.put(policy, r);
                true
            }
            None => false,
        }
    }

    /// An object was deleted.
    pub fn deleted(&mut self, policy: &PolicySet, obj: &Value) {
        if let Some(id) = ResourceId::of(obj) {
            self.remove(policy, &id);
        }
    }

    /// Adds or replaces an object built elsewhere (the ClusterVersion of
    /// `/version`).
    pub fn put_resource(&mut self, policy: &PolicySet, r: Resource) {
        self.put(policy, r);
    }

    fn put(&mut self, policy: &PolicySet, r: Resource) {
        let old = self.objects.get(&r.id);
        if old.is_some_and(|o| same(&o.value, &r.value, Keep::Whole)) {
            return;
        }
        if touches_context(policy, old.map(|o| &o.value), Some(&r.value), &r.id.kind) {
            self.everything = true;
        }
        self.dirty.insert(r.id.clone());
        self.objects.insert(r.id.clone(), Arc::new(r));
    }

    fn remove(&mut self, policy: &PolicySet, id: &ResourceId) {
        if let Some(old) = self.objects.remove(id) {
            if touches_context(policy, Some(&old.value), None, &id.kind) {
                self.everything = true;
            }
            self.dirty.insert(id.clone());
        }
    }

    /// Evaluates what must be (everything when `full`) and gives the
    /// findings of every object.
    pub fn pass(
        &mut self,
        policy: &PolicySet,
        now: jiff::Timestamp,
        fail_on: Severity,
        full: bool,
    ) -> Pass {
        let inventory = Inventory::new(self.objects.values().cloned().collect());
        let ext = policy.prepare(&inventory);
        let ctx = Context::new(&inventory, &ext, now);
        let all = full || self.everything;
        let todo: Vec<&Arc<Resource>> = if all {
            self.cache.clear();
            inventory.iter().collect()
        } else {
            for id in &self.dirty {
                self.cache.remove(id);
            }
            self.dirty
                .iter()
                .filter_map(|id| self.objects.get(id))
                .collect()
        };
        let evaluated: Vec<(ResourceId, Evaluated)> = todo
            .par_iter()
            .map(|r| (r.id.clone(), report::evaluate_one(policy, &ctx, r)))
            .collect();
        let count = evaluated.len();
        self.cache.extend(evaluated);
        self.dirty.clear();
        self.everything = false;
        let report = Report::from_evaluated(
            policy,
            inventory.iter().filter_map(|r| self.cache.get(&r.id)),
            now,
            fail_on,
        );
        Pass {
            report,
            evaluated: count,
            objects: self.objects.len(),
            not_audited: coverage::not_audited(
                policy,
                &coverage::Seen::of(&inventory),
                "the cluster",
            ),
        }
    }
}

/// Whether a change of an object of `kind` from `old` to `new` (`None`:
/// absent) changes what the rules read of it as context.
fn touches_context(
    policy: &PolicySet,
    old: Option<&Value>,
    new: Option<&Value>,
    kind: &str,
) -> bool {
    let Some(keep) = policy.context_keep(kind) else {
        return false;
    };
    match (old, new) {
        (Some(o), Some(n)) => !same(o, n, keep),
        _ => true,
    }
}

/// Metadata fields that change without the object changing.
const VOLATILE: &[&str] = &["resourceVersion", "managedFields", "generation"];

/// Whether `a` and `b` agree in what `keep` reads of them, volatile
/// metadata aside.
fn same(a: &Value, b: &Value, keep: Keep) -> bool {
    let meta_same = || {
        let (Some(ma), Some(mb)) = (a["metadata"].as_object(), b["metadata"].as_object()) else {
            return a["metadata"] == b["metadata"];
        };
        let keys = |m: &serde_json::Map<String, Value>| {
            m.iter()
                .filter(|(k, _)| !VOLATILE.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        keys(ma) == keys(mb)
    };
    match keep {
        Keep::Identity => true,
        Keep::Metadata => meta_same(),
        Keep::Whole => {
            let (Some(oa), Some(ob)) = (a.as_object(), b.as_object()) else {
                return a == b;
            };
            let rest = |m: &serde_json::Map<String, Value>| {
                m.iter()
                    .filter(|(k, _)| k.as_str() != "metadata")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<BTreeMap<_, _>>()
            };
            rest(oa) == rest(ob) && meta_same()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volatile_metadata_is_not_a_change_but_labels_and_spec_are() {
        let a = json!({"metadata": {"name": "a", "resourceVersion": "1", "labels": {"x": "1"}}, "spec": {"n": 1}});
        let mut b = a.clone();
        b["metadata"]["resourceVersion"] = json!("2");
        assert!(same(&a, &b, Keep::Whole));
        b["spec"]["n"] = json!(2);
        assert!(!same(&a, &b, Keep::Whole));
        assert!(same(&a, &b, Keep::Metadata));
        b["metadata"]["labels"]["x"] = json!("2");
        assert!(!same(&a, &b, Keep::Metadata));
        assert!(same(&a, &b, Keep::Identity));
    }
}
