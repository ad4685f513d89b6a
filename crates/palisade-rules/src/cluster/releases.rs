//! Kubernetes release data: the latest patch and end-of-life date of every
//! minor version, and the kubelet version skew policy.
//!
//! The data ships as `data/k8s-releases.json` (built by
//! `data/make-k8s-releases.py` from `testdata/audit/k8s-releases`, whose
//! SOURCES.md names the upstream files) and can be replaced by a file of the
//! same shape (`--releases FILE`). Its `asOf` date says how old it is.

use palisade_core::{Context, ContextProvider, Extensions, Inventory, Scope};
use serde::Deserialize;
use std::fmt;
use std::sync::{Arc, LazyLock};

/// The release data shipped with Palisade.
pub const EMBEDDED: &str = include_str!("../../data/k8s-releases.json");

/// A Kubernetes version `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major (1).
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch, when known.
    pub patch: Option<u32>,
}

impl Version {
    /// Parses `v1.27.3`, `1.27.3`, `v1.27.3-gke.100`, `v1.21.1+k3s1` or
    /// `1.27` (no patch): the numbers before any pre-release or build suffix.
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let core = t.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
        })
    }

    /// `major.minor`.
    pub fn minor_name(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "v{}.{}.{}", self.major, self.minor, p),
            None => write!(f, "v{}.{}", self.major, self.minor),
        }
    }
}

/// One minor version's release facts.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Minor {
    /// `1.27`.
    pub minor: String,
    /// `1.27.16`.
    pub latest_patch: String,
    /// Release date of the latest patch (`YYYY-MM-DD`).
    pub latest_patch_date: String,
    /// Release date of `.0`, when known.
    #[serde(default)]
    pub released: Option<String>,
    /// End of maintenance (no more regular patches), when known.
    #[serde(default)]
    pub end_of_maintenance: Option<String>,
    /// End of life (no more patches at all), when known.
    #[serde(default)]
    pub end_of_life: Option<String>,
}

/// How many minors a kubelet may lag behind the API server, from a minor on.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkewStep {
    /// The API server minor from which `max` applies (`1.28`).
    pub from_minor: String,
    /// Older kubelet minors allowed.
    pub max: u32,
}

/// The kubelet skew policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletSkew {
    /// Where the policy is written.
    pub source: String,
    /// The steps, any order.
    pub older_minors: Vec<SkewStep>,
}

/// The whole data file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Releases {
    /// Where the facts come from.
    pub source: String,
    /// The date of the newest fact (`YYYY-MM-DD`): how current the data is.
    pub as_of: String,
    /// Every minor, any order.
    pub minors: Vec<Minor>,
    /// The kubelet version skew policy.
    pub kubelet_skew: KubeletSkew,
}

/// A release data file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReleasesError {
    /// Not JSON of the expected shape.
    #[error("{file}: {source}")]
    Parse {
        /// The file.
        file: String,
        /// What serde said (with line and column).
        source: serde_json::Error,
    },
    /// A field that must be a version or date is not.
    #[error("{file}: {field}: {message}")]
    Field {
        /// The file.
        file: String,
        /// The field, e.g. `minors[3].latestPatch`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl Releases {
    /// The data shipped with Palisade.
    pub fn embedded() -> Releases {
        // The shipped file is checked by a unit test; a broken one is a build bug.
        Releases::parse(EMBEDDED, "k8s-releases.json (embedded)")
            .unwrap_or_else(|e| unreachable!("embedded release data does not parse: {e}"))
    }

    /// Parses and checks a release data file named `file`.
    pub fn parse(text: &str, file: &str) -> Result<Releases, ReleasesError> {
        let r: Releases = serde_json::from_str(text).map_err(|source| ReleasesError::Parse {
            file: file.to_string(),
            source,
        })?;
        let bad = |field: String, message: &str| ReleasesError::Field {
            file: file.to_string(),
            field,
            message: message.to_string(),
        };
        date(&r.as_of).ok_or_else(|| bad("asOf".into(), "not a YYYY-MM-DD date"))?;
        for (i, m) in r.minors.iter().enumerate() {
            let v = Version::parse(&m.minor).filter(|v| v.patch.is_none());
            v.ok_or_else(|| bad(format!("minors[{i}].minor"), "not a MAJOR.MINOR version"))?;
            let p = Version::parse(&m.latest_patch).filter(|v| v.patch.is_some());
            p.ok_or_else(|| bad(format!("minors[{i}].latestPatch"), "not a version"))?;
            for (name, d) in [
                ("latestPatchDate", Some(&m.latest_patch_date)),
                ("endOfLife", m.end_of_life.as_ref()),
                ("endOfMaintenance", m.end_of_maintenance.as_ref()),
            ] {
                if d.is_some_and(|d| date(d).is_none()) {
                    return Err(bad(format!("minors[{i}].{name}"), "not a YYYY-MM-DD date"));
                }
            }
        }
        for (i, s) in r.kubelet_skew.older_minors.iter().enumerate() {
            Version::parse(&s.from_minor).ok_or_else(|| {
                bad(
                    format!("kubeletSkew.olderMinors[{i}].fromMinor"),
                    "not a version",
                )
            })?;
        }
        Ok(r)
    }

    /// The facts of `v`'s minor.
    pub fn minor(&self, v: Version) -> Option<&Minor> {
        self.minors.iter().find(|m| {
            Version::parse(&m.minor).is_some_and(|x| (x.major, x.minor) == (v.major, v.minor))
        })
    }

    /// The newest minor in the data.
    pub fn newest(&self) -> Option<Version> {
        self.minors
            .iter()
            .filter_map(|m| Version::parse(&m.minor))
            .max()
    }

    /// Why `v`'s minor is past its end of life at `now`, or `None` when it
    /// is supported or the data cannot tell (a minor newer than the data).
    pub fn past_end_of_life(&self, v: Version, now: jiff::Timestamp) -> Option<String> {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        if let Some(eol) = self.minor(v).and_then(|m| m.end_of_life.as_deref()) {
            return date(eol).filter(|d| *d < today).map(|_| {
                format!(
                    "Kubernetes {} reached its end of life on {eol}",
                    v.minor_name()
                )
            });
        }
        // No date for this minor: older than a minor whose end of life has passed.
        self.minors
            .iter()
            .filter_map(|m| Some((Version::parse(&m.minor)?, m.end_of_life.as_deref()?)))
            .filter(|(m, eol)| *m > v && date(eol).is_some_and(|d| d < today))
            .min_by_key(|(m, _)| *m)
            .map(|(m, eol)| {
                format!(
                    "Kubernetes {} is older than {}, whose end of life was {eol}",
                    v.minor_name(),
                    m.minor_name()
                )
            })
    }

    /// The most minors a kubelet may lag behind an API server at `server`.
    pub fn kubelet_max_lag(&self, server: Version) -> u32 {
        self.kubelet_skew
            .older_minors
            .iter()
            .filter_map(|s| Some((Version::parse(&s.from_minor)?, s.max)))
            .filter(|(from, _)| (from.major, from.minor) <= (server.major, server.minor))
            .max_by_key(|(from, _)| *from)
            .map_or(2, |(_, max)| max)
    }

    /// How many days old the data is at `now`.
    pub fn age_days(&self, now: jiff::Timestamp) -> Option<i64> {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let as_of = date(&self.as_of)?;
        Some(i64::from((today - as_of).get_days()))
    }
}

