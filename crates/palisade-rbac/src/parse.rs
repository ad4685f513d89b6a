//! Reading Roles, ClusterRoles, RoleBindings and ClusterRoleBindings from
//! objects. What cannot be used becomes a [`Problem`] naming the field; the
//! rest of the object is still used.

use crate::model::{
    Binding, BindingSubject, Membership, PolicyRule, Problem, RoleDef, RoleKey, RoleKind,
    RoleRefSpec, Subject, RBAC_GROUP,
};
use palisade_core::config::parse_expiry;
use palisade_core::Field;
use palisade_core::{FieldPath, LabelSelector, Resource};
use serde_json::Value;
use std::sync::Arc;

/// Annotation: when a binding's membership ends (RFC 3339 time, or a date valid through that day).
pub const EXPIRES_AT: &str = "palisade.io/expires-at";
/// Annotation: who answers for a binding.
pub const OWNER: &str = "palisade.io/owner";
/// Annotation: why a binding exists.
pub const REASON: &str = "palisade.io/reason";

/// The namespace of a namespaced object: `metadata.namespace`, or `default`
/// when it has none (where `kubectl apply` without `-n` puts it in a fresh
/// context), so that namespace-less Roles, RoleBindings and ServiceAccounts
/// of one manifest refer to each other as they will once applied.
pub fn namespace_of(res: &Resource) -> String {
    res.id
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

/// Where namespaced objects without a namespace are taken to be.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Whether `res` is an RBAC object of `kind`.
pub fn is_rbac(res: &Resource, kind: &str) -> bool {
    res.id.kind == kind && res.id.group() == RBAC_GROUP
}

fn problem(res: &Arc<Resource>, path: FieldPath, message: impl Into<String>) -> Problem {
    Problem {
        resource: res.clone(),
        path,
        message: message.into(),
    }
}

/// Reads a Role or ClusterRole.
pub fn role(res: &Arc<Resource>, builtin: bool, problems: &mut Vec<Problem>) -> RoleDef {
    let kind = if res.id.kind == "Role" {
        RoleKind::Role
    } else {
        RoleKind::ClusterRole
    };
    let mut rules = Vec::new();
    match res.value.field("rules") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let at = FieldPath::root().key("rules").index(i);
                if !item.is_object() {
                    problems.push(problem(
                        res,
                        at.clone(),
                        format!("rules[{i}] is not a mapping"),
                    ));
                }
                let (rule, bad) = PolicyRule::from_value(item);
                for (field, msg) in bad {
                    problems.push(problem(res, at.key(field), msg));
                }
                rules.push(rule);
            }
        }
        Some(_) => problems.push(problem(
            res,
            FieldPath::root().key("rules"),
            "`rules` must be a list",
        )),
    }
    let aggregation = if kind == RoleKind::ClusterRole {
        res.value.field("aggregationRule").map(|agg| {
            let at = FieldPath::root()
                .key("aggregationRule")
                .key("clusterRoleSelectors");
            let mut selectors = Vec::new();
            match agg.field("clusterRoleSelectors") {
                Some(Value::Array(items)) => {
                    for (i, sel) in items.iter().enumerate() {
                        match LabelSelector::from_value(sel) {
                            Ok(s) => selectors.push(s),
                            Err(e) => problems.push(problem(
                                res,
                                at.index(i),
                                format!("invalid selector: {e}"),
                            )),
                        }
                    }
                }
                None | Some(Value::Null) => {}
                Some(_) => problems.push(problem(
                    res,
                    at.clone(),
                    "`clusterRoleSelectors` must be a list",
                )),
            }
            selectors
        })
    } else {
        None
    };
    RoleDef {
        key: RoleKey {
            kind,
            namespace: if kind == RoleKind::Role {
                Some(namespace_of(res))
            } else {
                None
            },
            name: res.id.name.clone(),
        },
        rules,
        aggregation,
        effective: Vec::new(),
        aggregated_from: Vec::new(),
        builtin,
        superseded_by: None,
        resource: res.clone(),
    }
}

