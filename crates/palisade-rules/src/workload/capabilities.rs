//! `capabilities-added`: Linux capabilities beyond the container runtime's
//! default set.
//!
//! Concern `capabilities-added` on `<container>.securityContext.capabilities.add`.

use super::builtin::{BuiltinRule, Texts};
use super::fields::{describe, label, security_context};
use palisade_core::workload::with_pod_spec;
use palisade_core::Field;
use palisade_core::{Context, Emitter, Resource, Rule, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The capabilities containerd and CRI-O grant by default (and that the
/// Pod Security Standards baseline level allows adding).
pub const DEFAULT_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![BuiltinRule::workload(
        Texts {
            id: "capabilities-added",
            severity: Severity::High,
            title: "Container adds Linux capabilities beyond the runtime's default set",
            description: "Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE or \
                DAC_READ_SEARCH give root in the container powers over the node's kernel: \
                SYS_ADMIN alone is close to privileged and enables well-known escapes. The \
                default set (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, \
                NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT) is what the \
                container runtime grants anyway.",
            remediation: "Remove the extra entries from `securityContext.capabilities.add`; \
                better, drop ALL and add back only NET_BIND_SERVICE if the process binds a port \
                below 1024.",
        },
        check,
    )]
}

/// Whether `cap` (any case, with or without `CAP_`) is in the default set.
pub fn is_default(cap: &str) -> bool {
    let upper = cap.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    DEFAULT_CAPABILITIES.contains(&bare)
}

fn check(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let Some(caps) = security_context(c.value).and_then(|s| s.field("capabilities")) else {
                continue;
            };
            let path = c.path.key("securityContext").key("capabilities").key("add");
            let message = match caps.field("add") {
                None | Some(Value::Null) => continue,
                Some(Value::Array(items)) => {
                    let extra: Vec<String> = items
                        .iter()
                        .filter_map(|item| match item {
                            Value::String(s) if is_default(s) => None,
                            Value::String(s) => Some(s.clone()),
                            other => Some(describe(other)),
                        })
                        .collect();
                    if extra.is_empty() {
                        continue;
                    }
                    format!(
                        "{} adds {} beyond the default set ({path})",
                        label(c),
                        extra.join(", ")
                    )
                }
                Some(other) => format!(
                    "{} has capabilities.add set to {}, not a list ({path})",
                    label(c),
                    describe(other)
                ),
            };
            out.emit(&path, message).concern = "capabilities-added".into();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::is_default;

    #[test]
    fn default_set_matches_any_case_and_prefix() {
        assert!(is_default("CHOWN"));
        assert!(is_default("net_bind_service"));
        assert!(is_default("CAP_KILL"));
        assert!(!is_default("SYS_ADMIN"));
        assert!(!is_default("ALL"));
        assert!(!is_default("CAP_NET_RAW"));
        assert!(!is_default(""));
    }
}
