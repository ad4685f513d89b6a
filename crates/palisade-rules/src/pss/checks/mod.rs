//! The checks of the Pod Security Standards with their version history, as
//! the built-in controller registers them (`policy/check_*.go` of
//! kubernetes/pod-security-admission): each check has a level, one function
//! per policy version that changed it, and, for restricted checks, the
//! baseline checks it replaces.

pub mod apparmor;
pub mod capabilities;
pub mod escalation;
pub mod host;
pub mod malformed;
pub mod privileged;
pub mod proc_mount;
pub mod seccomp;
pub mod selinux;
pub mod sysctls;
pub mod users;
pub mod volumes;

use super::level::{Level, MAX_MINOR};
use super::pod::Pod;
use palisade_core::FieldPath;
use std::sync::OnceLock;

/// One offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field's path in the resource.
    pub path: FieldPath,
    /// What is wrong, in the built-in controller's words.
    pub detail: String,
    /// The concern shared with the workload rules, when there is one.
    pub concern: Option<&'static str>,
}

impl Violation {
    /// A violation at `path`.
    pub fn new(path: FieldPath, detail: String) -> Self {
        Violation {
            path,
            detail,
            concern: None,
        }
    }

    /// Sets the concern key.
    pub fn concern(mut self, c: &'static str) -> Self {
        self.concern = Some(c);
        self
    }
}

/// A check function: reports the violations of one pod.
pub type CheckFn = fn(&Pod<'_>, &mut Vec<Violation>);

/// One revision of a check.
pub struct Versioned {
    /// The first policy minor version (`1.N`) it applies to.
    pub since: u32,
    /// The check.
    pub check: CheckFn,
    /// Baseline check IDs this restricted revision replaces.
    pub overrides: &'static [&'static str],
}

const fn at(since: u32, check: CheckFn) -> Versioned {
    Versioned {
        since,
        check,
        overrides: &[],
    }
}

const fn replacing(since: u32, check: CheckFn, overrides: &'static [&'static str]) -> Versioned {
    Versioned {
        since,
        check,
        overrides,
    }
}

/// A check of the standard.
pub struct CheckDef {
    /// The upstream check ID, e.g. `hostNamespaces`.
    pub id: &'static str,
    /// Palisade's rule ID, e.g. `pss-host-namespaces`.
    pub rule_id: &'static str,
    /// The lowest level that runs it.
    pub level: Level,
    /// The built-in controller's forbidden reason, e.g. `host namespaces`.
    pub reason: &'static str,
    /// Revisions, oldest first.
    pub versions: &'static [Versioned],
}

/// Every check, in the built-in controller's registration order.
pub static CHECKS: &[CheckDef] = &[
    def(
        "hostNamespaces",
        "pss-host-namespaces",
        Level::Baseline,
        "host namespaces",
        &[at(0, host::host_namespaces_1_0)],
    ),
    def(
        "privileged",
        "pss-privileged",
        Level::Baseline,
        "privileged",
        &[at(0, privileged::privileged_1_0)],
    ),
    def(
        "capabilities_baseline",
        "pss-capabilities",
        Level::Baseline,
        "non-default capabilities",
        &[at(0, capabilities::baseline_1_0)],
    ),
    def(
        "hostPathVolumes",
        "pss-host-path-volumes",
        Level::Baseline,
        "hostPath volumes",
        &[at(0, host::host_path_volumes_1_0)],
    ),
    def(
        "hostPorts",
        "pss-host-ports",
        Level::Baseline,
        "hostPort",
        &[at(0, host::host_ports_1_0)],
    ),
    def(
        "appArmorProfile",
        "pss-apparmor-profile",
        Level::Baseline,
        "forbidden AppArmor profile",
        &[at(0, apparmor::app_armor_1_0)],
    ),
    def(
        "seLinuxOptions",
        "pss-selinux-options",
        Level::Baseline,
        "seLinuxOptions",
        &[at(0, selinux::se_linux_1_0), at(31, selinux::se_linux_1_31)],
    ),
    def(
        "procMount",
        "pss-proc-mount",
        Level::Baseline,
        "procMount",
        &[
            at(0, proc_mount::proc_mount_1_0),
            at(35, proc_mount::proc_mount_1_35),
        ],
    ),
    def(
        "seccompProfile_baseline",
        "pss-seccomp-profile",
        Level::Baseline,
        "seccompProfile",
        &[at(0, seccomp::baseline_1_0), at(19, seccomp::baseline_1_19)],
    ),
    def(
        "sysctls",
        "pss-sysctls",
        Level::Baseline,
        "forbidden sysctls",
        &[
            at(0, sysctls::sysctls_1_0),
            at(27, sysctls::sysctls_1_27),
            at(29, sysctls::sysctls_1_29),
            at(32, sysctls::sysctls_1_32),
            at(37, sysctls::sysctls_1_37),
        ],
    ),
    def(
        "windowsHostProcess",
        "pss-windows-host-process",
        Level::Baseline,
        "hostProcess",
        &[at(0, privileged::windows_host_process_1_0)],
    ),
    def(
        "hostProbesAndHostLifecycle",
        "pss-host-probes-lifecycle",
        Level::Baseline,
        "probe or lifecycle host",
        &[at(34, host::host_probes_1_34)],
    ),
    def(
        "invalidFields",
        "pss-invalid-field",
        Level::Baseline,
        "invalid field",
        &[at(0, malformed::invalid_fields_1_0)],
    ),
    def(
        "restrictedVolumes",
        "pss-restricted-volumes",
        Level::Restricted,
        "restricted volume types",
        &[replacing(
            0,
            volumes::restricted_volumes_1_0,
            &["hostPathVolumes"],
        )],
    ),
    def(
        "allowPrivilegeEscalation",
        "pss-allow-privilege-escalation",
        Level::Restricted,
        "allowPrivilegeEscalation != false",
        &[
            at(8, escalation::allow_privilege_escalation_1_8),
            at(25, escalation::allow_privilege_escalation_1_25),
        ],
    ),
    def(
        "runAsNonRoot",
        "pss-run-as-non-root",
        Level::Restricted,
        "runAsNonRoot != true",
        &[
            at(0, users::run_as_non_root_1_0),
            at(35, users::run_as_non_root_1_35),
        ],
    ),
    def(
        "runAsUser",
        "pss-run-as-user",
        Level::Restricted,
        "runAsUser=0",
        &[
            at(23, users::run_as_user_1_23),
            at(35, users::run_as_user_1_35),
        ],
    ),
    def(
        "seccompProfile_restricted",
        "pss-seccomp-profile-restricted",
        Level::Restricted,
        "seccompProfile",
        &[
            replacing(19, seccomp::restricted_1_19, &["seccompProfile_baseline"]),
            replacing(25, seccomp::restricted_1_25, &["seccompProfile_baseline"]),
        ],
    ),
    def(
        "capabilities_restricted",
        "pss-capabilities-restricted",
        Level::Restricted,
        "unrestricted capabilities",
        &[
            replacing(
                22,
                capabilities::restricted_1_22,
                &["capabilities_baseline"],
            ),
            replacing(
                25,
                capabilities::restricted_1_25,
                &["capabilities_baseline"],
            ),
        ],
    ),
    def(
        "procMount_restricted",
        "pss-proc-mount-restricted",
        Level::Restricted,
        "procMount",
        &[replacing(35, proc_mount::restricted_1_35, &["procMount"])],
    ),
];

