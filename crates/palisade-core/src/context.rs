//! What a rule may read beyond the object: the other objects, namespace
//! labels, the admission request and data derived once per evaluation.

use crate::resource::Resource;
use serde::Serialize;
use serde_json::Value;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// All objects of one scan (or what the webhook or auditor knows of the
/// cluster), indexed by kind, namespace and name.
#[derive(Default)]
pub struct Inventory {
    items: Vec<Arc<Resource>>,
    /// kind -> (cluster-scoped | namespace -> name) -> item, nested so that
    /// lookups borrow their keys instead of allocating.
    index: HashMap<String, KindIndex>,
}

/// The objects of one kind, cluster-scoped and namespaced apart (a
/// namespaced object in namespace "" is not a cluster-scoped one).
#[derive(Default)]
struct KindIndex {
    cluster: HashMap<String, usize>,
    namespaced: HashMap<String, HashMap<String, usize>>,
}

impl Inventory {
    /// An inventory of `items`. Later duplicates of an identity win the index.
    pub fn new(items: Vec<Arc<Resource>>) -> Self {
        let mut index: HashMap<String, KindIndex> = HashMap::new();
        for (i, r) in items.iter().enumerate() {
            let k = index.entry(r.id.kind.clone()).or_default();
            let names = match &r.id.namespace {
                None => &mut k.cluster,
                Some(ns) => k.namespaced.entry(ns.clone()).or_default(),
            };
            names.insert(r.id.name.clone(), i);
        }
        Inventory { items, index }
    }

    /// Every object.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Resource>> {
        self.items.iter()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no objects.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The object of `kind` named `name` in `namespace` (None for cluster-scoped).
    pub fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Arc<Resource>> {
        let k = self.index.get(kind)?;
        let names = match namespace {
            None => &k.cluster,
            Some(ns) => k.namespaced.get(ns)?,
        };
        names.get(name).map(|&i| &self.items[i])
    }

    /// The Namespace object called `name`.
    pub fn namespace(&self, name: &str) -> Option<&Arc<Resource>> {
        self.get("Namespace", None, name)
    }

    /// Every object of `kind`.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Arc<Resource>> + 'a {
        self.items.iter().filter(move |r| r.id.kind == kind)
    }
}

/// Data derived from the inventory once per evaluation (the RBAC graph,
/// image verification results), keyed by type.
#[derive(Default)]
pub struct Extensions {
    map: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl Extensions {
    /// Stores `value`, replacing any earlier value of its type.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        self.map.insert(TypeId::of::<T>(), Box::new(value));
    }

    /// The stored value of type `T`.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.map.get(&TypeId::of::<T>())?.downcast_ref()
    }
}

/// The admission operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// Object creation.
    Create,
    /// Object update.
    Update,
    /// Object deletion (the object is the old object).
    Delete,
    /// Connect (exec, attach, port-forward, proxy).
    Connect,
}

/// The admission request around the object, when there is one.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The operation.
    pub operation: Operation,
    /// The object before an UPDATE or DELETE.
    pub old_object: Option<Value>,
    /// `request.userInfo.username`.
    pub username: String,
    /// `request.userInfo.groups`.
    pub groups: Vec<String>,
    /// The subresource (`ephemeralcontainers`, `exec`, ...), if any.
    pub sub_resource: Option<String>,
    /// Whether the request is a dry run.
    pub dry_run: bool,
    /// The whole `request` object as received, for CEL and Rego policies.
    pub raw: Value,
}

/// What a rule may read beyond its object.
pub struct Context<'a> {
    /// The other objects.
    pub inventory: &'a Inventory,
    /// Data derived once per evaluation.
    pub extensions: &'a Extensions,
    /// The admission request, at admission time.
    pub request: Option<&'a RequestInfo>,
    /// "Now" for time-based rules (expiry), fixed per evaluation.
    pub now: jiff::Timestamp,
}

impl<'a> Context<'a> {
    /// A context with no request.
    pub fn new(inventory: &'a Inventory, extensions: &'a Extensions, now: jiff::Timestamp) -> Self {
        Context {
            inventory,
            extensions,
            request: None,
            now,
        }
    }

    /// The labels of namespace `name`, when its Namespace object is known.
    pub fn namespace_labels(&self, name: &str) -> Option<&'a Value> {
        self.inventory
            .namespace(name)
            .and_then(|ns| ns.value.pointer("/metadata/labels"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(v: Value) -> Arc<Resource> {
        Arc::new(Resource::from_value(v).expect("object"))
    }

    #[test]
    fn get_tells_scopes_apart_and_later_duplicates_win() {
        let cm = |ns: &str, n: u32| {
            res(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "x", "namespace": ns}, "data": {"n": n}}))
        };
        let inv = Inventory::new(vec![
            res(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})),
            cm("a", 1),
            cm("a", 2),
            cm("b", 3),
        ]);
        let n = |r: Option<&Arc<Resource>>| r.and_then(|r| r.value.pointer("/data/n").cloned());
        assert_eq!(n(inv.get("ConfigMap", Some("a"), "x")), Some(json!(2)));
        assert_eq!(n(inv.get("ConfigMap", Some("b"), "x")), Some(json!(3)));
        assert!(inv.get("ConfigMap", None, "x").is_none());
        assert!(inv.get("ConfigMap", Some("c"), "x").is_none());
        assert!(inv.get("Secret", Some("a"), "x").is_none());
        assert!(inv.namespace("a").is_some());
        assert!(inv.get("Namespace", Some("a"), "a").is_none());
        assert_eq!(inv.len(), 4);
    }
}
