//! `privileged-container`: containers with every capability and device of the node.
//!
//! Concern `privileged` on `<container>.securityContext.privileged`.

use super::builtin::{BuiltinRule, Texts};
use super::fields::{label, sc_field, Flag};
use palisade_core::workload::with_pod_spec;
use palisade_core::{Context, Emitter, Resource, Rule, Severity};
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![BuiltinRule::workload(
        Texts {
            id: "privileged-container",
            severity: Severity::Critical,
            title: "Container runs privileged",
            description: "A privileged container has every Linux capability, sees every device \
                of the node and runs without seccomp or AppArmor confinement: root in it is root \
                on the node, and escaping takes one command (mount the host disk, load a kernel \
                module).",
            remediation: "Remove `securityContext.privileged: true`; add only the specific \
                capabilities the process needs, or move node administration to a dedicated, \
                exempted agent.",
        },
        check,
    )]
}

fn check(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let flag = Flag::of(sc_field(c.value, "privileged"));
            if matches!(flag, Flag::False | Flag::Absent) {
                continue;
            }
            let path = c.path.key("securityContext").with_key("privileged");
            let message = match flag {
                Flag::True => format!("{} runs privileged ({path}: true)", label(c)),
                Flag::Invalid(d) => format!(
                    "{} has securityContext.privileged set to {d}, not a boolean ({path})",
                    label(c)
                ),
                Flag::False | Flag::Absent => continue,
            };
            out.emit(&path, message).concern = "privileged".into();
        }
    });
}
