//! Users: `runAsNonRoot` and `runAsUser` (both skipped for user-namespace
//! pods from v1.35).

use super::Violation;
use crate::pss::pod::{ctr_label, join_quote, Pod};
use serde_json::Value;

/// runAsNonRoot v1.0: `runAsNonRoot: true` on the pod or on every container,
/// and never `false`.
pub fn run_as_non_root_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    let pod_value = pod.sc("runAsNonRoot");
    if pod_value == Some(&Value::Bool(false)) {
        out.push(
            Violation::new(
                pod.path(&["securityContext", "runAsNonRoot"]),
                "pod must not set securityContext.runAsNonRoot=false".to_string(),
            )
            .concern("run-as-root"),
        );
    }
    let pod_true = pod_value == Some(&Value::Bool(true));
    let mut implicit = Vec::new();
    for c in pod.containers() {
        match c.sc("runAsNonRoot") {
            Some(Value::Bool(true)) => {}
            None if pod_true => {}
            None => implicit.push(c.name),
            Some(other) => {
                let detail = if *other == Value::Bool(false) {
                    format!(
                        "{} must not set securityContext.runAsNonRoot=false",
                        ctr_label(&c)
                    )
                } else {
                    format!(
                        "{} must set securityContext.runAsNonRoot=true (it is {other})",
                        ctr_label(&c)
                    )
                };
                let path = pod.ctr_path(&c, &["securityContext", "runAsNonRoot"]);
                out.push(Violation::new(path, detail).concern("run-as-root"));
            }
        }
    }
    if !implicit.is_empty() {
        let noun = if implicit.len() == 1 {
            "container"
        } else {
            "containers"
        };
        out.push(
            Violation::new(
                pod.path(&["securityContext", "runAsNonRoot"]),
                format!(
                    "pod or {noun} {} must set securityContext.runAsNonRoot=true",
                    join_quote(&implicit)
                ),
            )
            .concern("run-as-root"),
        );
    }
}

/// runAsNonRoot v1.35: as v1.0, skipped for pods with `hostUsers: false`.
pub fn run_as_non_root_1_35(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if !pod.in_user_namespace() {
        run_as_non_root_1_0(pod, out);
    }
}

fn is_zero(v: Option<&Value>) -> bool {
    v.and_then(Value::as_f64) == Some(0.0)
}

/// runAsUser v1.23: neither the pod nor a container may set `runAsUser: 0`.
pub fn run_as_user_1_23(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if is_zero(pod.sc("runAsUser")) {
        out.push(
            Violation::new(
                pod.path(&["securityContext", "runAsUser"]),
                "pod must not set runAsUser=0".to_string(),
            )
            .concern("run-as-root"),
        );
    }
    for c in pod.containers() {
        if is_zero(c.sc("runAsUser")) {
            out.push(
                Violation::new(
                    pod.ctr_path(&c, &["securityContext", "runAsUser"]),
                    format!("{} must not set runAsUser=0", ctr_label(&c)),
                )
                .concern("run-as-root"),
            );
        }
    }
}

/// runAsUser v1.35: as v1.23, skipped for pods with `hostUsers: false`.
pub fn run_as_user_1_35(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if !pod.in_user_namespace() {
        run_as_user_1_23(pod, out);
    }
}
