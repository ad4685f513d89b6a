//! What a rule may read beyond the object: the other objects, namespace
//! labels, the admission request and data derived once per evaluation.

use crate::resource::Resource;
use crate::workload::PodSpec;
use serde::Serialize;
use serde_json::Value;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

/// All objects of one scan (or what the webhook or auditor knows of the
/// cluster), indexed by kind, namespace and name.
#[derive(Default)]
pub struct Inventory {
    items: Vec<Arc<Resource>>,
    /// kind -> (cluster-scoped | namespace -> name) -> item, nested so that
    /// lookups borrow their keys instead of allocating; empty (lookups
    /// scan the items) below [`INDEX_FROM`] items.
    index: HashMap<String, KindIndex>,
}

/// The inventory size from which lookups use an index: the webhook's
/// inventories (the object and its namespace) are scanned, not indexed.
const INDEX_FROM: usize = 16;

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
        if items.len() < INDEX_FROM {
            return Inventory { items, index };
        }
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
        if self.items.len() < INDEX_FROM {
            return self.items.iter().rev().find(|r| {
                r.id.kind == kind && r.id.namespace.as_deref() == namespace && r.id.name == name
            });
        }
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
    /// One entry per type; there are as many as context providers (a few).
    items: Vec<(TypeId, Box<dyn Any + Send + Sync>)>,
}

impl Extensions {
    /// Stores `value`, replacing any earlier value of its type.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        let value: Box<dyn Any + Send + Sync> = Box::new(value);
        match self.items.iter_mut().find(|(t, _)| *t == id) {
            Some(slot) => slot.1 = value,
            None => self.items.push((id, value)),
        }
    }

    /// The stored value of type `T`.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.items
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, v)| v.downcast_ref())
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
    /// The whole `request` object as received (without `object` and
    /// `oldObject`), for CEL and Rego policies. The webhook builds it only
    /// when such a policy is loaded; otherwise it is `null`.
    pub raw: Value,
}

/// Values derived once per evaluated object and shared by the rules that run
/// on it (the pod-security modes of a pod, ...): see [`Context::memo`].
/// [`PolicySet::evaluate`](crate::PolicySet::evaluate) gives each object a
/// fresh one, so nothing leaks from one object to the next.
#[derive(Default)]
pub struct Memo {
    slots: [OnceLock<Box<dyn Any + Send + Sync>>; MEMO_SLOTS],
}

/// How many distinct types one [`Memo`] holds; more are computed per call.
const MEMO_SLOTS: usize = 4;

impl Memo {
    /// The kept `T`, or `init`'s value kept in a free slot; `Err` with the
    /// value when every slot holds another type.
    fn get_or_init<T: Any + Send + Sync>(&self, init: impl Fn() -> T) -> Result<&T, T> {
        for slot in &self.slots {
            match slot.get() {
                Some(v) => {
                    if let Some(t) = v.downcast_ref::<T>() {
                        return Ok(t);
                    }
                }
                None => break,
            }
        }
        let mut value = Some(init());
        for slot in &self.slots {
            if slot.get().is_none() {
                if let Some(v) = value.take() {
                    // Another thread may fill the slot first: then `v` comes back.
                    if let Err(back) = slot.set(Box::new(v)) {
                        value = back.downcast::<T>().ok().map(|b| *b);
                    }
                }
            }
            if let Some(t) = slot.get().and_then(|v| v.downcast_ref::<T>()) {
                return Ok(t);
            }
        }
        Err(value.unwrap_or_else(init))
    }
}

/// A memoized value: shared by the object's rules, or computed for one call
/// when the context has no [`Memo`].
pub enum Memoized<'a, T> {
    /// Kept in the evaluation's memo.
    Shared(&'a T),
    /// Computed for this call only.
    Owned(T),
}

impl<T> Deref for Memoized<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Memoized::Shared(t) => t,
            Memoized::Owned(t) => t,
        }
    }
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
    /// Set by the front door when nobody waits for the result any more
    /// (the admission client went away): evaluation stops between rules.
    pub cancel: Option<&'a std::sync::atomic::AtomicBool>,
    /// Per-object values shared by rules, when evaluating one object.
    memo: Option<&'a Memo>,
    /// The object being evaluated and its pod spec, found once for all its
    /// rules (see [`Context::pod_spec_of`]).
    object: Option<(&'a Resource, Option<&'a PodSpec<'a>>)>,
}

impl<'a> Context<'a> {
    /// A context with no request.
    pub fn new(inventory: &'a Inventory, extensions: &'a Extensions, now: jiff::Timestamp) -> Self {
        Context {
            inventory,
            extensions,
            request: None,
            now,
            cancel: None,
            memo: None,
            object: None,
        }
    }

    /// This context with `memo` for the values rules derive from one object.
    pub fn with_memo<'b>(&'b self, memo: &'b Memo) -> Context<'b> {
        Context {
            memo: Some(memo),
            ..*self
        }
    }