const fn def(
    id: &'static str,
    rule_id: &'static str,
    level: Level,
    reason: &'static str,
    versions: &'static [Versioned],
) -> CheckDef {
    CheckDef {
        id,
        rule_id,
        level,
        reason,
        versions,
    }
}

impl CheckDef {
    /// The revision in force at policy minor version `minor`, if any.
    pub fn revision(&self, minor: u32) -> Option<&Versioned> {
        self.versions.iter().rev().find(|v| v.since <= minor)
    }
}

/// For each level (baseline, restricted) and minor version, the function of
/// every check (by index in [`CHECKS`]) that runs there.
type Table = [Vec<Vec<Option<CheckFn>>>; 2];

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| [build(Level::Baseline), build(Level::Restricted)])
}

fn build(level: Level) -> Vec<Vec<Option<CheckFn>>> {
    (0..=MAX_MINOR)
        .map(|minor| {
            let overridden: Vec<&str> = CHECKS
                .iter()
                .filter(|c| c.level == Level::Restricted && level == Level::Restricted)
                .filter_map(|c| c.revision(minor))
                .flat_map(|v| v.overrides.iter().copied())
                .collect();
            CHECKS
                .iter()
                .map(|c| {
                    if c.level > level || overridden.contains(&c.id) {
                        return None;
                    }
                    c.revision(minor).map(|v| v.check)
                })
                .collect()
        })
        .collect()
}

/// The function check number `index` runs at `level` and policy minor
/// version `minor` (clamped to the newest), or `None` when it does not run.
pub fn resolve(index: usize, level: Level, minor: u32) -> Option<CheckFn> {
    let l = match level {
        Level::Privileged => return None,
        Level::Baseline => 0,
        Level::Restricted => 1,
    };
    let row = table()[l].get(minor.min(MAX_MINOR) as usize)?;
    row.get(index).copied().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(id: &str, level: Level, minor: u32) -> bool {
        let i = CHECKS.iter().position(|c| c.id == id).unwrap();
        resolve(i, level, minor).is_some()
    }

    #[test]
    fn restricted_overrides_baseline_only_where_it_applies() {
        assert!(runs("seccompProfile_baseline", Level::Restricted, 18));
        assert!(!runs("seccompProfile_baseline", Level::Restricted, 19));
        assert!(runs("seccompProfile_baseline", Level::Baseline, 37));
        assert!(runs("capabilities_baseline", Level::Restricted, 21));
        assert!(!runs("capabilities_baseline", Level::Restricted, 22));
        assert!(!runs("hostPathVolumes", Level::Restricted, 0));
        assert!(runs("procMount", Level::Restricted, 34));
        assert!(!runs("procMount", Level::Restricted, 35));
        assert!(!runs("runAsUser", Level::Restricted, 22));
        assert!(!runs("runAsNonRoot", Level::Baseline, 37));
        assert!(!runs("hostProbesAndHostLifecycle", Level::Baseline, 33));
        assert!(runs("hostProbesAndHostLifecycle", Level::Baseline, 99));
        assert!(!runs("privileged", Level::Privileged, 37));
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = CHECKS.iter().map(|c| c.rule_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
    }
}
