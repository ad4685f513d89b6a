//! Rules over the entries of Roles and ClusterRoles: `rbac-wildcard`,
//! `rbac-secrets-access`, `rbac-escalation`, `rbac-pod-exec` and
//! `rbac-invalid-role`. Each finding points at the rule entry's field.
//!
//! Concerns: the rule IDs. An aggregating ClusterRole's own `rules` are
//! overwritten by the aggregation controller, so its entries are not checked;
//! the roles it aggregates are.

use super::{holders_text, RbacData, RbacRule, Subject, Texts};
use palisade_core::{Context, Emitter, FieldPath, Resource, Rule, Severity};
use palisade_rbac::matching::{api_group_matches, resource_matches, verb_matches};
use palisade_rbac::resources::is_cluster_scoped;
use palisade_rbac::{PolicyRule, RoleDef, RoleKind};
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        RbacRule::roles(
            Texts {
                id: "rbac-wildcard",
                severity: Severity::High,
                title: "Role grants `*` verbs, resources or API groups",
                description: "A wildcard grants every current and future verb, resource or API \
                    group, including ones added later by CRDs and upgrades (escalate, bind, \
                    impersonate, secrets). Least privilege means naming what is needed.",
                remediation:
                    "List the verbs, resources and API groups the holder needs instead of `*`.",
            },
            check_wildcard,
        ),
        RbacRule::roles(
            Texts {
                id: "rbac-secrets-access",
                severity: Severity::High,
                title: "Role can read Secrets (get, list or watch)",
                description: "Reading Secrets yields credentials: service account tokens, \
                    registry passwords, TLS keys, database passwords. `list` and `watch` return \
                    every Secret's content, not only names.",
                remediation: "Grant Secret access only to the workloads that mount them, limited \
                    with `resourceNames`, or mount the Secret into the pod instead of reading it \
                    through the API.",
            },
            check_secrets,
        ),
        RbacRule::roles(
            Texts {
                id: "rbac-escalation",
                severity: Severity::High,
                title: "Role can escalate privileges",
                description: "`escalate` and `bind` on roles, `impersonate`, creating or \
                    patching (cluster)rolebindings, creating service account tokens and \
                    approving certificate signing requests each let the holder obtain \
                    permissions it was not granted, up to cluster-admin.",
                remediation: "Remove the verb, or restrict it with `resourceNames` to the exact \
                    roles, bindings or accounts an automation needs; keep such roles for \
                    break-glass groups with time-bound memberships.",
            },
            check_escalation,
        ),
        RbacRule::roles(
            Texts {
                id: "rbac-pod-exec",
                severity: Severity::High,
                title:
                    "Role can run commands in pods or nodes (pods/exec, pods/attach, nodes/proxy)",
                description: "exec and attach give a shell in a running container with its \
                    mounted secrets and service account token; nodes/proxy reaches the kubelet \
                    API, which runs commands in any pod of the node and bypasses audit.",
                remediation: "Grant exec only to break-glass groups with time-bound \
                    memberships; use logs, metrics and ephemeral debug tooling instead.",
            },
            check_exec,
        ),
        RbacRule::roles(
            Texts {
                id: "rbac-invalid-role",
                severity: Severity::Medium,
                title: "Role has fields Kubernetes cannot use",
                description: "A rule entry or aggregation selector that is not well formed is \
                    rejected by the API server or grants something other than intended: \
                    empty verbs, missing apiGroups or resources, non-resource URLs in a \
                    Role or mixed with resources, capitalised verbs or resources.",
                remediation: "Fix the field: rule fields are lists of strings, selectors use \
                    matchLabels and matchExpressions with In, NotIn, Exists or DoesNotExist.",
            },
            check_invalid,
        ),
    ]
}

/// The checked entries of a role: (index, rule).
fn entries(role: &RoleDef) -> impl Iterator<Item = (usize, &PolicyRule)> {
    let own = role.aggregation.is_none();
    role.rules.iter().enumerate().filter(move |_| own)
}

fn at(i: usize, field: &str) -> FieldPath {
    FieldPath::root().key("rules").index(i).key(field)
}

