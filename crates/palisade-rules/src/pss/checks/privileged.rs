//! Privileged containers: `privileged` and `windowsHostProcess`.

use super::Violation;
use crate::pss::pod::{ctr_label, get, Pod};
use serde_json::Value;

/// privileged v1.0: no container may set `securityContext.privileged=true`.
pub fn privileged_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        if c.sc("privileged") == Some(&Value::Bool(true)) {
            out.push(
                Violation::new(
                    pod.ctr_path(&c, &["securityContext", "privileged"]),
                    format!(
                        "{} must not set securityContext.privileged=true",
                        ctr_label(&c)
                    ),
                )
                .concern("privileged"),
            );
        }
    }
}

/// windowsHostProcess v1.0: neither the pod nor a container may set
/// `securityContext.windowsOptions.hostProcess=true`.
pub fn windows_host_process_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    const KEYS: [&str; 3] = ["securityContext", "windowsOptions", "hostProcess"];
    if pod.get(&KEYS) == Some(&Value::Bool(true)) {
        out.push(Violation::new(
            pod.path(&KEYS),
            "pod must not set securityContext.windowsOptions.hostProcess=true".to_string(),
        ));
    }
    for c in pod.containers() {
        if get(c.value, &KEYS) == Some(&Value::Bool(true)) {
            out.push(Violation::new(
                pod.ctr_path(&c, &KEYS),
                format!(
                    "{} must not set securityContext.windowsOptions.hostProcess=true",
                    ctr_label(&c)
                ),
            ));
        }
    }
}
