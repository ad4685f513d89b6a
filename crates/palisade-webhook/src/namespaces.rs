//! What the webhook knows about namespaces, and where it comes from.
//!
//! Pod Security levels are namespace labels, but the API server sends a
//! webhook only the object under review (`namespaceObject` is given to
//! ValidatingAdmissionPolicies, not to webhooks), and the built-in Pod
//! Security controller reads namespaces from an informer. The webhook has no
//! cluster client yet, so the only source is the administrator's
//! configuration, `webhook.namespaceLabels`, re-read on reload. A namespace
//! not listed there is treated as unlabelled: the profile's defaults apply.
//!
//! Nothing a review says is remembered: a Namespace CREATE or UPDATE is
//! judged like any object and never changes how later requests are judged
//! (it may be a dry run, be denied by another webhook, or come from anyone
//! who can reach the Service). A later auditor watch of the API server is
//! the place to add live labels.

use palisade_core::Resource;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The Namespace objects of the configuration, built once per engine.
#[derive(Default)]
pub struct Namespaces {
    by_name: HashMap<String, Arc<Resource>>,
}

impl Namespaces {
    /// From `webhook.namespaceLabels`.
    pub fn from_config(configured: &BTreeMap<String, BTreeMap<String, String>>) -> Namespaces {
        let by_name = configured
            .iter()
            .filter_map(|(name, labels)| {
                namespace_resource(name, json!(labels)).map(|r| (name.clone(), Arc::new(r)))
            })
            .collect();
        Namespaces { by_name }
    }

    /// The Namespace object of `name`, as configured.
    pub fn get(&self, name: &str) -> Option<Arc<Resource>> {
        self.by_name.get(name).cloned()
    }

    /// How many namespaces are configured.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

fn namespace_resource(name: &str, labels: Value) -> Option<Resource> {
    let mut meta = json!({"name": name});
    if labels.is_object() {
        meta["labels"] = labels;
    }
    Resource::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta}))
}
