//! `run-as-root`: containers that may run as UID 0.
//!
//! A container is reported when neither it nor the pod sets
//! `runAsNonRoot: true` (the container's setting wins over the pod's), and
//! wherever `runAsUser: 0` is set.
//!
//! Concern `run-as-root` on these paths:
//! - `<container>.securityContext.runAsNonRoot` when the container sets it to
//!   something other than true;
//! - `<pod spec>.securityContext.runAsNonRoot` once for all containers that
//!   inherit a missing or non-true pod setting (the message names them);
//! - `<container>.securityContext.runAsUser` and
//!   `<pod spec>.securityContext.runAsUser` when set to 0.

use super::builtin::{BuiltinRule, Texts};
use super::fields::{is_zero, label, sc_field, Flag};
use palisade_core::workload::with_pod_spec;
use palisade_core::{Context, Emitter, Resource, Rule, Severity};
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![BuiltinRule::workload(
        Texts {
            id: "run-as-root",
            severity: Severity::Medium,
            title: "Container may run as root (runAsNonRoot not true, or runAsUser 0)",
            description: "Root in a container is root on the node's kernel with only namespaces \
                and capabilities in between: kernel or runtime bugs, a hostPath, or a \
                misconfiguration turn it into root on the node. `runAsNonRoot: true` makes the \
                kubelet refuse to start an image whose user is root.",
            remediation: "Set `securityContext.runAsNonRoot: true` at pod level (or on every \
                container), build the image with a non-root USER, and never set \
                `runAsUser: 0`.",
        },
        check,
    )]
}

fn check(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        let pod_sc = pod.field("securityContext");
        if is_zero(sc_field(pod.spec, "runAsUser")) {
            let path = pod_sc.key("runAsUser");
            out.emit(
                &path,
                format!("pod runs its containers as UID 0 ({path}: 0)"),
            )
            .concern = "run-as-root".into();
        }
        let pod_flag = Flag::of(sc_field(pod.spec, "runAsNonRoot"));
        let mut inheriting = Vec::new();
        for c in pod.containers() {
            let sc = c.path.key("securityContext");
            if is_zero(sc_field(c.value, "runAsUser")) {
                let path = sc.key("runAsUser");
                out.emit(&path, format!("{} runs as UID 0 ({path}: 0)", label(c)))
                    .concern = "run-as-root".into();
            }
            let path = sc.key("runAsNonRoot");
            let message = match Flag::of(sc_field(c.value, "runAsNonRoot")) {
                Flag::True => continue,
                Flag::Absent if pod_flag.is_true() => continue,
                Flag::Absent => {
                    inheriting.push(label(c));
                    continue;
                }
                Flag::False => format!("{} sets {path}: false", label(c)),
                Flag::Invalid(d) => format!("{} has {path} set to {d}, not true", label(c)),
            };
            out.emit(&path, message).concern = "run-as-root".into();
        }
        if inheriting.is_empty() {
            return;
        }
        let path = pod_sc.key("runAsNonRoot");
        let pod_says = match &pod_flag {
            Flag::False => format!("the pod sets {path}: false"),
            Flag::Invalid(d) => format!("the pod's {path} is {d}"),
            _ => format!("neither they nor the pod set {path}: true"),
        };
        let message = format!("{} may run as root: {pod_says}", inheriting.join(", "));
        out.emit(&path, message).concern = "run-as-root".into();
    });
}