fn check_wildcard(
    _res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Role(role, ri) = s else { return };
    for (i, rule) in entries(role) {
        for (field, list, what) in [
            ("verbs", &rule.verbs, "every verb"),
            ("resources", &rule.resources, "every resource"),
            ("apiGroups", &rule.api_groups, "every API group"),
            (
                "nonResourceURLs",
                &rule.non_resource_urls,
                "every non-resource URL",
            ),
        ] {
            if let Some(j) = list.iter().position(|v| v == "*") {
                out.emit(
                    &at(i, field).index(j),
                    format!(
                        "rules[{i}].{field} is `*`: {what} ({rule}); {}",
                        holders_text(&data.graph, ri)
                    ),
                );
            }
        }
    }
}

const READ: [&str; 3] = ["get", "list", "watch"];

fn check_secrets(
    _res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Role(role, ri) = s else { return };
    for (i, rule) in entries(role) {
        let verbs: Vec<&str> = READ.into_iter().filter(|v| verb_matches(rule, v)).collect();
        if verbs.is_empty() || !api_group_matches(rule, "") {
            continue;
        }
        let Some(j) = rule
            .resources
            .iter()
            .position(|r| r == "*" || r == "secrets")
        else {
            continue;
        };
        let names = if rule.resource_names.is_empty() {
            "every Secret".to_string()
        } else {
            format!("Secrets {}", rule.resource_names.join(", "))
        };
        let scope = match &role.key.namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "in every namespace it is bound for".to_string(),
        };
        out.emit(
            &at(i, "resources").index(j),
            format!(
                "rules[{i}] can {} {names} {scope}; {}",
                verbs.join("/"),
                holders_text(&data.graph, ri)
            ),
        );
    }
}

/// (verb, group, resource, subresource, what it means)
const ESCALATIONS: [(&str, &str, &str, &str, &str); 16] = [
    (
        "escalate",
        "rbac.authorization.k8s.io",
        "roles",
        "",
        "escalate roles",
    ),
    (
        "escalate",
        "rbac.authorization.k8s.io",
        "clusterroles",
        "",
        "escalate clusterroles",
    ),
    (
        "bind",
        "rbac.authorization.k8s.io",
        "roles",
        "",
        "bind roles",
    ),
    (
        "bind",
        "rbac.authorization.k8s.io",
        "clusterroles",
        "",
        "bind clusterroles",
    ),
    ("impersonate", "", "users", "", "impersonate users"),
    ("impersonate", "", "groups", "", "impersonate groups"),
    (
        "impersonate",
        "",
        "serviceaccounts",
        "",
        "impersonate service accounts",
    ),
    (
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
        "",
        "create rolebindings",
    ),
    (
        "patch",
        "rbac.authorization.k8s.io",
        "rolebindings",
        "",
        "patch rolebindings",
    ),
    (
        "update",
        "rbac.authorization.k8s.io",
        "rolebindings",
        "",
        "update rolebindings",
    ),
    (
        "create",
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "",
        "create clusterrolebindings",
    ),
    (
        "patch",
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "",
        "patch clusterrolebindings",
    ),
    (
        "update",
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "",
        "update clusterrolebindings",
    ),
    (
        "create",
        "",
        "serviceaccounts",
        "token",
        "create service account tokens",
    ),
    (
        "approve",
        "certificates.k8s.io",
        "signers",
        "",
        "approve certificate signing requests",
    ),
    (
        "update",
        "certificates.k8s.io",
        "certificatesigningrequests",
        "approval",
        "approve certificate signing requests",
    ),
];

/// Whether `rule` grants (verb, group, resource[/sub]) for some object name.
fn grants(rule: &PolicyRule, verb: &str, group: &str, resource: &str, sub: &str) -> bool {
    if !verb_matches(rule, verb) || !api_group_matches(rule, group) {
        return false;
    }
    if sub.is_empty() {
        resource_matches(rule, resource, sub)
    } else {
        resource_matches(rule, &format!("{resource}/{sub}"), sub)
    }
}

/// Whether (verb, group, resource) is asked with no namespace, so a Role
/// (which grants only in its namespace) can never grant it. `bind` is the
/// exception: creating a RoleBinding to a ClusterRole asks `bind` on
/// `clusterroles` in the binding's namespace.
fn cluster_only(verb: &str, group: &str, resource: &str) -> bool {
    verb != "bind" && is_cluster_scoped(group, resource)
}

fn limited(rule: &PolicyRule) -> String {
    if rule.resource_names.is_empty() {
        String::new()
    } else {
        format!(" (limited to {})", rule.resource_names.join(", "))
    }
}

