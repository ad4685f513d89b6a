//! `allowPrivilegeEscalation`: must be explicitly false (Windows pods exempt
//! from v1.25).

use super::Violation;
use crate::pss::pod::{ctr_label, Pod};
use serde_json::Value;

/// allowPrivilegeEscalation v1.8: every container sets it to false.
pub fn allow_privilege_escalation_1_8(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        if c.sc("allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
            out.push(
                Violation::new(
                    pod.ctr_path(&c, &["securityContext", "allowPrivilegeEscalation"]),
                    format!(
                        "{} must set securityContext.allowPrivilegeEscalation=false",
                        ctr_label(&c)
                    ),
                )
                .concern("privilege-escalation"),
            );
        }
    }
}

/// allowPrivilegeEscalation v1.25: as v1.8, Windows pods exempt.
pub fn allow_privilege_escalation_1_25(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if !pod.is_windows() {
        allow_privilege_escalation_1_8(pod, out);
    }
}
