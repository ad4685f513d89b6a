//! `rbac-workload-create`: a binding lets its subject create pods (or
//! objects that create pods) in a namespace whose service accounts hold
//! permissions the subject lacks; running a pod as such an account hands
//! over its token.
//!
//! Concerns: the rule ID.

use super::{RbacData, RbacRule, Subject, Texts};
use palisade_core::{Context, Emitter, FieldPath, Resource, Rule, Severity};
use palisade_rbac::WorkloadPath;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![RbacRule::bindings(
        Texts {
            id: "rbac-workload-create",
            severity: Severity::High,
            title: "Subject can create workloads that run as a stronger service account",
            description: "Whoever can create pods, deployments, jobs or other pod \
                controllers in a namespace can run them as any service account of that \
                namespace and read its token. When an account there holds more than the \
                creator, creating a workload is a privilege escalation.",
            remediation: "Move powerful service accounts to namespaces where only their \
                operators create workloads, reduce the accounts' permissions, or enforce \
                which serviceAccountName a creator may use with an admission policy.",
        },
        check,
    )]
}

fn check(
    _res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(_, bi) = s else { return };
    let g = &data.graph;
    let mut by_subject: BTreeMap<usize, Vec<&WorkloadPath>> = BTreeMap::new();
    for p in g.workload_paths(bi) {
        by_subject.entry(p.subject_index).or_default().push(p);
    }
    for (index, paths) in by_subject {
        let first = paths[0];
        let others = paths.len() - 1;
        let more_ns = if others > 0 {
            format!(
                " (and {others} more namespace{})",
                if others == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        let accounts = if first.stronger > 1 {
            format!("; {} accounts there are stronger", first.stronger)
        } else {
            String::new()
        };
        out.emit(
            &FieldPath::root().key("subjects").index(index),
            format!(
                "{} can create {} in namespace {}{more_ns} and run them as sa:{}/{}, which holds `{}` ({}) that {} lacks{accounts}",
                first.creator,
                first.creates,
                first.namespace,
                first.namespace,
                first.service_account,
                g.rule(first.witness),
                g.roles[first.witness.role].key,
                first.creator
            ),
        );
    }
}
