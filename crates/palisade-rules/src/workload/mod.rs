//! Pod and workload hardening rules (family `workload`).
//!
//! Every rule finds pod specs with [`palisade_core::workload`], so it covers
//! Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
//! ReplicationController and PodTemplate, and every container list
//! (containers, initContainers, ephemeralContainers); paths in findings are
//! the real paths, e.g. `spec.jobTemplate.spec.template.spec.volumes[0].hostPath`.
//! A field with the wrong type (a string where a boolean belongs) is reported
//! when it could mean the unsafe setting, and otherwise counts as not set.
//! A finding about a missing field carries the path of that field; its line
//! is that of the nearest ancestor present in the source.
//!
//! # Concern keys
//!
//! [`Finding::concern`](palisade_core::Finding::concern) identifies the
//! problem for de-duplication: findings of different rules with the same
//! concern on the same path are one problem. Checks that the Pod Security
//! Standards also make use these keys and paths (`<pod spec>` is the pod
//! spec path of the kind, `<container>` e.g. `<pod spec>.containers[0]`):
//!
//! | concern | path | rule |
//! |---|---|---|
//! | `host-network` | `<pod spec>.hostNetwork` | `host-network` |
//! | `host-pid` | `<pod spec>.hostPID` | `host-pid` |
//! | `host-ipc` | `<pod spec>.hostIPC` | `host-ipc` |
//! | `host-path-volume` | `<pod spec>.volumes[i].hostPath` | `host-path-volume` |
//! | `host-port` | `<container>.ports[j].hostPort` (non-zero) | `host-port` |
//! | `privileged` | `<container>.securityContext.privileged` | `privileged-container` |
//! | `capabilities-added` | `<container>.securityContext.capabilities.add` (one finding per container, for entries beyond the default set) | `capabilities-added` |
//! | `privilege-escalation` | `<container>.securityContext.allowPrivilegeEscalation` (not false, including missing) | `privilege-escalation` |
//! | `run-as-root` | `<container>.securityContext.runAsNonRoot` (container sets non-true), `<pod spec>.securityContext.runAsNonRoot` (containers inheriting a missing or non-true pod setting, one finding), `<container or pod spec>.securityContext.runAsUser` (set to 0) | `run-as-root` |
//! | `read-only-root-filesystem` | `<container>.securityContext.readOnlyRootFilesystem` | `writable-root-filesystem` |
//!
//! The other rules (`default-service-account`, `automount-service-account-token`,
//! `default-namespace`, `image-latest-tag`, `image-not-pinned`,
//! `secret-in-env`) use their rule ID as concern.

pub mod builtin;
pub mod capabilities;
pub mod credentials;
pub mod fields;
pub mod host_namespaces;
pub mod host_path;
pub mod host_port;
pub mod image_ref;
pub mod images;
pub mod namespace;
pub mod privileged;
pub mod run_as_root;
pub mod secret_env;
pub mod security_context;
pub mod service_account;

use palisade_core::Rule;
use std::sync::Arc;

/// Every rule of the family.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    [
        host_path::rules(),
        host_namespaces::rules(),
        host_port::rules(),
        privileged::rules(),
        capabilities::rules(),
        service_account::rules(),
        namespace::rules(),
        images::rules(),
        secret_env::rules(),
        security_context::rules(),
        run_as_root::rules(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::rules;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let rules = rules();
        let ids: HashSet<&str> = rules.iter().map(|r| r.info().id.as_str()).collect();
        let expected = [
            "host-path-volume",
            "host-network",
            "host-pid",
            "host-ipc",
            "host-port",
            "privileged-container",
            "capabilities-added",
            "default-service-account",
            "automount-service-account-token",
            "default-namespace",
            "image-latest-tag",
            "image-not-pinned",
            "secret-in-env",
            "writable-root-filesystem",
            "privilege-escalation",
            "run-as-root",
        ];
        assert_eq!(ids, HashSet::from(expected));
        let mut seen = HashSet::new();
        for r in &rules {
            let i = r.info();
            assert!(seen.insert(i.id.clone()), "duplicate {}", i.id);
            assert!(
                i.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                i.id
            );
            assert_eq!(i.family, "workload");
            assert!(
                !i.title.is_empty() && i.description.len() > 80 && !i.remediation.is_empty(),
                "{}",
                i.id
            );
            assert!(
                !i.description.contains("  "),
                "{}: stray spaces in description",
                i.id
            );
        }
    }
}
