//! Which level and version apply to a pod in each mode (enforce, warn,
//! audit): the namespace's `pod-security.kubernetes.io/*` labels when its
//! Namespace object is known, else the defaults, as the built-in controller
//! decides (an invalid level label fails closed to restricted, an invalid
//! version label means latest, a level without a version means latest).

use super::level::{Level, LevelVersion, Version};
use super::settings::PssSettings;
use palisade_core::Action;
use serde_json::Value;

/// One mode's level and version, and the action its findings get (`None`:
/// the action configured for the rule, used for the profile's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// Level and version.
    pub lv: LevelVersion,
    /// Action of its findings.
    pub action: Option<Action>,
}

const PREFIX: &str = "pod-security.kubernetes.io/";

/// The modes that evaluate a pod, strongest action first; privileged modes
/// are left out.
pub fn modes(default: LevelVersion, settings: &PssSettings, labels: Option<&Value>) -> Vec<Mode> {
    let privileged = LevelVersion {
        level: Level::Privileged,
        version: Version::Latest,
    };
    let mut out = Vec::with_capacity(3);
    let defaults = [
        ("enforce", default, None, Action::Enforce),
        (
            "warn",
            settings.warn.unwrap_or(privileged),
            Some(Action::Warn),
            Action::Warn,
        ),
        (
            "audit",
            settings.audit.unwrap_or(privileged),
            Some(Action::Audit),
            Action::Audit,
        ),
    ];
    let labels = labels.and_then(Value::as_object).filter(|m| !m.is_empty());
    for (mode, mut lv, mut action, labelled) in defaults {
        if let Some(labels) = labels {
            let text = |suffix: &str| {
                labels
                    .get(&format!("{PREFIX}{mode}{suffix}"))
                    .map(|v| v.as_str().unwrap_or(""))
            };
            let mut has_level = false;
            if let Some(l) = text("") {
                action = Some(labelled);
                match Level::parse(l) {
                    Some(level) => {
                        lv.level = level;
                        has_level = true;
                    }
                    None => lv.level = Level::Restricted,
                }
            }
            match text("-version") {
                Some(v) => {
                    lv.version = Version::parse(v).unwrap_or(Version::Latest);
                    action = Some(labelled);
                }
                None if has_level => lv.version = Version::Latest,
                None => {}
            }
        }
        if lv.level != Level::Privileged {
            out.push(Mode { lv, action });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lv(level: Level, version: Version) -> LevelVersion {
        LevelVersion { level, version }
    }

    #[test]
    fn labels_decide_as_the_built_in_controller() {
        let d = lv(Level::Restricted, Version::Minor(30));
        let s = PssSettings::default();
        assert_eq!(
            modes(d, &s, None),
            [Mode {
                lv: d,
                action: None
            }]
        );
        let l = json!({"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "v1.25"});
        let m = modes(d, &s, Some(&l));
        assert_eq!(
            m[0],
            Mode {
                lv: lv(Level::Baseline, Version::Latest),
                action: Some(Action::Enforce)
            }
        );
        assert_eq!(
            m[1],
            Mode {
                lv: lv(Level::Restricted, Version::Minor(25)),
                action: Some(Action::Warn)
            }
        );
        assert_eq!(m.len(), 2);
        let l = json!({"pod-security.kubernetes.io/enforce": "privileged"});
        assert!(modes(d, &s, Some(&l)).is_empty());
        let l = json!({"pod-security.kubernetes.io/enforce": "strict", "pod-security.kubernetes.io/enforce-version": "1.2"});
        assert_eq!(
            modes(d, &s, Some(&l))[0].lv,
            lv(Level::Restricted, Version::Latest)
        );
        let l = json!({"pod-security.kubernetes.io/enforce-version": "v1.22"});
        assert_eq!(
            modes(d, &s, Some(&l))[0].lv,
            lv(Level::Restricted, Version::Minor(22))
        );
        let l = json!({"team": "a"});
        assert_eq!(
            modes(d, &s, Some(&l)),
            [Mode {
                lv: d,
                action: None
            }]
        );
    }
}
