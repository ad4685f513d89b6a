//! Profiles: named sets of rules with parameters.
//!
//! `default` runs every built-in family; the Pod Security profiles run only
//! the Pod Security Standards checks at a level and version.

use palisade_core::Rule;
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
    vec!["default", "workload"]
}

/// The rules of profile `name`.
pub fn profile(name: &str, _opts: &ProfileOptions) -> Result<Vec<Arc<dyn Rule>>, ProfileError> {
    match name {
        "default" | "workload" => Ok(crate::workload::rules()),
        other => Err(ProfileError::Unknown(other.to_string())),
    }
}

/// Every built-in rule (for `palisade rules` and config validation).
pub fn catalog() -> Vec<Arc<dyn Rule>> {
    crate::workload::rules()
}
