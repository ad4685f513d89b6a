//! The `rbac` section of `palisade.yaml`:
//!
//! ```yaml
//! rbac:
//!   maxExpiryDays: 90          # rbac-binding-expiry-too-long (default 90)
//!   requireExpiry:             # rbac-binding-no-expiry
//!     users: true              # bindings naming a User need an expiry (default true)
//!     groups: [contractors]    # so do bindings naming these groups
//!     roles: [cluster-admin]   # and any binding to these roles
//!     exemptRoles: [view]      # never bindings to these roles
//!     exemptGroups: [breakglass] # nor bindings whose only subjects are these groups
//! ```

use palisade_core::{Config, ConfigError, FieldPath};
use serde::Deserialize;

/// Default longest membership, in days.
pub const DEFAULT_MAX_EXPIRY_DAYS: u32 = 90;

/// The typed `rbac` section.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RbacSettings {
    /// Longest time from creation (or now, for manifests) to expiry, in days.
    pub max_expiry_days: Option<u32>,
    /// Which bindings must carry `palisade.io/expires-at`.
    #[serde(default)]
    pub require_expiry: RequireExpiry,
}

/// Which bindings must be time-bound.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequireExpiry {
    /// Bindings naming an individual User (default true).
    pub users: Option<bool>,
    /// Bindings naming one of these groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Any binding to a role of one of these names.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Bindings to roles of these names never need one.
    #[serde(default)]
    pub exempt_roles: Vec<String>,
    /// Groups whose bindings never need one.
    #[serde(default)]
    pub exempt_groups: Vec<String>,
}

impl RbacSettings {
    /// Reads the `rbac` section of `config` (defaults when absent); errors
    /// name the file, line and key.
    pub fn from_config(config: &Config) -> Result<RbacSettings, ConfigError> {
        let settings: RbacSettings = config.section("rbac")?.unwrap_or_default();
        if settings.max_expiry_days == Some(0) {
            return Err(config.error_at(
                &FieldPath::root().key("rbac").key("maxExpiryDays"),
                "must be at least 1 day",
            ));
        }
        Ok(settings)
    }

    /// The longest membership, in days.
    pub fn max_expiry_days(&self) -> u32 {
        self.max_expiry_days.unwrap_or(DEFAULT_MAX_EXPIRY_DAYS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_places_errors() {
        let c = Config::parse(
            "rbac:\n  maxExpiryDays: 30\n  requireExpiry: {groups: [ops]}\n",
            "p.yaml",
        )
        .unwrap();
        let s = RbacSettings::from_config(&c).unwrap();
        assert_eq!(
            (s.max_expiry_days(), s.require_expiry.groups.clone()),
            (30, vec!["ops".to_string()])
        );
        let c = Config::parse("rbac:\n  requireExpiry:\n    userz: true\n", "p.yaml").unwrap();
        let e = RbacSettings::from_config(&c).unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.pos.unwrap().line),
            ("rbac.requireExpiry.userz", 3)
        );
        let c = Config::parse("rbac:\n  maxExpiryDays: 0\n", "p.yaml").unwrap();
        assert_eq!(
            RbacSettings::from_config(&c).unwrap_err().pos.unwrap().line,
            2
        );
        assert_eq!(
            RbacSettings::from_config(&Config::default())
                .unwrap()
                .max_expiry_days(),
            90
        );
    }
}