    /// This context for evaluating `res`, whose pod spec (found by
    /// [`PodSpec::of`]) is `pod`, with `memo` for the values rules derive
    /// from it.
    pub fn for_object<'b>(
        &'b self,
        res: &'b Resource,
        pod: Option<&'b PodSpec<'b>>,
        memo: &'b Memo,
    ) -> Context<'b> {
        Context {
            memo: Some(memo),
            object: Some((res, pod)),
            ..*self
        }
    }

    /// Whether the front door asked to stop ([`Context::cancel`]).
    pub fn is_cancelled(&self) -> bool {
        self.cancel
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The pod spec of `res` when `res` is the object this context
    /// evaluates (found once for all its rules): `Some(None)` when it has
    /// none, `None` when this context does not know `res`.
    pub fn pod_spec_of(&self, res: &Resource) -> Option<Option<&PodSpec<'a>>> {
        let (object, pod) = self.object?;
        std::ptr::eq(object, res).then_some(pod)
    }

    /// A value of type `T` derived from the object being evaluated, computed
    /// by `init` for the first rule that asks and shared with the next ones
    /// (one value per type and object: `T` must depend on the object and
    /// context only, or carry what else it depends on and be checked by the
    /// caller). Without a memo (a rule called outside
    /// [`PolicySet::evaluate`](crate::PolicySet::evaluate)), `init` runs
    /// every time.
    pub fn memo<T: Any + Send + Sync>(&self, init: impl Fn() -> T) -> Memoized<'a, T> {
        match self.memo {
            None => Memoized::Owned(init()),
            Some(m) => match m.get_or_init(init) {
                Ok(t) => Memoized::Shared(t),
                Err(t) => Memoized::Owned(t),
            },
        }
    }

    /// The labels of namespace `name`, when its Namespace object is known.
    pub fn namespace_labels(&self, name: &str) -> Option<&'a Value> {
        self.inventory
            .namespace(name)
            .and_then(|ns| ns.meta("labels"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn memo_computes_once_per_type_and_not_without_a_memo() {
        let inv = Inventory::default();
        let ext = Extensions::default();
        let ctx = Context::new(&inv, &ext, jiff::Timestamp::UNIX_EPOCH);
        let calls = std::cell::Cell::new(0);
        let count = |v: u32| {
            calls.set(calls.get() + 1);
            v
        };
        assert_eq!(*ctx.memo(|| count(1)), 1);
        assert_eq!(*ctx.memo(|| count(2)), 2, "no memo: computed per call");
        let memo = Memo::default();
        let m = ctx.with_memo(&memo);
        assert_eq!(*m.memo(|| count(3)), 3);
        assert_eq!(*m.memo(|| count(4)), 3, "kept for the object");
        assert_eq!(*m.memo(|| String::from("x")), "x");
        assert_eq!(calls.get(), 3);
        assert_eq!(*m.memo(|| 5u64), 5);
        assert_eq!(*m.memo(|| 6u16), 6, "the fourth slot");
        assert_eq!(*m.memo(|| 7u8), 7);
        assert_eq!(*m.memo(|| 8u8), 8, "no slot left: computed per call");
    }

    fn res(v: Value) -> Arc<Resource> {
        Arc::new(Resource::from_value(v).expect("object"))
    }

    #[test]
    fn get_tells_scopes_apart_and_later_duplicates_win() {
        let cm = |ns: &str, n: u32| {
            res(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "x", "namespace": ns}, "data": {"n": n}}))
        };
        // Scanned (small) and indexed (padded past INDEX_FROM) alike.
        for padding in [0, INDEX_FROM] {
            let mut items = vec![
                res(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})),
                cm("a", 1),
                cm("a", 2),
                cm("b", 3),
            ];
            items.extend((0..padding).map(|i| {
                res(json!({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": format!("s{i}"), "namespace": "a"}}))
            }));
            let inv = Inventory::new(items);
            let n = |r: Option<&Arc<Resource>>| r.and_then(|r| r.value.pointer("/data/n").cloned());
            assert_eq!(n(inv.get("ConfigMap", Some("a"), "x")), Some(json!(2)));
            assert_eq!(n(inv.get("ConfigMap", Some("b"), "x")), Some(json!(3)));
            assert!(inv.get("ConfigMap", None, "x").is_none());
            assert!(inv.get("ConfigMap", Some("c"), "x").is_none());
            assert!(inv.get("Secret", Some("a"), "x").is_none());
            assert_eq!(inv.get("Secret", Some("a"), "s3").is_some(), padding > 0);
            assert!(inv.namespace("a").is_some());
            assert!(inv.get("Namespace", Some("a"), "a").is_none());
            assert_eq!(inv.len(), 4 + padding);
        }
    }

    #[test]
    fn extensions_keep_one_value_per_type() {
        let mut ext = Extensions::default();
        ext.insert(1u32);
        ext.insert(String::from("a"));
        ext.insert(2u32);
        assert_eq!(ext.get::<u32>(), Some(&2));
        assert_eq!(ext.get::<String>().map(String::as_str), Some("a"));
        assert_eq!(ext.get::<u8>(), None);
    }
}
