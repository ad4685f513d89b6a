//! Pod Security Standards (family `pss`), in parity with the built-in Pod
//! Security Admission controller at every policy version (v1.0 to latest).
//!
//! Each check of the standard is one rule (`pss-host-namespaces`,
//! `pss-seccomp-profile`, ...); [`checks::CHECKS`] lists them with their
//! revisions and the baseline checks restricted ones replace, following
//! `policy/check_*.go` of kubernetes/pod-security-admission. Pods and the
//! pod templates of every workload kind are checked as the pod they create.
//!
//! # Levels, versions and namespaces
//!
//! The profile (`pss-baseline`, `pss-restricted`, with
//! [`ProfileOptions::pss_version`](crate::ProfileOptions)) gives the
//! enforce level and version for pods whose namespace has no
//! `pod-security.kubernetes.io/*` labels. When the Namespace object is known
//! (in the scanned input, or in the cluster for the webhook and auditor),
//! its `enforce`, `warn` and `audit` labels and their `-version` labels
//! decide instead, and findings get the action of their mode. The `pss`
//! section of `palisade.yaml` ([`settings`]) sets the audit and warn
//! defaults and exemptions by username, runtimeClassName and namespace.
//!
//! # Messages and concerns
//!
//! A finding names the failed check in the built-in controller's words, with
//! the container and field: `violates PodSecurity "restricted:latest":
//! privileged (container "app" must not set securityContext.privileged=true)`.
//! Checks on fields the workload rules also read carry the same concern key
//! on the same path (`host-network`, `privileged`, `host-path-volume`, ...;
//! see [`crate::workload`]), so the user sees one finding.

pub mod checks;
pub mod level;
pub mod modes;
pub mod namespace_labels;
pub mod pod;
pub mod rule;
pub mod settings;
pub mod texts;

pub use level::{Level, LevelVersion, Version};
pub use settings::{PssProvider, PssSettings};

use palisade_core::{Rule, RuleInfo, Severity};
use std::sync::Arc;

/// Parses a `--pss-version` value (`v1.N` or `latest`); `None` leaves the
/// version to the config's `pss.defaults.enforce-version`, else latest.
pub fn parse_version(v: Option<&str>) -> Result<Option<Version>, String> {
    match v {
        None => Ok(None),
        Some(s) => Version::parse(s)
            .map(Some)
            .ok_or_else(|| format!("invalid Pod Security version `{s}` (expected v1.N or latest)")),
    }
}

/// Every rule of the family, enforcing `level` at `version` in namespaces
/// without labels (`None`: the config's `pss.defaults.enforce-version`, else
/// latest), and `pss-namespace-labels`.
pub fn rules(level: Level, version: Option<Version>) -> Vec<Arc<dyn Rule>> {
    checks::CHECKS
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (title, description, remediation) = texts::texts(c.id);
            let info = RuleInfo {
                id: c.rule_id.to_string(),
                severity: Severity::High,
                family: "pss".to_string(),
                title: title.to_string(),
                description: format!("{description} (upstream check `{c}`)", c = c.id),
                remediation: remediation.to_string(),
            };
            Arc::new(rule::PssRule::new(i, level, version, info)) as Arc<dyn Rule>
        })
        .chain(std::iter::once(
            Arc::new(namespace_labels::NamespaceLabels::default()) as Arc<dyn Rule>,
        ))
        .collect()
}