impl Default for Releases {
    fn default() -> Self {
        Releases::embedded()
    }
}

/// The shipped data, parsed once.
static SHIPPED: LazyLock<Arc<Releases>> = LazyLock::new(|| Arc::new(Releases::embedded()));

/// The shipped release data (parsed once).
pub fn shipped() -> Arc<Releases> {
    SHIPPED.clone()
}

/// Release data chosen by the front door (`--releases FILE`), kept in the
/// context's extensions.
#[derive(Debug, Clone)]
pub struct ReleaseData(pub Arc<Releases>);

/// Puts other release data than the shipped data in the context.
#[derive(Debug, Clone)]
pub struct ReleasesProvider(pub Arc<Releases>);

impl ContextProvider for ReleasesProvider {
    fn provide(&self, _: &Inventory, ext: &mut Extensions) {
        ext.insert(ReleaseData(self.0.clone()));
    }

    fn reads(&self) -> Scope {
        Scope::none()
    }
}

/// The release data of this evaluation: a [`ReleasesProvider`]'s, or the shipped data.
pub fn in_context<'a>(ctx: &Context<'a>) -> &'a Releases {
    match ctx.extensions.get::<ReleaseData>() {
        Some(d) => &d.0,
        None => &SHIPPED,
    }
}

/// A `YYYY-MM-DD` date.
fn date(text: &str) -> Option<jiff::civil::Date> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: &str) -> jiff::Timestamp {
        format!("{day}T00:00:00Z").parse().unwrap()
    }

    #[test]
    fn the_embedded_data_parses_and_answers() {
        let r = Releases::embedded();
        assert_eq!(r.as_of, "2026-08-20");
        let v127 = Version::parse("v1.27.3").unwrap();
        assert_eq!(r.minor(v127).unwrap().latest_patch, "1.27.16");
        assert!(r.past_end_of_life(v127, at("2026-11-29")).is_some());
        assert!(r.past_end_of_life(v127, at("2024-06-01")).is_none());
        let old = Version::parse("v1.8.15").unwrap();
        let why = r.past_end_of_life(old, at("2026-11-29")).unwrap();
        assert!(why.contains("older than 1.27"), "{why}");
        let v136 = Version::parse("1.36.1").unwrap();
        assert!(r.past_end_of_life(v136, at("2026-11-29")).is_none());
        let future = Version::parse("v1.40.0").unwrap();
        assert!(r.past_end_of_life(future, at("2026-11-29")).is_none());
        assert_eq!(r.kubelet_max_lag(Version::parse("1.27.1").unwrap()), 2);
        assert_eq!(r.kubelet_max_lag(Version::parse("1.28.0").unwrap()), 3);
        assert_eq!(r.age_days(at("2026-11-29")), Some(101));
    }

    #[test]
    fn versions_parse_as_clusters_print_them() {
        for (text, want) in [
            ("v1.27.3", Some((1, 27, Some(3)))),
            ("1.27", Some((1, 27, None))),
            ("v1.30.2-gke.1587003", Some((1, 30, Some(2)))),
            ("v1.21.1+k3s1", Some((1, 21, Some(1)))),
            ("v1.27.3-eks-a5565ad", Some((1, 27, Some(3)))),
            ("one.two", None),
            ("1.2.3.4", None),
            ("", None),
        ] {
            let got = Version::parse(text).map(|v| (v.major, v.minor, v.patch));
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn bad_files_are_errors_naming_the_field() {
        let e = Releases::parse("{", "r.json").unwrap_err().to_string();
        assert!(e.starts_with("r.json: "), "{e}");
        let text = r#"{"source": "s", "asOf": "2026-01-01", "kubeletSkew": {"source": "s", "olderMinors": []},
            "minors": [{"minor": "1.30", "latestPatch": "1.30.x", "latestPatchDate": "2025-01-01"}]}"#;
        let e = Releases::parse(text, "r.json").unwrap_err().to_string();
        assert_eq!(e, "r.json: minors[0].latestPatch: not a version");
    }
}
