//! `/proc` mount type: `procMount` (baseline, relaxed for user-namespace
//! pods from v1.35) and `procMount_restricted` (v1.35, never relaxed).

use super::Violation;
use crate::pss::pod::{ctr_label, Pod};

/// procMount v1.0: containers may only use the `Default` proc mount.
pub fn proc_mount_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        let Some(pm) = c.sc("procMount") else {
            continue;
        };
        if pm.as_str() == Some("Default") {
            continue;
        }
        let shown = pm
            .as_str()
            .map(|s| format!("{s:?}"))
            .unwrap_or_else(|| pm.to_string());
        out.push(Violation::new(
            pod.ctr_path(&c, &["securityContext", "procMount"]),
            format!(
                "{} must not set securityContext.procMount to {shown}",
                ctr_label(&c)
            ),
        ));
    }
}

/// procMount v1.35: any value is allowed for pods with `hostUsers: false`.
pub fn proc_mount_1_35(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if !pod.in_user_namespace() {
        proc_mount_1_0(pod, out);
    }
}

/// procMount_restricted v1.35: `Default` only, whatever `hostUsers` is.
pub fn restricted_1_35(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    proc_mount_1_0(pod, out);
}
