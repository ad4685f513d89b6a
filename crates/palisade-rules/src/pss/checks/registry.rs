//! The registration table: every check with its level, forbidden reason
//! and revisions, as `policy/check_*.go` registers them upstream.

use super::{
    apparmor, capabilities, escalation, host, malformed, privileged, proc_mount, seccomp, selinux,
    sysctls, users, volumes, CheckDef, CheckFn, Versioned,
};
use crate::pss::level::Level;

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
