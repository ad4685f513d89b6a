//! One Palisade rule per check of the standard.

use super::checks::{resolve, Violation, CHECKS};
use super::level::{Level, LevelVersion, Version};
use super::modes::{modes, Mode};
use super::pod::{Found, Pod};
use super::settings::PssSettings;
use crate::workload::fields::describe;
use palisade_core::context::Memoized;
use palisade_core::workload::POD_KINDS;
use palisade_core::Field;
use palisade_core::{Action, Context, Emitter, FieldPath, Resource, Rule, RuleInfo, Scope};
use serde_json::Value;
use std::collections::HashSet;

/// Up to this many violations, checking for repeats scans them.
const SCAN_UP_TO: usize = 32;

/// A check of the standard as a rule: evaluates the pod (or the pod a
/// template creates) in every mode that applies to its namespace.
pub struct PssRule {
    info: RuleInfo,
    index: usize,
    level: Level,
    version: Option<Version>,
}

impl PssRule {
    /// The rule of check number `index` in [`CHECKS`], with `level` at
    /// `version` (`None`: the config's, else latest) as the
    /// enforce level and version for namespaces without labels.
    pub fn new(index: usize, level: Level, version: Option<Version>, info: RuleInfo) -> Self {
        PssRule {
            info,
            index,
            level,
            version,
        }
    }

    /// The modes that evaluate `res` (its pod's `runtimeClassName` is
    /// `runtime_class`), computed once per object and shared by every check
    /// of the same level and version (the rules of one profile). The memo is
    /// per object, so the runtime class is the same for every check.
    fn modes<'c>(
        &self,
        res: &Resource,
        ctx: &Context<'c>,
        runtime_class: Option<&str>,
    ) -> Memoized<'c, Vec<Mode>> {
        let shared = ctx.memo(|| SharedModes {
            level: self.level,
            version: self.version,
            modes: self.compute_modes(res, ctx, runtime_class),
        });
        match shared {
            Memoized::Shared(m) if m.level == self.level && m.version == self.version => {
                Memoized::Shared(&m.modes)
            }
            // computed just now, for this level and version
            Memoized::Owned(m) => Memoized::Owned(m.modes),
            // the memo holds another profile's level or version
            Memoized::Shared(_) => Memoized::Owned(self.compute_modes(res, ctx, runtime_class)),
        }
    }

    fn compute_modes(
        &self,
        res: &Resource,
        ctx: &Context<'_>,
        runtime_class: Option<&str>,
    ) -> Vec<Mode> {
        static NONE: std::sync::OnceLock<PssSettings> = std::sync::OnceLock::new();
        let settings = ctx
            .extensions
            .get::<PssSettings>()
            .unwrap_or_else(|| NONE.get_or_init(PssSettings::default));
        let request_ns = ctx
            .request
            .and_then(|r| r.raw.field("namespace"))
            .and_then(Value::as_str);
        let namespace = res
            .id
            .namespace
            .as_deref()
            .or(request_ns)
            .filter(|n| !n.is_empty());
        let ex = &settings.exemptions;
        let exempt = namespace.is_some_and(|n| ex.namespaces.iter().any(|x| x == n))
            || runtime_class.is_some_and(|rc| ex.runtime_classes.iter().any(|x| x == rc))
            || ctx
                .request
                .is_some_and(|r| ex.usernames.contains(&r.username));
        if exempt {
            return Vec::new();
        }
        let labels = namespace.and_then(|n| ctx.namespace_labels(n));
        let default = LevelVersion {
            level: self.level,
            version: self
                .version
                .or(settings.enforce_version)
                .unwrap_or(Version::Latest),
        };
        modes(default, settings, labels)
    }
}

/// The modes of one object, with what they were computed for (the rules of
/// two profiles at different levels may run on the same object).
struct SharedModes {
    level: Level,
    version: Option<Version>,
    modes: Vec<Mode>,
}

impl Rule for PssRule {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn scope(&self) -> Scope {
        Scope::kinds(&POD_KINDS)
    }

    fn reads_inventory(&self) -> Scope {
        Scope::kinds(&["Namespace"]).metadata_only() // the pod-security labels
    }

    fn checks_pod_templates(&self) -> bool {
        true // reads the pod through `Pod::of`, from the context
    }

    fn check(&self, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
        let def = &CHECKS[self.index];
        let pod = match Pod::of(res, ctx) {
            Found::NotAWorkload => return,
            Found::Pod(pod) => pod,
            Found::Malformed(path, value) => {
                if def.id == "invalidFields" {
                    if let Some(mode) = self.compute_modes(res, ctx, None).first() {
                        let detail = format!(
                            "{path} must be a mapping (the pod spec), not {}",
                            describe(value)
                        );
                        emit(out, def.id, def.reason, mode, &Violation::new(path, detail));
                    }
                }
                return;
            }
        };
        let mut done: Vec<(Violation, Mode)> = Vec::new();
        // (path, detail) of `done`, once it is too long to scan (a pod with
        // thousands of containers must not cost quadratic time)
        let mut seen: HashSet<(FieldPath, String)> = HashSet::new();
        let mut found = Vec::new();
        let modes = self.modes(res, ctx, pod.runtime_class());
        for &mode in modes.iter() {
            let Some(check) = resolve(self.index, mode.lv.level, mode.lv.version.effective_minor())
            else {
                continue;
            };
            found.clear();
            check(&pod, &mut found);
            for v in found.drain(..) {
                let new = if done.len() < SCAN_UP_TO {
                    !done
                        .iter()
                        .any(|(d, _)| d.path == v.path && d.detail == v.detail)
                } else {
                    if seen.is_empty() {
                        seen.extend(done.iter().map(|(d, _)| (d.path.clone(), d.detail.clone())));
                    }
                    seen.insert((v.path.clone(), v.detail.clone()))
                };
                if new {
                    done.push((v, mode));
                }
            }
        }
        for (v, mode) in &done {
            emit(out, def.id, def.reason, mode, v);
        }
    }
}

fn emit(out: &mut Emitter<'_>, def_id: &str, reason: &str, mode: &Mode, v: &Violation) {
    // The built-in controller's wording: "violates" when enforced, "would
    // violate" for its warnings and audit annotations.
    let (verb, mode_name) = match mode.action {
        Some(Action::Warn) => ("would violate", " (warn)"),
        Some(Action::Audit) => ("would violate", " (audit)"),
        _ => ("violates", ""),
    };
    let message = format!(
        "{verb} PodSecurity \"{}\"{mode_name}: {reason} ({})",
        mode.lv, v.detail
    );
    let f = out.emit(&v.path, message);
    if let Some(a) = mode.action {
        f.action = a;
    }
    if let Some(c) = v.concern.or_else(|| family_concern(def_id)) {
        f.concern = c.into();
    }
}

/// The concern of checks whose baseline and restricted variants (and the
/// invalid-field check) report the same field, so a field gets one finding.
fn family_concern(check_id: &str) -> Option<&'static str> {
    match check_id {
        "seccompProfile_baseline" | "seccompProfile_restricted" => Some("seccomp-profile"),
        "procMount" | "procMount_restricted" => Some("proc-mount"),
        "appArmorProfile" => Some("apparmor-profile"),
        _ => None,
    }
}
