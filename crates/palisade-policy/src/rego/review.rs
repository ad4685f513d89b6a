//! The input Gatekeeper gives a template (`input.review`, `input.parameters`)
//! and the `data.inventory` it syncs, built from Palisade's context.

use crate::matching::{is_cluster_scoped, resource_name, version_of};
use palisade_core::{Context, ContextProvider, Extensions, Inventory, Operation, Resource};
use serde_json::{json, Map, Value};

/// `input.review` for `res`: the admission request when there is one,
/// otherwise a CREATE of the object.
pub fn review(res: &Resource, ctx: &Context<'_>) -> Value {
    let id = &res.id;
    let kind =
        json!({"group": id.group(), "version": version_of(&id.api_version), "kind": id.kind});
    let mut r = Map::new();
    match ctx.request {
        Some(req) => {
            let op = match req.operation {
                Operation::Create => "CREATE",
                Operation::Update => "UPDATE",
                Operation::Delete => "DELETE",
                Operation::Connect => "CONNECT",
            };
            if let Some(raw) = req.raw.as_object() {
                for (k, v) in raw {
                    r.insert(k.clone(), v.clone());
                }
            }
            r.insert("operation".into(), json!(op));
            if req.operation == Operation::Delete {
                r.insert("oldObject".into(), res.value.clone());
                r.entry("object").or_insert(Value::Null);
            } else {
                r.insert("object".into(), res.value.clone());
                if let Some(old) = &req.old_object {
                    r.insert("oldObject".into(), old.clone());
                }
            }
            r.entry("userInfo")
                .or_insert_with(|| json!({"username": req.username, "groups": req.groups}));
            r.entry("kind").or_insert(kind);
        }
        None => {
            r.insert("operation".into(), json!("CREATE"));
            r.insert("object".into(), res.value.clone());
            r.insert("kind".into(), kind);
            r.insert(
                "resource".into(),
                json!({"group": id.group(), "version": version_of(&id.api_version), "resource": resource_name(&id.kind)}),
            );
            r.insert("userInfo".into(), json!({}));
            r.insert("dryRun".into(), json!(false));
        }
    }
    r.entry("name").or_insert_with(|| json!(id.name));
    if let Some(ns) = &id.namespace {
        r.entry("namespace").or_insert_with(|| json!(ns));
    }
    Value::Object(r)
}

/// The whole Rego input: `{"review": ..., "parameters": ...}`.
pub fn input(res: &Resource, ctx: &Context<'_>, parameters: &Value) -> regorus::Value {
    regorus::Value::from(json!({"review": review(res, ctx), "parameters": parameters}))
}

/// `data.inventory` in Gatekeeper's layout, computed once per inventory.
pub struct RegoInventory(pub regorus::Value);

impl RegoInventory {
    /// Builds `{"inventory": {"cluster": {apiVersion: {kind: {name: obj}}},
    /// "namespace": {ns: {apiVersion: {kind: {name: obj}}}}}}`.
    pub fn build(inventory: &Inventory) -> RegoInventory {
        let mut cluster = Map::new();
        let mut namespaced = Map::new();
        for r in inventory.iter() {
            let id = &r.id;
            let root = match &id.namespace {
                Some(ns) if !is_cluster_scoped(id) => namespaced
                    .entry(ns.clone())
                    .or_insert_with(|| Value::Object(Map::new())),
                _ => {
                    let key = id.api_version.clone();
                    let by_version = cluster
                        .entry(key)
                        .or_insert_with(|| Value::Object(Map::new()));
                    insert(by_version, &id.kind, &id.name, &r.value);
                    continue;
                }
            };
            if let Some(m) = root.as_object_mut() {
                let by_version = m
                    .entry(id.api_version.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                insert(by_version, &id.kind, &id.name, &r.value);
            }
        }
        RegoInventory(regorus::Value::from(
            json!({"inventory": {"cluster": cluster, "namespace": namespaced}}),
        ))
    }
}

fn insert(by_version: &mut Value, kind: &str, name: &str, obj: &Value) {
    if let Some(m) = by_version.as_object_mut() {
        let by_kind = m
            .entry(kind.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(k) = by_kind.as_object_mut() {
            k.insert(name.to_string(), obj.clone());
        }
    }
}

/// Computes [`RegoInventory`] once per evaluation for the Rego rules.
pub struct RegoInventoryProvider;

impl ContextProvider for RegoInventoryProvider {
    fn provide(&self, inventory: &Inventory, ext: &mut Extensions) {
        ext.insert(RegoInventory::build(inventory));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn inventory_has_gatekeepers_layout() {
        let ing = Resource::from_value(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "a", "namespace": "web"}})).unwrap();
        let ns = Resource::from_value(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}),
        )
        .unwrap();
        let inv = Inventory::new(vec![Arc::new(ing), Arc::new(ns)]);
        let data = serde_json::to_value(&RegoInventory::build(&inv).0).unwrap();
        assert_eq!(
            data["inventory"]["namespace"]["web"]["networking.k8s.io/v1"]["Ingress"]["a"]["kind"],
            "Ingress"
        );
        assert_eq!(
            data["inventory"]["cluster"]["v1"]["Namespace"]["web"]["metadata"]["name"],
            "web"
        );
    }
}
