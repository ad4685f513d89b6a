//! `namespace-missing-default-deny` and `network-egress-allow-all`.
//!
//! A namespace is isolated for a direction (Ingress, Egress) when a
//! NetworkPolicy selects all its pods (`podSelector: {}`) with that policy
//! type and no rule of that direction allowing everything: from then on only
//! what policies allow gets through (the allow lists). The
//! [`NetworkProvider`] works this out once per evaluation for every
//! namespace, with the namespaces that run workloads.

use super::{ClusterRule, Texts};
use palisade_core::workload::POD_KINDS;
use palisade_core::{
    Context, ContextProvider, Emitter, Extensions, Field, FieldPath, Inventory, Resource, Rule,
    Scope, Severity,
};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Per namespace: whether it runs workloads and which directions are isolated.
#[derive(Debug, Default)]
pub struct NamespaceNetwork {
    /// Namespaces with at least one pod-creating object.
    pub with_workloads: HashSet<String>,
    /// Namespace -> (ingress isolated, egress isolated).
    pub isolated: HashMap<String, (bool, bool)>,
}

/// Derives [`NamespaceNetwork`] from the inventory.
#[derive(Debug, Default)]
pub struct NetworkProvider;

impl ContextProvider for NetworkProvider {
    fn provide(&self, inventory: &Inventory, ext: &mut Extensions) {
        let mut n = NamespaceNetwork::default();
        for r in inventory.iter() {
            let Some(ns) = r.id.namespace.as_deref() else {
                continue;
            };
            if POD_KINDS.contains(&r.id.kind.as_str()) {
                if !n.with_workloads.contains(ns) {
                    n.with_workloads.insert(ns.to_string());
                }
            } else if r.id.kind == "NetworkPolicy" {
                let (i, e) = isolates(&r.value);
                let entry = n.isolated.entry(ns.to_string()).or_default();
                entry.0 |= i;
                entry.1 |= e;
            }
        }
        if !n.with_workloads.is_empty() {
            ext.insert(n); // without workloads nothing is reported: no allocation per admission review
        }
    }

    /// Of the pod kinds only the namespace is read. NetworkPolicies are read
    /// whole: a scope has one depth for all its kinds, so they are declared
    /// by the rule that reads this data (`namespace-missing-default-deny`'s
    /// `reads_inventory`); without that rule nothing reads what is provided.
    fn reads(&self) -> Scope {
        Scope::kinds(&POD_KINDS).identity_only()
    }
}

/// The policy types of a NetworkPolicy spec, defaulted as the API server does.
fn policy_types(spec: &Value) -> (bool, bool) {
    match spec.field("policyTypes") {
        Some(Value::Array(t)) => (
            t.iter().any(|v| v == "Ingress"),
            t.iter().any(|v| v == "Egress"),
        ),
        _ => {
            let egress = matches!(spec.field("egress"), Some(Value::Array(e)) if !e.is_empty());
            (true, egress)
        }
    }
}

