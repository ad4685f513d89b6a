//! Which requests `webhook-config` routes to the webhook: the kinds the
//! built-in rules check and the resources the loaded user policies match.

use palisade_core::Resource;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The resources the built-in rules check, by API group: the built-in pod
/// kinds, namespaces and service accounts, and RBAC objects (custom
/// resources with pod templates come from `PodTemplates`).
pub const BUILTIN: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "pods",
            "pods/ephemeralcontainers",
            "replicationcontrollers",
            "podtemplates",
            "namespaces",
            "serviceaccounts",
        ],
    ),
    (
        "apps",
        &["deployments", "replicasets", "statefulsets", "daemonsets"],
    ),
    ("batch", &["jobs", "cronjobs"]),
    (
        "rbac.authorization.k8s.io",
        &[
            "roles",
            "clusterroles",
            "rolebindings",
            "clusterrolebindings",
        ],
    ),
];

/// One webhook rule (`admissionregistration.k8s.io/v1` RuleWithOperations).
pub fn rule(groups: &[&str], ops: &[&str], resources: &[&str]) -> Value {
    json!({"apiGroups": groups, "apiVersions": ["*"], "operations": ops, "resources": resources, "scope": "*"})
}

/// Resources for `(groups, kinds)` pairs: each kind as its plural resource
/// name, as `resourceRules` name them (the same mapping the policy matcher
/// uses).
pub fn resources_of_kinds(groups: &[String], kinds: &[String], ops: &[&str]) -> Value {
    let resources: Vec<String> = kinds
        .iter()
        .map(|k| palisade_policy::matching::resource_name(k))
        .collect();
    json!({"apiGroups": groups, "apiVersions": ["*"], "operations": ops, "resources": resources, "scope": "*"})
}

/// The rules routing what the user policies among `objects` match, and a
/// note for each policy whose match could not be routed (so it is said,
/// not silently dropped).
pub fn policy_rules(objects: &[std::sync::Arc<Resource>]) -> (Vec<Value>, Vec<String>) {
    let mut rules = Vec::new();
    let mut notes = Vec::new();
    let mut seen = BTreeSet::new();
    for r in objects {
        let group = r.id.group();
        let found = if group == "admissionregistration.k8s.io"
            && r.id.kind == "ValidatingAdmissionPolicy"
        {
            vap_rules(&r.value)
        } else if group == "constraints.gatekeeper.sh" {
            constraint_rules(&r.value)
        } else {
            continue;
        };
        match found {
            Some(found) if !found.is_empty() => {
                for rule in found {
                    if seen.insert(rule.to_string()) {
                        rules.push(rule);
                    }
                }
            }
            _ => notes.push(format!(
                "{} {} matches every kind: its requests are not routed to the webhook; narrow its match or add its resources with --resource GROUP/RESOURCE",
                r.id.kind, r.id.name
            )),
        }
    }
    (rules, notes)
}

/// `spec.matchConstraints.resourceRules`, which have the webhook rules' own
/// shape. `None` when absent or a wildcard resource.
fn vap_rules(v: &Value) -> Option<Vec<Value>> {
    let rules = v
        .pointer("/spec/matchConstraints/resourceRules")?
        .as_array()?;
    let mut out = Vec::new();
    for r in rules {
        let field = |k: &str, default: Value| r.get(k).cloned().unwrap_or(default);
        let resources = field("resources", json!([]));
        if resources
            .as_array()
            .is_none_or(|a| a.is_empty() || a.iter().any(|x| x == "*" || x == "*/*"))
        {
            return None;
        }
        out.push(json!({
            "apiGroups": field("apiGroups", json!([""])),
            "apiVersions": field("apiVersions", json!(["*"])),
            "operations": field("operations", json!(["CREATE", "UPDATE"])),
            "resources": resources,
            "scope": field("scope", json!("*")),
        }));
    }
    Some(out)
}

/// `spec.match.kinds` of a Gatekeeper constraint. `None` when absent or a
/// wildcard kind.
fn constraint_rules(v: &Value) -> Option<Vec<Value>> {
    let kinds = v.pointer("/spec/match/kinds")?.as_array()?;
    let strings = |x: Option<&Value>| -> Vec<String> {
        x.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let mut out = Vec::new();
    for k in kinds {
        let groups = strings(k.get("apiGroups"));
        let names = strings(k.get("kinds"));
        if names.is_empty() || names.iter().any(|n| n == "*") {
            return None;
        }
        let groups = if groups.is_empty() {
            vec![String::new()]
        } else {
            groups
        };
        out.push(resources_of_kinds(&groups, &names, &["CREATE", "UPDATE"]));
    }
    Some(out)
}

/// A `--resource GROUP/RESOURCE` (or `RESOURCE` for the core group) as a
/// rule for CREATE and UPDATE.
pub fn extra_rule(spec: &str) -> anyhow::Result<Value> {
    let (group, resource) = spec.rsplit_once('/').unwrap_or(("", spec));
    if resource.is_empty() || resource.contains('*') {
        anyhow::bail!("--resource `{spec}`: expected GROUP/RESOURCE or RESOURCE (no wildcards)");
    }
    Ok(rule(&[group], &["CREATE", "UPDATE"], &[resource]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(v: Value) -> std::sync::Arc<Resource> {
        std::sync::Arc::new(Resource::from_value(v).unwrap())
    }

    #[test]
    fn policies_route_what_they_match_and_wildcards_are_said() {
        let vap = res(
            json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "ing"}, "spec": {"matchConstraints": {"resourceRules": [
                {"apiGroups": ["networking.k8s.io"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["ingresses"]}]}}}),
        );
        let con = res(
            json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sRequiredLabels",
            "metadata": {"name": "svc"}, "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Service", "ConfigMap"]}]}}}),
        );
        let any = res(
            json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sAny",
            "metadata": {"name": "all"}, "spec": {"match": {}}}),
        );
        let (rules, notes) = policy_rules(&[vap, con, any]);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["resources"], json!(["ingresses"]));
        assert_eq!(rules[0]["operations"], json!(["CREATE"]));
        assert_eq!(rules[1]["resources"], json!(["services", "configmaps"]));
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("K8sAny all matches every kind"),
            "{notes:?}"
        );
        assert_eq!(
            extra_rule("example.com/widgets").unwrap()["apiGroups"],
            json!(["example.com"])
        );
        assert!(extra_rule("*").is_err());
    }
}
