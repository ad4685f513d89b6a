//! Gatekeeper Constraints: which objects they match, their parameters and
//! what happens on a violation.

use crate::error::PolicyError;
use crate::matching::{glob_match, is_cluster_scoped, namespace_name, namespace_object, strings};
use palisade_core::{Action, Context, FieldPath, LabelSelector, Resource, Severity};
use serde_json::Value;

/// One `match.kinds` entry.
#[derive(Debug, Clone, Default)]
struct KindMatch {
    groups: Vec<String>,
    kinds: Vec<String>,
}

/// A constraint's `spec.match`.
#[derive(Debug, Clone, Default)]
pub struct Match {
    kinds: Vec<KindMatch>,
    scope: Scope,
    namespaces: Vec<String>,
    excluded_namespaces: Vec<String>,
    label_selector: Option<LabelSelector>,
    namespace_selector: Option<LabelSelector>,
    name: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Scope {
    #[default]
    All,
    Cluster,
    Namespaced,
}

/// A parsed constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// The constraint kind (the template's kind).
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// What it applies to.
    pub matcher: Match,
    /// `spec.parameters` (an empty object when absent).
    pub parameters: Value,
    /// `spec.enforcementAction` mapped onto Palisade's actions.
    pub action: Action,
    /// `spec.enforcementAction` as written.
    pub enforcement_action: String,
    /// From the `palisade.io/severity` annotation, default high.
    pub severity: Severity,
}

/// The Palisade action of a Gatekeeper enforcement action.
fn action_of(a: &str) -> Option<Action> {
    match a {
        "deny" | "Deny" => Some(Action::Enforce),
        "warn" | "Warn" => Some(Action::Warn),
        "dryrun" | "DryRun" => Some(Action::Audit),
        _ => None,
    }
}

impl Constraint {
    /// Parses a constraint object.
    pub fn parse(res: &Resource) -> Result<Constraint, PolicyError> {
        let v = &res.value;
        let label = format!("{} {}", res.id.kind, res.id.name);
        let err = |p: &str, m: String| PolicyError::invalid(res, &label, &FieldPath::parse(p), m);
        let spec = v.get("spec").cloned().unwrap_or(Value::Null);
        let enforcement_action = spec
            .get("enforcementAction")
            .and_then(Value::as_str)
            .unwrap_or("deny")
            .to_string();
        let action = match enforcement_action.as_str() {
            "scoped" => strings_of_scoped(&spec)
                .iter()
                .filter_map(|a| action_of(a))
                .max()
                .ok_or_else(|| {
                    err(
                        "spec.scopedEnforcementActions",
                        "no known action (deny, warn, dryrun)".into(),
                    )
                })?,
            a => action_of(a).ok_or_else(|| {
                err(
                    "spec.enforcementAction",
                    format!(
                        "unknown enforcement action `{a}` (expected deny, warn, dryrun or scoped)"
                    ),
                )
            })?,
        };
        let severity = match res.annotation("palisade.io/severity") {
            Some(s) => s
                .parse::<Severity>()
                .map_err(|e| err("metadata.annotations", e.to_string()))?,
            None => Severity::High,
        };
        let m = spec.get("match").cloned().unwrap_or(Value::Null);
        let selector = |key: &str| -> Result<Option<LabelSelector>, PolicyError> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(s) => LabelSelector::from_value(s)
                    .map(Some)
                    .map_err(|e| err(&format!("spec.match.{key}"), e)),
            }
        };
        let scope = match m.get("scope").and_then(Value::as_str).unwrap_or("*") {
            "*" => Scope::All,
            "Cluster" => Scope::Cluster,
            "Namespaced" => Scope::Namespaced,
            s => {
                return Err(err(
                    "spec.match.scope",
                    format!("unknown scope `{s}` (expected *, Cluster or Namespaced)"),
                ))
            }
        };
        let matcher = Match {
            kinds: m
                .get("kinds")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|k| KindMatch {
                    groups: strings(k.get("apiGroups")),
                    kinds: strings(k.get("kinds")),
                })
                .collect(),
            scope,
            namespaces: strings(m.get("namespaces")),
            excluded_namespaces: strings(m.get("excludedNamespaces")),
            label_selector: selector("labelSelector")?,
            namespace_selector: selector("namespaceSelector")?,
            name: m.get("name").and_then(Value::as_str).map(str::to_string),
        };
        Ok(Constraint {
            kind: res.id.kind.clone(),
            name: res.id.name.clone(),
            matcher,
            parameters: spec
                .get("parameters")
                .cloned()
                .unwrap_or_else(|| Value::Object(Default::default())),
            action,
            enforcement_action,
            severity,
        })
    }
}