/// Whether a selector selects everything (absent, `{}`, or empty lists).
fn selects_all(sel: Option<&Value>) -> bool {
    let empty = |k: &str| match sel.and_then(|s| s.field(k)) {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    matches!(sel, None | Some(Value::Null) | Some(Value::Object(_)))
        && empty("matchLabels")
        && empty("matchExpressions")
}

/// Whether a rule allows every peer on every port (`- {}`).
fn allows_everything(rule: &Value, peers: &str) -> bool {
    let none = |k: &str| match rule.field(k) {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    none(peers) && none("ports")
}

/// Which directions a NetworkPolicy isolates for all pods of its namespace.
pub fn isolates(np: &Value) -> (bool, bool) {
    let Some(spec) = np.field("spec").filter(|s| s.is_object()) else {
        return (false, false);
    };
    if !selects_all(spec.field("podSelector")) {
        return (false, false);
    }
    let (ingress, egress) = policy_types(spec);
    let open = |dir: &str, peers: &str| match spec.field(dir) {
        Some(Value::Array(rules)) => rules.iter().any(|r| allows_everything(r, peers)),
        _ => false,
    };
    (
        ingress && !open("ingress", "from"),
        egress && !open("egress", "to"),
    )
}

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    // The pod kinds (identity) come with the provider's `reads`.
    let reads = Scope::kinds(&["NetworkPolicy"]);
    vec![
        ClusterRule::shared(
            Texts {
                id: "namespace-missing-default-deny",
                severity: Severity::Medium,
                title: "A namespace with workloads has no default-deny NetworkPolicy for ingress and egress",
                description: "Without a NetworkPolicy selecting every pod, pods accept connections \
                    from anywhere in the cluster and connect anywhere, including the internet and \
                    the cloud metadata service: one compromised container reaches every other \
                    service. A default-deny policy for both Ingress and Egress makes every allowed \
                    flow an explicit allow list.",
                remediation: "Add a NetworkPolicy with `podSelector: {}` and `policyTypes: \
                    [Ingress, Egress]` and no rules to the namespace, then allow the flows the \
                    workloads need (DNS, their dependencies) with further policies.",
            },
            Scope::kinds(&["Namespace"]),
            reads,
            Box::new(missing_default_deny),
        ),
        ClusterRule::shared(
            Texts {
                id: "network-egress-allow-all",
                severity: Severity::Medium,
                title: "A NetworkPolicy allows egress to every destination",
                description: "An egress rule without destinations (`- {}` or `to: []`) or with \
                    `0.0.0.0/0` or `::/0` and no `except` lets the selected pods connect anywhere, \
                    including the internet and the cloud metadata endpoint: exfiltration and \
                    command-and-control need nothing more. Egress should be an allow list of the \
                    destinations the workload needs.",
                remediation: "Replace the rule with rules naming the destinations (namespace and \
                    pod selectors, narrow ipBlocks with `except` for metadata and private ranges) \
                    and ports the workload needs.",
            },
            Scope::kinds(&["NetworkPolicy"]),
            Scope::none(),
            Box::new(egress_allow_all),
        ),
    ]
}

fn missing_default_deny(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let Some(net) = ctx.extensions.get::<NamespaceNetwork>() else {
        return;
    };
    let ns = res.id.name.as_str();
    if !net.with_workloads.contains(ns) {
        return;
    }
    let (i, e) = net.isolated.get(ns).copied().unwrap_or_default();
    let missing = match (i, e) {
        (true, true) => return,
        (false, false) => "Ingress and Egress",
        (false, true) => "Ingress",
        (true, false) => "Egress",
    };
    let path = FieldPath::root().key("metadata").key("name");
    out.emit(
        &path,
        format!("namespace `{ns}` runs workloads but no NetworkPolicy selecting all its pods isolates them for {missing}"),
    );
}

fn egress_allow_all(res: &Resource, _: &Context<'_>, out: &mut Emitter<'_>) {
    let Some(spec) = res.value.field("spec") else {
        return;
    };
    if !policy_types(spec).1 {
        return; // egress rules of a policy without the Egress type have no effect
    }
    let Some(Value::Array(rules)) = spec.field("egress") else {
        return;
    };
    let base = FieldPath::root().key("spec").key("egress");
    for (i, rule) in rules.iter().enumerate() {
        let ports = match rule.field("ports") {
            Some(Value::Array(p)) if !p.is_empty() => "on the listed ports",
            _ => "on every port",
        };
        let peers = match rule.field("to") {
            Some(Value::Array(p)) if !p.is_empty() => p,
            _ => {
                out.emit(
                    &base.index(i),
                    format!("egress rule {i} has no destinations: it allows every destination {ports} (spec.egress[{i}])"),
                );
                continue;
            }
        };
        for (j, peer) in peers.iter().enumerate() {
            let Some(block) = peer.field("ipBlock") else {
                continue;
            };
            let cidr = block.field("cidr").and_then(Value::as_str).unwrap_or("");
            let except = matches!(block.field("except"), Some(Value::Array(e)) if !e.is_empty());
            if matches!(cidr.trim(), "0.0.0.0/0" | "::/0") && !except {
                let path = base.index(i).key("to").index(j).key("ipBlock").key("cidr");
                out.emit(
                    &path,
                    format!("egress rule {i} allows every address ({cidr} without except) {ports} ({path})"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn isolation_follows_the_api_defaults() {
        let np = |spec: Value| json!({"spec": spec});
        assert_eq!(isolates(&np(json!({"podSelector": {}}))), (true, false));
        assert_eq!(
            isolates(&np(
                json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
            )),
            (true, true)
        );
        assert_eq!(
            isolates(&np(
                json!({"podSelector": {"matchLabels": {"a": "b"}}, "policyTypes": ["Egress"]})
            )),
            (false, false)
        );
        assert_eq!(
            isolates(&np(
                json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "egress": [{}]})
            )),
            (true, false),
            "an allow-all egress rule is no isolation"
        );
        assert_eq!(
            isolates(&np(
                json!({"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]})
            )),
            (true, true),
            "egress rules imply the Egress type"
        );
        assert_eq!(isolates(&json!({"spec": "x"})), (false, false));
    }
}
