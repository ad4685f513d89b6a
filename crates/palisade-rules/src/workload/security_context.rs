//! `writable-root-filesystem` and `privilege-escalation`: container
//! `securityContext` hardening.
//!
//! Concerns: `read-only-root-filesystem` on
//! `<container>.securityContext.readOnlyRootFilesystem`, and
//! `privilege-escalation` on `<container>.securityContext.allowPrivilegeEscalation`.
//! A finding about a missing field has the path of that field (its line is
//! the nearest ancestor present in the source).

use super::builtin::{BuiltinRule, Texts};
use super::fields::{label, sc_field, Flag};
use palisade_core::workload::with_pod_spec;
use palisade_core::{Context, Emitter, Resource, Rule, Severity};
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        BuiltinRule::workload(
            Texts {
                id: "writable-root-filesystem",
                severity: Severity::Low,
                title: "Container root filesystem is writable",
                description: "A writable root filesystem lets an attacker drop tools, modify \
                    binaries and persist in the container. Immutable containers make tampering \
                    visible and attacks harder; state belongs in volumes.",
                remediation: "Set `securityContext.readOnlyRootFilesystem: true` on the \
                    container and mount an emptyDir where the process needs to write \
                    (e.g. /tmp).",
            },
            check_read_only,
        ),
        BuiltinRule::workload(
            Texts {
                id: "privilege-escalation",
                severity: Severity::Medium,
                title: "Container allows privilege escalation",
                description: "Unless allowPrivilegeEscalation is false, a process can gain more \
                    privileges than its parent (setuid binaries, file capabilities), turning a \
                    foothold as a normal user into root in the container, one step from the node.",
                remediation: "Set `securityContext.allowPrivilegeEscalation: false` on every \
                    container.",
            },
            check_escalation,
        ),
    ]
}

fn check_read_only(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    check_flag(
        res,
        ctx,
        out,
        "readOnlyRootFilesystem",
        true,
        "read-only-root-filesystem",
    );
}

fn check_escalation(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    check_flag(
        res,
        ctx,
        out,
        "allowPrivilegeEscalation",
        false,
        "privilege-escalation",
    );
}

/// Reports every container whose `securityContext.<field>` is not `wanted`
/// (set to the other value, absent, or not a boolean).
fn check_flag(
    res: &Resource,
    ctx: &Context<'_>,
    out: &mut Emitter<'_>,
    field: &str,
    wanted: bool,
    concern: &str,
) {
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let flag = Flag::of(sc_field(c.value, field));
            if flag == if wanted { Flag::True } else { Flag::False } {
                continue;
            }
            let path = c.path.key("securityContext").with_key(field);
            let who = label(c);
            let message = match flag {
                Flag::Absent => format!("{who} does not set {path}: {wanted}"),
                Flag::Invalid(d) => format!("{who} has {path} set to {d}, not {wanted}"),
                _ => format!("{who} sets {path}: {}", !wanted),
            };
            out.emit(&path, message).concern = concern.into();
        }
    });
}
