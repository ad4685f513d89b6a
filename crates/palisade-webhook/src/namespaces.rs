//! Namespace labels for Pod Security levels.
//!
//! The API server sends only the object under review, not its Namespace;
//! the built-in Pod Security controller reads namespaces from an informer.
//! Palisade has no cluster client here, so it knows a namespace's labels
//! from (1) the Namespace CREATE and UPDATE reviews its webhook
//! configuration routes to it (`palisade webhook-config` includes
//! namespaces), latest first, and (2) `webhook.namespaceLabels` in the config
//! for namespaces that existed before the webhook started. A namespace known
//! from neither is treated as unlabelled: the profile's defaults apply.

use palisade_core::Resource;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// Namespaces learned from admission reviews, with labels.
#[derive(Default)]
pub struct NamespaceCache {
    seen: RwLock<HashMap<String, Arc<Resource>>>,
}

impl NamespaceCache {
    /// Records (or replaces) a Namespace object seen in an admitted review.
    pub fn learn(&self, ns: &Value) {
        let Some(name) = ns.pointer("/metadata/name").and_then(Value::as_str) else {
            return;
        };
        let labels = ns
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(Value::Null);
        let Some(res) = namespace_resource(name, labels) else {
            return;
        };
        if let Ok(mut m) = self.seen.write() {
            m.insert(name.to_string(), Arc::new(res));
        }
    }

    /// Forgets a deleted namespace.
    pub fn forget(&self, name: &str) {
        if let Ok(mut m) = self.seen.write() {
            m.remove(name);
        }
    }

    /// The Namespace object of `name`: as last seen, else as configured.
    pub fn get(
        &self,
        name: &str,
        configured: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Option<Arc<Resource>> {
        if let Some(r) = self.seen.read().ok().and_then(|m| m.get(name).cloned()) {
            return Some(r);
        }
        let labels = configured.get(name)?;
        namespace_resource(name, json!(labels)).map(Arc::new)
    }

    /// How many namespaces were learned.
    pub fn len(&self) -> usize {
        self.seen.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether none was learned.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn namespace_resource(name: &str, labels: Value) -> Option<Resource> {
    let mut meta = json!({"name": name});
    if labels.is_object() {
        meta["labels"] = labels;
    }
    Resource::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta}))
}
