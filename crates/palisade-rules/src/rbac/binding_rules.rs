//! Rules over the subjects and role of RoleBindings and ClusterRoleBindings:
//! `rbac-cluster-admin-binding`, `rbac-user-subject`, `rbac-anonymous-access`,
//! `rbac-default-service-account-bound`, `rbac-binding-missing-role` and
//! `rbac-binding-missing-subject`. Findings point at the subject or `roleRef`.
//!
//! Concerns: the rule IDs.

use super::{RbacData, RbacRule, Subject, Texts};
use palisade_core::{Context, Emitter, FieldPath, Resource, Rule, Severity};
use palisade_rbac::query::{ANONYMOUS, UNAUTHENTICATED};
use palisade_rbac::{builtin, Binding, RbacGraph, Subject as Who};
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        RbacRule::bindings(
            Texts {
                id: "rbac-cluster-admin-binding",
                severity: Severity::Critical,
                title: "Binding grants cluster-admin",
                description: "cluster-admin can do anything to anything, everywhere, including \
                    reading every Secret and granting itself to others. Every holder is a \
                    complete cluster compromise when their credentials leak.",
                remediation: "Bind a role with the permissions actually needed; keep \
                    cluster-admin for a break-glass group with time-bound memberships.",
            },
            check_cluster_admin,
        ),
        RbacRule::bindings(
            Texts {
                id: "rbac-user-subject",
                severity: Severity::Medium,
                title: "Binding names an individual User instead of a Group",
                description: "Permissions bound to individuals outlive the reason they were \
                    given: people change teams and leave, and nobody revisits per-user \
                    bindings. Bound to groups (SRE, engineering, CI/CD, security), access \
                    follows group membership in the identity provider.",
                remediation: "Bind the role to a group of the identity provider and manage \
                    membership there.",
            },
            check_user_subject,
        ),
        RbacRule::bindings(
            Texts {
                id: "rbac-anonymous-access",
                severity: Severity::Critical,
                title: "Binding grants permissions to anonymous requests",
                description: "`system:anonymous` and `system:unauthenticated` are every \
                    request without credentials: anyone who can reach the API server.",
                remediation: "Remove the subject; grant the permission to an authenticated group.",
            },
            check_anonymous,
        ),
        RbacRule::bindings(
            Texts {
                id: "rbac-default-service-account-bound",
                severity: Severity::Medium,
                title: "Binding grants permissions to a namespace's `default` service account",
                description: "Every pod that names no service account runs as `default`, so a \
                    permission granted to it is granted to every such pod of the namespace.",
                remediation: "Create a dedicated ServiceAccount for the workload that needs \
                    the permission and bind that one.",
            },
            check_default_sa,
        ),
        RbacRule::bindings(
            Texts {
                id: "rbac-binding-missing-role",
                severity: Severity::Medium,
                title: "Binding refers to a role that does not exist",
                description: "A binding to a missing role grants nothing today, but whoever \
                    later creates a role of that name silently grants it to the subjects. \
                    A binding without a usable roleRef is rejected by the API server.",
                remediation:
                    "Create the role in the same input, fix the roleRef, or delete the binding.",
            },
            check_missing_role,
        ),
        RbacRule::bindings(
            Texts {
                id: "rbac-binding-missing-subject",
                severity: Severity::Low,
                title: "Binding names a service account that does not exist",
                description: "A binding to a missing ServiceAccount is dormant: whoever creates \
                    an account of that name later inherits its permissions. Subjects of an \
                    unknown kind grant nothing and hide a mistake.",
                remediation:
                    "Create the ServiceAccount, fix the subject, or remove it from the binding.",
            },
            check_missing_subject,
        ),
    ]
}

fn subject_path(index: usize) -> FieldPath {
    FieldPath::root().key("subjects").index(index)
}

/// The bound role's name, for messages.
fn role_name(b: &Binding) -> String {
    b.role_ref
        .as_ref()
        .map(|r| format!("{} {}", r.kind, r.name))
        .unwrap_or_else(|| "no role".into())
}

fn where_(b: &Binding) -> String {
    match b.scope() {
        Some(ns) => format!("in namespace {ns}"),
        None => "cluster-wide".into(),
    }
}

fn is_full_access(graph: &RbacGraph, b: &Binding) -> bool {
    let Some(role) = b.role else { return false };
    graph.roles[role].effective.iter().any(|r| {
        let rule = graph.rule(*r);
        [&rule.verbs, &rule.api_groups, &rule.resources]
            .iter()
            .all(|l| l.iter().any(|v| v == "*"))
            && rule.resource_names.is_empty()
    })
}

