//! Profiles: named sets of rules with parameters.
//!
//! `default` runs every built-in family; the Pod Security profiles run only
//! the Pod Security Standards checks at a level and version.

use palisade_core::{Config, ConfigError, ContextProvider, Rule};
use std::sync::Arc;

/// Parameters of a profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileOptions {
    /// Pod Security Standards version (`v1.N` or `latest`); `None` is latest.
    pub pss_version: Option<String>,
}

/// An unknown profile or bad parameter.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The profile name is not known.
    #[error("unknown profile `{0}` (expected one of: {names})", names = profile_names().join(", "))]
    Unknown(String),
    /// A parameter is invalid.
    #[error("{0}")]
    BadOption(String),
}

/// The names of all profiles.
pub fn profile_names() -> Vec<&'static str> {
    vec![
        "default",
        "workload",
        "rbac",
        "cluster",
        "pss-baseline",
        "pss-restricted",
    ]
}

/// The rules of profile `name`.
pub fn profile(name: &str, opts: &ProfileOptions) -> Result<Vec<Arc<dyn Rule>>, ProfileError> {
    let pss = |level| -> Result<Vec<Arc<dyn Rule>>, ProfileError> {
        let version = crate::pss::parse_version(opts.pss_version.as_deref())
            .map_err(ProfileError::BadOption)?;
        Ok(crate::pss::rules(level, version))
    };
    match name {
        "default" => Ok(crate::workload::rules()
            .into_iter()
            .chain(crate::images::rules())
            .chain(crate::image_content::rules())
            .chain(crate::rbac::rules())
            .chain(crate::cluster::rules())
            .chain(pss(crate::pss::Level::Restricted)?)
            .collect()),
        "pss-baseline" => pss(crate::pss::Level::Baseline),
        "pss-restricted" => pss(crate::pss::Level::Restricted),
        "workload" => Ok(crate::workload::rules()),
        "rbac" => Ok(crate::rbac::rules()),
        "cluster" => Ok(crate::cluster::rules()),
        other => Err(ProfileError::Unknown(other.to_string())),
    }
}

/// Every built-in rule (for `palisade rules` and config validation).
pub fn catalog() -> Vec<Arc<dyn Rule>> {
    let mut all = crate::workload::rules();
    all.extend(crate::images::rules());
    all.extend(crate::image_content::rules());
    all.extend(crate::rbac::rules());
    all.extend(crate::cluster::rules());
    all.extend(crate::pss::rules(crate::pss::Level::Restricted, None));
    all
}

/// The context providers the built-in rules need (the RBAC graph), with
/// default settings. Front doors add them to every [`palisade_core::PolicySet`].
pub fn providers() -> Vec<Arc<dyn ContextProvider>> {
    vec![
        Arc::new(crate::rbac::RbacProvider::default()),
        Arc::new(crate::pss::PssProvider::default()),
        Arc::new(crate::cluster::NetworkProvider),
    ]
}

/// The context providers with the settings of `config` (its `rbac` and
/// `pss` sections); errors name the file, line and key.
pub fn providers_for(config: &Config) -> Result<Vec<Arc<dyn ContextProvider>>, ConfigError> {
    let rbac = crate::rbac::RbacSettings::from_config(config)?;
    let pss = crate::pss::PssSettings::from_config(config)?;
    let content = crate::image_content::settings_from_config(config)?;
    Ok(vec![
        Arc::new(crate::image_content::SettingsProvider(content)),
        Arc::new(crate::rbac::RbacProvider::new(rbac)),
        Arc::new(crate::pss::PssProvider::new(pss)),
        Arc::new(crate::cluster::NetworkProvider),
    ])
}