fn strings_of_scoped(spec: &Value) -> Vec<String> {
    spec.get("scopedEnforcementActions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("action").and_then(Value::as_str).map(str::to_string))
        .collect()
}

impl Match {
    /// The kind names the match is limited to, or `None` when it matches
    /// every kind (no `kinds`, an entry without kinds, or a `*`).
    pub fn kind_names(&self) -> Option<Vec<String>> {
        if self.kinds.is_empty() {
            return None;
        }
        let mut names = Vec::new();
        for k in &self.kinds {
            if k.kinds.is_empty() || k.kinds.iter().any(|x| x == "*") {
                return None;
            }
            names.extend(k.kinds.iter().cloned());
        }
        names.sort();
        names.dedup();
        Some(names)
    }

    /// Whether the constraint applies to `res` (`labels` are the labels to
    /// select on: the old object's for a DELETE).
    pub fn matches(&self, res: &Resource, ctx: &Context<'_>) -> bool {
        let id = &res.id;
        let kind_ok = self.kinds.is_empty()
            || self.kinds.iter().any(|k| {
                (k.groups.is_empty() || k.groups.iter().any(|g| g == "*" || g == id.group()))
                    && (k.kinds.is_empty() || k.kinds.iter().any(|x| x == "*" || *x == id.kind))
            });
        if !kind_ok {
            return false;
        }
        let cluster = is_cluster_scoped(id);
        match self.scope {
            Scope::Cluster if !cluster => return false,
            Scope::Namespaced if cluster => return false,
            _ => {}
        }
        if let Some(name) = &self.name {
            if !glob_match(name, &id.name) {
                return false;
            }
        }
        if let Some(sel) = &self.label_selector {
            if !sel.matches_json(res.meta("labels")) {
                return false;
            }
        }
        let is_namespace = id.kind == "Namespace" && id.group().is_empty();
        // As in Gatekeeper, namespace criteria apply to namespaced objects
        // whose namespace is known, and to Namespaces; an object without
        // `metadata.namespace` (its namespace decided at apply time) and
        // cluster-scoped objects pass them.
        let ns = match namespace_name(id) {
            Some(ns) if is_namespace || !cluster => ns,
            _ => return true,
        };
        if !self.namespaces.is_empty() && !self.namespaces.iter().any(|p| glob_match(p, ns)) {
            return false;
        }
        if self.excluded_namespaces.iter().any(|p| glob_match(p, ns)) {
            return false;
        }
        if let Some(sel) = &self.namespace_selector {
            let labels = namespace_object(res, ctx)
                .and_then(|n| n.get("metadata").and_then(|m| m.get("labels")));
            if namespace_object(res, ctx).is_none() || !sel.matches_json(labels) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Extensions, Inventory};
    use serde_json::json;
    use std::sync::Arc;

    fn res(v: Value) -> Resource {
        Resource::from_value(v).unwrap()
    }

    fn constraint(spec: Value) -> Constraint {
        Constraint::parse(&res(json!({
            "apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sX",
            "metadata": {"name": "c", "annotations": {"palisade.io/severity": "low"}}, "spec": spec
        })))
        .unwrap()
    }

    fn pod(ns: Option<&str>, name: &str, labels: Value) -> Resource {
        let mut meta = json!({"name": name, "labels": labels});
        if let Some(ns) = ns {
            meta["namespace"] = json!(ns);
        }
        res(json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta}))
    }

    #[test]
    fn match_criteria() {
        let prod = res(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"env": "prod"}}}),
        );
        let inv = Inventory::new(vec![Arc::new(prod.clone())]);
        let ext = Extensions::default();
        let ctx = Context::new(&inv, &ext, jiff::Timestamp::now());
        let c = constraint(json!({
            "enforcementAction": "dryrun",
            "match": {
                "kinds": [{"apiGroups": [""], "kinds": ["Pod", "Namespace"]}],
                "excludedNamespaces": ["kube-*"],
                "namespaceSelector": {"matchLabels": {"env": "prod"}},
                "labelSelector": {"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]},
                "name": "web-*"
            }
        }));
        assert_eq!((c.action, c.severity), (Action::Audit, Severity::Low));
        let m = |r: &Resource| c.matcher.matches(r, &ctx);
        assert!(m(&pod(Some("shop"), "web-1", json!({}))));
        assert!(!m(&pod(Some("shop"), "api-1", json!({}))), "name glob");
        assert!(
            !m(&pod(Some("shop"), "web-1", json!({"skip": "y"}))),
            "labelSelector"
        );
        assert!(
            !m(&pod(Some("kube-system"), "web-1", json!({}))),
            "excludedNamespaces"
        );
        assert!(
            !m(&pod(Some("dev"), "web-1", json!({}))),
            "namespaceSelector: namespace unknown"
        );
        assert!(
            m(&pod(None, "web-1", json!({}))),
            "no namespace: namespace criteria do not apply"
        );
        let svc = res(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-1", "namespace": "shop"}}),
        );
        assert!(!m(&svc), "kinds");
        let ns = res(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web-ns", "labels": {"env": "prod"}}}),
        );
        assert!(m(&ns), "a Namespace is selected by its own labels");
        let scoped = constraint(json!({"match": {"scope": "Cluster", "namespaces": ["shop"]}}));
        assert!(!scoped
            .matcher
            .matches(&pod(Some("shop"), "a", json!({})), &ctx));
        let cr = res(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "a"}}),
        );
        assert!(scoped.matcher.matches(&cr, &ctx));
        assert_eq!(scoped.action, Action::Enforce);
    }

    #[test]
    fn kind_names_bound_the_rule_scope() {
        let names = |spec: Value| constraint(spec).matcher.kind_names();
        assert_eq!(
            names(json!({"match": {"kinds": [
                {"apiGroups": [""], "kinds": ["Pod"]},
                {"apiGroups": ["apps"], "kinds": ["Deployment", "Pod"]}
            ]}})),
            Some(vec!["Deployment".to_string(), "Pod".to_string()])
        );
        assert_eq!(names(json!({"match": {}})), None, "no kinds: every kind");
        assert_eq!(
            names(json!({"match": {"kinds": [{"apiGroups": ["*"], "kinds": ["*"]}]}})),
            None
        );
        assert_eq!(
            names(json!({"match": {"kinds": [{"apiGroups": ["apps"]}]}})),
            None,
            "an entry without kinds matches every kind of its groups"
        );
    }

    #[test]
    fn bad_fields_are_errors() {
        let bad = |spec: Value| {
            Constraint::parse(&res(json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sX", "metadata": {"name": "c"}, "spec": spec})))
                .unwrap_err()
                .to_string()
        };
        assert!(bad(json!({"enforcementAction": "block"}))
            .contains("unknown enforcement action `block`"));
        assert!(bad(json!({"match": {"scope": "Galaxy"}})).contains("spec.match.scope"));
        assert!(bad(json!({"match": {"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Has"}]}}})).contains("spec.match.labelSelector"));
        let warn = constraint(
            json!({"enforcementAction": "scoped", "scopedEnforcementActions": [{"action": "warn"}, {"action": "dryrun"}]}),
        );
        assert_eq!(warn.action, Action::Warn);
    }
}