fn check_cluster_admin(
    _res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    let named = b
        .role_ref
        .as_ref()
        .is_some_and(|r| r.kind == "ClusterRole" && r.name == "cluster-admin");
    if !named && !is_full_access(&data.graph, b) {
        return;
    }
    let subjects: Vec<String> = b.subjects.iter().map(|s| s.subject.to_string()).collect();
    let what = if named {
        "cluster-admin".to_string()
    } else {
        format!(
            "{}, which allows every verb on every resource,",
            role_name(b)
        )
    };
    out.emit(
        &FieldPath::root().key("roleRef").key("name"),
        format!(
            "grants {what} {} to {}",
            where_(b),
            if subjects.is_empty() {
                "no subject yet".into()
            } else {
                subjects.join(", ")
            }
        ),
    );
}

/// Whether a user name is an individual (not a Kubernetes component or account).
fn is_person(name: &str) -> bool {
    !name.starts_with("system:")
}

fn check_user_subject(
    _res: &Resource,
    _ctx: &Context<'_>,
    _data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    for bs in &b.subjects {
        if let Who::User(name) = &bs.subject {
            if is_person(name) {
                out.emit(
                    &subject_path(bs.index),
                    format!(
                        "subjects[{}] is User `{name}`, bound to {} {}",
                        bs.index,
                        role_name(b),
                        where_(b)
                    ),
                );
            }
        }
    }
}

fn check_anonymous(
    _res: &Resource,
    _ctx: &Context<'_>,
    _data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    for bs in &b.subjects {
        let hit = match &bs.subject {
            Who::User(n) => n == ANONYMOUS,
            Who::Group(n) => n == UNAUTHENTICATED,
            Who::ServiceAccount { .. } => false,
        };
        if hit {
            out.emit(
                &subject_path(bs.index),
                format!(
                    "subjects[{}] `{}` grants {} {} to every unauthenticated request",
                    bs.index,
                    bs.subject.name(),
                    role_name(b),
                    where_(b)
                ),
            );
        }
    }
}

fn check_default_sa(
    _res: &Resource,
    _ctx: &Context<'_>,
    _data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    for bs in &b.subjects {
        if let Who::ServiceAccount { namespace, name } = &bs.subject {
            if name == "default" {
                out.emit(
                    &subject_path(bs.index),
                    format!(
                        "subjects[{}] is the `default` service account of namespace {namespace}: every pod there without its own account gets {} {}",
                        bs.index,
                        role_name(b),
                        where_(b)
                    ),
                );
            }
        }
    }
}

fn check_missing_role(
    res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    for p in data
        .graph
        .problems_of(res)
        .filter(|p| p.path.to_string().starts_with("roleRef"))
    {
        out.emit(&p.path, p.message.clone());
    }
    let Some(rr) = &b.role_ref else { return };
    if b.role.is_some() {
        return;
    }
    let path = FieldPath::root().key("roleRef").key("name");
    let message = match (rr.kind.as_str(), b.cluster) {
        ("Role", true) => format!(
            "a ClusterRoleBinding cannot refer to Role `{}` (roleRef.kind must be ClusterRole); it grants nothing",
            rr.name
        ),
        ("ClusterRole", _) => format!(
            "ClusterRole `{}` is neither in the input nor one of Kubernetes' built-in roles ({})",
            rr.name,
            builtin::DEFAULT_VERSION
        ),
        (_, _) => format!(
            "Role `{}` is neither in namespace {} of the input nor one of Kubernetes' built-in roles ({})",
            rr.name,
            b.namespace.as_deref().unwrap_or("?"),
            builtin::DEFAULT_VERSION
        ),
    };
    out.emit(&path, message);
}

fn check_missing_subject(
    res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    for p in data
        .graph
        .problems_of(res)
        .filter(|p| p.path.to_string().starts_with("subjects"))
    {
        out.emit(&p.path, p.message.clone());
    }
    let g = &data.graph;
    for bs in &b.subjects {
        let Who::ServiceAccount { namespace, name } = &bs.subject else {
            continue;
        };
        // every namespace has `default`, created by the controller, and
        // kube-system has the controllers' accounts (bootstrap policy)
        if name == "default"
            || g.is_system_account(namespace, name)
            || !g.knows_namespace(namespace)
        {
            continue;
        }
        if !g
            .service_accounts
            .contains_key(&(namespace.clone(), name.clone()))
        {
            out.emit(
                &subject_path(bs.index),
                format!(
                    "subjects[{}]: ServiceAccount {namespace}/{name} is not in the input, which describes namespace {namespace}",
                    bs.index
                ),
            );
        }
    }
}
