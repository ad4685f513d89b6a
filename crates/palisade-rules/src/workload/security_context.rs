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
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let flag = Flag::of(sc_field(c.value, "readOnlyRootFilesystem"));
            if flag.is_true() {
                continue;
            }
            let path = c
                .path
                .key("securityContext")
                .with_key("readOnlyRootFilesystem");
            let message = match flag {
                Flag::True => continue,
                Flag::False => format!("{} sets {path}: false", label(c)),
                Flag::Absent => format!("{} does not set {path}: true", label(c)),
                Flag::Invalid(d) => format!("{} has {path} set to {d}, not true", label(c)),
            };
            out.emit(&path, message).concern = "read-only-root-filesystem".into();
        }
    });
}

fn check_escalation(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let flag = Flag::of(sc_field(c.value, "allowPrivilegeEscalation"));
            if flag.is_false() {
                continue;
            }
            let path = c
                .path
                .key("securityContext")
                .with_key("allowPrivilegeEscalation");
            let message = match flag {
                Flag::False => continue,
                Flag::True => format!("{} sets {path}: true", label(c)),
                Flag::Absent => format!("{} does not set {path}: false", label(c)),
                Flag::Invalid(d) => format!("{} has {path} set to {d}, not false", label(c)),
            };
            out.emit(&path, message).concern = "privilege-escalation".into();
        }
    });
}
