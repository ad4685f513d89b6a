//! Authorization decay: `rbac-stale-subject` reports every binding subject
//! (User or Group) missing from the organisation's directory, with the role
//! it still grants. It runs only when a front door put a
//! [`palisade_rbac::Directory`] in the context (`--directory FILE`).
//!
//! Concerns: the rule ID. Kubernetes' own `system:` users and groups and
//! service accounts are not identities of the directory and are skipped.

use super::{RbacData, RbacRule, Subject, Texts};
use palisade_core::{Context, Emitter, FieldPath, Resource, Rule, Severity};
use palisade_rbac::{Directory, Subject as Who};
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![RbacRule::bindings(
        Texts {
            id: "rbac-stale-subject",
            severity: Severity::High,
            title: "Binding names a user or group that is no longer in the directory",
            description: "People leave and groups are retired, but their bindings stay: \
                years later an ex-employee still holds the role, and whoever gets that name \
                next (a re-used e-mail, a re-created group) inherits it.",
            remediation: "Delete the binding or remove the subject; bind roles to current \
                groups of the identity provider.",
        },
        check_stale,
    )]
}

fn check_stale(
    _res: &Resource,
    ctx: &Context<'_>,
    _data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    let Some(dir) = ctx.extensions.get::<Directory>() else {
        return;
    };
    let role = b
        .role_ref
        .as_ref()
        .map(|r| format!("{} {}", r.kind, r.name))
        .unwrap_or_else(|| "its role".into());
    let scope = match b.scope() {
        Some(ns) => format!("in namespace {ns}"),
        None => "cluster-wide".into(),
    };
    for bs in &b.subjects {
        let (kind, known) = match &bs.subject {
            Who::User(n) if !n.starts_with("system:") => ("User", dir.has_user(n)),
            Who::Group(g) if !g.starts_with("system:") => ("Group", dir.has_group(g)),
            _ => continue,
        };
        if !known {
            out.emit(
                &FieldPath::root().key("subjects").index(bs.index),
                format!(
                    "{kind} `{}` is not in the directory but still holds {role} {scope}",
                    bs.subject.name()
                ),
            );
        }
    }
}
