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
pub mod registry;
pub mod seccomp;
pub mod selinux;
pub mod sysctls;
pub mod users;
pub mod volumes;

use super::level::{Level, MAX_MINOR};
use super::pod::Pod;
use palisade_core::FieldPath;
use std::sync::OnceLock;

pub use registry::CHECKS;

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
