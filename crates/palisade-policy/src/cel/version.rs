//! The Kubernetes version whose CEL environment a policy is checked
//! against. Which function arrived in which version is data shipped with
//! Palisade (`data/cel-environment.json`, from the API server's
//! `environment/base.go`), not a list kept in code.

use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// A Kubernetes minor version (`1.33`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    /// Major version (1).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl KubeVersion {
    /// The newest version the shipped data describes (the default).
    pub const LATEST: KubeVersion = KubeVersion {
        major: 1,
        minor: 37,
    };
}

impl Default for KubeVersion {
    fn default() -> Self {
        KubeVersion::LATEST
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A version that does not parse, or that the data does not cover.
#[derive(Debug, thiserror::Error)]
#[error("invalid Kubernetes version `{0}` for the CEL environment (expected 1.N, from {oldest} to {latest})", oldest = data().oldest, latest = data().latest)]
pub struct BadVersion(pub String);

impl FromStr for KubeVersion {
    type Err = BadVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadVersion(s.to_string());
        let t = s.trim().trim_start_matches('v');
        let (ma, mi) = t.split_once('.').ok_or_else(bad)?;
        let mi = mi.split('.').next().unwrap_or(mi);
        let v = KubeVersion {
            major: ma.parse().map_err(|_| bad())?,
            minor: mi.parse().map_err(|_| bad())?,
        };
        let d = data();
        if v < d.oldest || v > d.latest {
            return Err(bad());
        }
        Ok(v)
    }
}

#[derive(Deserialize)]
struct Library {
    name: String,
    introduced: String,
    functions: Vec<String>,
}

#[derive(Deserialize)]
struct Raw {
    latest: String,
    oldest: String,
    libraries: Vec<Library>,
}

/// The parsed environment data.
pub struct EnvData {
    /// Oldest version covered.
    pub oldest: KubeVersion,
    /// Newest version covered.
    pub latest: KubeVersion,
    /// Function name -> (version that introduced it, library name).
    pub functions: HashMap<String, (KubeVersion, String)>,
}

fn parse_version(s: &str) -> KubeVersion {
    let (ma, mi) = s.split_once('.').unwrap_or((s, "0"));
    KubeVersion {
        major: ma.parse().unwrap_or(1),
        minor: mi.parse().unwrap_or(0),
    }
}

/// The shipped data, parsed once (its unit test checks it parses).
pub fn data() -> &'static EnvData {
    static D: OnceLock<EnvData> = OnceLock::new();
    D.get_or_init(|| {
        let raw: Raw = serde_json::from_str(include_str!("../../data/cel-environment.json"))
            .unwrap_or(Raw {
                latest: "1.37".into(),
                oldest: "1.23".into(),
                libraries: Vec::new(),
            });
        let mut functions: HashMap<String, (KubeVersion, String)> = HashMap::new();
        for lib in raw.libraries {
            let v = parse_version(&lib.introduced);
            for f in lib.functions {
                let e = functions.entry(f).or_insert((v, lib.name.clone()));
                if v < e.0 {
                    *e = (v, lib.name.clone());
                }
            }
        }
        EnvData {
            oldest: parse_version(&raw.oldest),
            latest: parse_version(&raw.latest),
            functions,
        }
    })
}

/// Palisade's internal functions that stand for a library's feature.
const INTERNAL: &[(&str, &str)] = &[("@pairs", "transformList"), ("@mapInsert", "transformMap")];

/// The version that introduced function `name`, if Kubernetes declares it.
pub fn declared_since(name: &str) -> Option<KubeVersion> {
    let name = INTERNAL
        .iter()
        .find(|(i, _)| *i == name)
        .map_or(name, |(_, f)| f);
    data().functions.get(name).map(|(v, _)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_data_parses_and_orders_libraries() {
        let d = data();
        assert!(d.functions.len() > 100);
        assert_eq!(d.latest, KubeVersion::LATEST);
        assert_eq!(
            declared_since("isSorted"),
            Some(KubeVersion { major: 1, minor: 0 })
        );
        assert_eq!(
            declared_since("ip"),
            Some(KubeVersion {
                major: 1,
                minor: 30
            })
        );
        assert_eq!(declared_since("math.abs"), None);
        assert!("1.99".parse::<KubeVersion>().is_err());
        assert_eq!("v1.30".parse::<KubeVersion>().unwrap().minor, 30);
    }
}
