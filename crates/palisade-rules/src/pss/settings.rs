//! The `pss` section of `palisade.yaml`, shaped like the built-in
//! controller's `PodSecurityConfiguration`:
//!
//! ```yaml
//! pss:
//!   defaults:               # for namespaces without labels (the enforce level is the profile's)
//!     enforce-version: v1.30  # unless --pss-version is given
//!     audit: restricted
//!     audit-version: latest
//!     warn: restricted
//!     warn-version: v1.30
//!   exemptions:
//!     usernames: [system:serviceaccount:kube-system:replicaset-controller]
//!     runtimeClasses: [kata]
//!     namespaces: [kube-system]
//! ```

use super::level::{Level, LevelVersion, Version};
use palisade_core::{
    Config, ConfigError, ContextProvider, Extensions, FieldPath, Inventory, Scope,
};
use serde::Deserialize;

/// Defaults for namespaces without labels: the enforce version (the level
/// is the profile's) and the audit and warn levels and versions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeDefaults {
    /// Enforce version when `--pss-version` is not given; default latest.
    #[serde(rename = "enforce-version")]
    pub enforce_version: Option<String>,
    /// Audit level (`privileged`, `baseline`, `restricted`); default privileged.
    pub audit: Option<String>,
    /// Audit version (`v1.N` or `latest`); default latest.
    #[serde(rename = "audit-version")]
    pub audit_version: Option<String>,
    /// Warn level; default privileged.
    pub warn: Option<String>,
    /// Warn version; default latest.
    #[serde(rename = "warn-version")]
    pub warn_version: Option<String>,
}

/// Who and what is never evaluated, as in the built-in controller.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Exemptions {
    /// Requesting users (admission only: needs the request).
    #[serde(default)]
    pub usernames: Vec<String>,
    /// Pod `runtimeClassName`s.
    #[serde(default)]
    pub runtime_classes: Vec<String>,
    /// Namespaces.
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// The `pss` section as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PssSection {
    /// Audit and warn defaults.
    #[serde(default)]
    pub defaults: ModeDefaults,
    /// Exemptions.
    #[serde(default)]
    pub exemptions: Exemptions,
}

/// The validated settings the rules read (from the [`Extensions`]).
#[derive(Debug, Clone, Default)]
pub struct PssSettings {
    /// Enforce version when the profile gives none.
    pub enforce_version: Option<Version>,
    /// Audit mode for unlabelled namespaces (`None`: privileged).
    pub audit: Option<LevelVersion>,
    /// Warn mode for unlabelled namespaces (`None`: privileged).
    pub warn: Option<LevelVersion>,
    /// Exemptions.
    pub exemptions: Exemptions,
}

impl PssSettings {
    /// Reads and validates the `pss` section of `config`; errors name the
    /// file, line and key.
    pub fn from_config(config: &Config) -> Result<PssSettings, ConfigError> {
        let section: PssSection = config.section("pss")?.unwrap_or_default();
        let base = FieldPath::root().key("pss").key("defaults");
        let d = &section.defaults;
        let mode = |level: &Option<String>,
                    version: &Option<String>,
                    name: &str|
         -> Result<Option<LevelVersion>, ConfigError> {
            let level = match level {
                None => return Ok(None),
                Some(l) => Level::parse(l).ok_or_else(|| {
                    config.error_at(
                        &base.key(name),
                        format!("`{l}` is not a level (privileged, baseline, restricted)"),
                    )
                })?,
            };
            let vkey = format!("{name}-version");
            let version = match version {
                None => Version::Latest,
                Some(v) => Version::parse(v).ok_or_else(|| {
                    config.error_at(
                        &base.key(&vkey),
                        format!("`{v}` is not a version (v1.N or latest)"),
                    )
                })?,
            };
            Ok((level != Level::Privileged).then_some(LevelVersion { level, version }))
        };
        for (version, level, name) in [
            (&d.audit_version, &d.audit, "audit"),
            (&d.warn_version, &d.warn, "warn"),
        ] {
            if version.is_some() && level.is_none() {
                return Err(config.error_at(
                    &base.key(&format!("{name}-version")),
                    format!("needs `{name}` (the level)"),
                ));
            }
        }
        let enforce_version = match &d.enforce_version {
            None => None,
            Some(v) => Some(Version::parse(v).ok_or_else(|| {
                config.error_at(
                    &base.key("enforce-version"),
                    format!("`{v}` is not a version (v1.N or latest)"),
                )
            })?),
        };
        Ok(PssSettings {
            enforce_version,
            audit: mode(&d.audit, &d.audit_version, "audit")?,
            warn: mode(&d.warn, &d.warn_version, "warn")?,
            exemptions: section.exemptions,
        })
    }
}

/// Puts the [`PssSettings`] where the rules read them.
#[derive(Debug, Clone, Default)]
pub struct PssProvider {
    settings: PssSettings,
}

impl PssProvider {
    /// A provider of `settings`.
    pub fn new(settings: PssSettings) -> Self {
        PssProvider { settings }
    }
}

impl ContextProvider for PssProvider {
    fn reads(&self) -> Scope {
        Scope::none()
    }

    fn provide(&self, _inventory: &Inventory, ext: &mut Extensions) {
        ext.insert(self.settings.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_section_with_positions() {
        let c = Config::parse(
            "pss:\n  defaults:\n    warn: baseline\n    warn-version: v1.30\n  exemptions:\n    namespaces: [kube-system]\n",
            "p.yaml",
        )
        .unwrap();
        let s = PssSettings::from_config(&c).unwrap();
        assert_eq!(s.warn.unwrap().to_string(), "baseline:v1.30");
        assert!(s.audit.is_none());
        assert_eq!(s.exemptions.namespaces, ["kube-system"]);
        let c = Config::parse("pss:\n  defaults:\n    audit: strict\n", "p.yaml").unwrap();
        let e = PssSettings::from_config(&c).unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.pos.unwrap().line),
            ("pss.defaults.audit", 3)
        );
        let c = Config::parse("pss:\n  exemptions:\n    users: [a]\n", "p.yaml").unwrap();
        let e = PssSettings::from_config(&c).unwrap_err();
        assert_eq!(e.pos.unwrap().line, 3, "{e}");
        let c = Config::parse(
            "pss:\n  defaults:\n    warn: baseline\n    warn-version: '1.30'\n",
            "p.yaml",
        )
        .unwrap();
        assert_eq!(
            PssSettings::from_config(&c).unwrap_err().key,
            "pss.defaults.warn-version"
        );
        let c = Config::parse("pss:\n  defaults:\n    enforce-version: v2.0\n", "p.yaml").unwrap();
        let e = PssSettings::from_config(&c).unwrap_err();
        assert_eq!(e.key, "pss.defaults.enforce-version");
        let c = Config::parse("pss:\n  defaults:\n    enforce: baseline\n", "p.yaml").unwrap();
        let e = PssSettings::from_config(&c).unwrap_err();
        assert!(e.message.contains("unknown field `enforce`"), "{e}");
        assert_eq!(
            PssSettings::from_config(&Config::default())
                .unwrap()
                .enforce_version,
            None
        );
    }
}