/// Reads a RoleBinding or ClusterRoleBinding.
pub fn binding(res: &Arc<Resource>, problems: &mut Vec<Problem>) -> Binding {
    let cluster = res.id.kind == "ClusterRoleBinding";
    let namespace = if cluster {
        None
    } else {
        Some(namespace_of(res))
    };
    let rr_path = FieldPath::root().key("roleRef");
    let role_ref = match res.value.field("roleRef") {
        None | Some(Value::Null) => {
            problems.push(problem(res, rr_path, "the binding has no `roleRef`"));
            None
        }
        Some(rr) => {
            let kind = rr.field("kind").and_then(Value::as_str).unwrap_or("");
            let name = rr.field("name").and_then(Value::as_str).unwrap_or("");
            if name.is_empty() {
                problems.push(problem(
                    res,
                    rr_path.key("name"),
                    "`roleRef.name` is missing",
                ));
                None
            } else if kind != "Role" && kind != "ClusterRole" {
                problems.push(problem(
                    res,
                    rr_path.key("kind"),
                    format!("`roleRef.kind` is `{kind}`; expected Role or ClusterRole"),
                ));
                None
            } else {
                Some(RoleRefSpec {
                    kind: kind.to_string(),
                    name: name.to_string(),
                })
            }
        }
    };
    let mut subjects = Vec::new();
    if let Some(list) = res.value.field("subjects") {
        match list {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    match subject(item, namespace.as_deref()) {
                        Ok(subject) => subjects.push(BindingSubject { subject, index: i }),
                        Err((field, msg)) => {
                            let mut at = FieldPath::root().key("subjects").index(i);
                            if let Some(f) = field {
                                at = at.key(f);
                            }
                            problems.push(problem(res, at, msg));
                        }
                    }
                }
            }
            Value::Null => {}
            _ => problems.push(problem(
                res,
                FieldPath::root().key("subjects"),
                "`subjects` must be a list",
            )),
        }
    }
    Binding {
        cluster,
        namespace,
        name: res.id.name.clone(),
        role_ref,
        role: None,
        subjects,
        membership: Membership {
            expires_at: res
                .meta("annotations")
                .and_then(|a| a.get(EXPIRES_AT))
                .map(|v| match v.as_str() {
                    Some(t) => parse_expiry(t.trim()),
                    None => Err(format!("the value is {v}, not a string")),
                }),
            owner: res.annotation(OWNER).map(str::to_string),
            reason: res.annotation(REASON).map(str::to_string),
        },
        builtin: false,
        superseded_by: None,
        resource: res.clone(),
    }
}

type SubjectError = (Option<&'static str>, String);

/// Reads one subject; a ServiceAccount without a namespace takes the binding's.
fn subject(v: &Value, binding_ns: Option<&str>) -> Result<Subject, SubjectError> {
    if !v.is_object() {
        return Err((None, "a subject must be a mapping".into()));
    }
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let name = text("name");
    if name.is_empty() {
        return Err((Some("name"), "the subject has no `name`".into()));
    }
    match text("kind") {
        "User" => Ok(Subject::user(name)),
        "Group" => Ok(Subject::Group(name.to_string())),
        "ServiceAccount" => {
            let ns = Some(text("namespace")).filter(|s| !s.is_empty()).or(binding_ns);
            match ns {
                Some(ns) => Ok(Subject::ServiceAccount {
                    namespace: ns.to_string(),
                    name: name.to_string(),
                }),
                None => Err((
                    Some("namespace"),
                    format!("ServiceAccount subject `{name}` has no namespace (required in a ClusterRoleBinding)"),
                )),
            }
        }
        "" => Err((Some("kind"), "the subject has no `kind`".into())),
        other => Err((
            Some("kind"),
            format!("unknown subject kind `{other}` (expected User, Group or ServiceAccount); it grants nothing"),
        )),
    }
}
