//! `default-namespace`: objects placed in the `default` namespace.
//!
//! Concern: the rule ID.

use super::builtin::{BuiltinRule, Texts};
use palisade_core::{Context, Emitter, FieldPath, Resource, Rule, Scope, Severity};
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![BuiltinRule::scoped(
        Texts {
            id: "default-namespace",
            severity: Severity::Low,
            title: "Object is in the `default` namespace",
            description: "The `default` namespace collects whatever is deployed without a \
                thought: its service accounts, RBAC bindings, quotas and network policies are \
                shared by unrelated workloads, so one compromised workload reaches the others \
                and least-privilege policies are hard to write.",
            remediation: "Deploy the workload into a namespace of its own (or of its team) \
                with its own RBAC, quotas and a default-deny NetworkPolicy.",
        },
        check,
        Scope::all().metadata_only(),
        Scope::none(),
    )]
}

fn check(res: &Resource, _ctx: &Context<'_>, out: &mut Emitter<'_>) {
    if res.id.namespace.as_deref() == Some("default") {
        let path = FieldPath::root().key("metadata").key("namespace");
        out.emit(
            &path,
            format!(
                "{} {} is in the `default` namespace",
                res.id.kind, res.id.name
            ),
        );
    }
}