fn check_escalation(
    _res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Role(role, ri) = s else { return };
    let namespaced = role.key.kind == RoleKind::Role;
    for (i, rule) in entries(role) {
        let mut what: Vec<&str> = ESCALATIONS
            .iter()
            .filter(|(v, g, r, _, _)| !(namespaced && cluster_only(v, g, r)))
            .filter(|(v, g, r, sub, _)| grants(rule, v, g, r, sub))
            .map(|e| e.4)
            .collect();
        what.dedup();
        if what.is_empty() {
            continue;
        }
        out.emit(
            &at(i, "verbs"),
            format!(
                "rules[{i}] can {}{}; {}",
                what.join(", "),
                limited(rule),
                holders_text(&data.graph, ri)
            ),
        );
    }
}

fn check_exec(
    _res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Role(role, ri) = s else { return };
    let namespaced = role.key.kind == RoleKind::Role;
    for (i, rule) in entries(role) {
        // exec and attach need `create` (websocket upgrades too, since
        // Kubernetes 1.31); the kubelet API behind nodes/proxy runs commands
        // with a plain `get`.
        let what: Vec<&str> = [("pods", "exec"), ("pods", "attach"), ("nodes", "proxy")]
            .into_iter()
            // a Role's rules apply only in its namespace: never to nodes
            .filter(|(r, _)| !(namespaced && is_cluster_scoped("", r)))
            .filter(|(r, sub)| {
                grants(rule, "create", "", r, sub)
                    || (*r == "nodes" && grants(rule, "get", "", r, sub))
            })
            .map(|(r, sub)| match r {
                "pods" if sub == "exec" => "pods/exec",
                "pods" => "pods/attach",
                _ => "nodes/proxy",
            })
            .collect();
        if what.is_empty() {
            continue;
        }
        out.emit(
            &at(i, "resources"),
            format!(
                "rules[{i}] grants {}{}; {}",
                what.join(", "),
                limited(rule),
                holders_text(&data.graph, ri)
            ),
        );
    }
}

fn check_invalid(
    res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    for p in data.graph.problems_of(res) {
        out.emit(&p.path, p.message.clone());
    }
    let Subject::Role(role, _) = s else { return };
    let namespaced = role.key.kind == RoleKind::Role;
    let raw = res.value.get("rules").and_then(|r| r.as_array());
    for (i, rule) in entries(role) {
        let entry = raw.and_then(|r| r.get(i));
        for (field, message) in entry_problems(i, rule, entry, namespaced) {
            out.emit(&at(i, field), message);
        }
    }
}

/// What the API server rejects in a rule entry (`ValidatePolicyRule` in
/// `pkg/apis/rbac/validation`), and names that can never match because
/// requests carry verbs and resources in lower case.
fn entry_problems(
    i: usize,
    rule: &PolicyRule,
    entry: Option<&serde_json::Value>,
    namespaced: bool,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let rejected = "the API server rejects the role";
    // a field that is there but not a list of strings is reported by the graph
    let missing = |field: &str| match entry.and_then(|e| e.get(field)) {
        None | Some(serde_json::Value::Null) => true,
        Some(serde_json::Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    if missing("verbs") {
        out.push(("verbs", format!("rules[{i}].verbs is empty: {rejected}")));
    }
    if !rule.non_resource_urls.is_empty() {
        if namespaced {
            out.push((
                "nonResourceURLs",
                format!("rules[{i}]: a Role cannot grant non-resource URLs (namespaced rules never apply to them): {rejected}"),
            ));
        }
        if !rule.api_groups.is_empty()
            || !rule.resources.is_empty()
            || !rule.resource_names.is_empty()
        {
            out.push((
                "nonResourceURLs",
                format!("rules[{i}] mixes resources and non-resource URLs: {rejected}"),
            ));
        }
    } else {
        if missing("apiGroups") {
            out.push((
                "apiGroups",
                format!("rules[{i}] has no apiGroups (use [\"\"] for the core group): {rejected}"),
            ));
        }
        if missing("resources") {
            out.push((
                "resources",
                format!("rules[{i}] has no resources: {rejected}"),
            ));
        }
    }
    for (field, list, what) in [
        ("verbs", &rule.verbs, "verb"),
        ("resources", &rule.resources, "resource"),
    ] {
        for v in list
            .iter()
            .filter(|v| v.bytes().any(|b| b.is_ascii_uppercase()))
        {
            out.push((
                field,
                format!(
                    "rules[{i}].{field} has `{v}`, which never matches: requests name the {what} in lower case (`{}`)",
                    v.to_ascii_lowercase()
                ),
            ));
        }
    }
    out
}
