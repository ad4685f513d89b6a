//! `palisade.yaml`: which rules run, how severe they are, what each front
//! door does with them, and which objects are exempt.
//!
//! Errors name the file, line, column and key. Sections owned by other crates
//! (`webhook`, `rbac`, `pss`) are kept as JSON and read with [`Config::section`],
//! which gives the same positioned errors.

use crate::finding::Action;
use crate::path::FieldPath;
use crate::position::Pos;
use crate::positions::Positions;
use crate::selector::LabelSelector;
use crate::severity::Severity;
use crate::yaml::parse_stream;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A configuration error with its place.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    /// The config file, if the config came from one.
    pub file: Option<Arc<str>>,
    /// Position of the offending key.
    pub pos: Option<Pos>,
    /// The offending key path, e.g. `rules.host-network.severity`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let Some(p) = self.pos {
                write!(f, ":{}:{}", p.line, p.column)?;
            }
            f.write_str(": ")?;
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Per-rule settings under `rules:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSetting {
    /// `false` turns the rule off; `true` turns on a rule its profile leaves out.
    pub enabled: Option<bool>,
    /// Overrides the rule's severity.
    pub severity: Option<Severity>,
    /// Overrides what front doors do with its findings.
    pub action: Option<Action>,
}

/// One entry of `profiles:`: a profile name (`pss-restricted`), or a name
/// with the action its rules take (`{name: pss-restricted, action: warn}`),
/// as a Kyverno policy's `validationFailureAction` or a Gatekeeper
/// constraint's `enforcementAction` applies to all of its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRef {
    /// The profile (`default`, `pss-baseline`, `pss-restricted`, ...).
    pub name: String,
    /// What front doors do with the findings of its rules; `None`: by
    /// severity (`enforceAt`). A rule's own `rules.ID.action` wins.
    pub action: Option<Action>,
}

impl ProfileRef {
    /// A profile entry by name, with no action of its own.
    pub fn named(name: impl Into<String>) -> Self {
        ProfileRef {
            name: name.into(),
            action: None,
        }
    }
}

impl<'de> Deserialize<'de> for ProfileRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            name: String,
            action: Option<Action>,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ProfileRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a profile name or a mapping {name, action}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ProfileRef, E> {
                Ok(ProfileRef::named(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ProfileRef, A::Error> {
                let e = Entry::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ProfileRef {
                    name: e.name,
                    action: e.action,
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// One exemption under `exemptions:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exemption {
    /// Rule IDs it applies to; `*` for all.
    pub rules: Vec<String>,
    /// Namespaces it applies to (any when empty).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Name globs it applies to (any when empty), e.g. `calico-*`.
    #[serde(default)]
    pub names: Vec<String>,
    /// Kinds it applies to (any when empty).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Label selector on the object.
    pub selector: Option<LabelSelector>,
    /// Requesting users it applies to (admission only: `request.userInfo.username`).
    #[serde(default)]
    pub users: Vec<String>,
    /// Requesting groups it applies to (admission only: `request.userInfo.groups`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Requesting service accounts it applies to, as `namespace/name`
    /// (admission only: the username `system:serviceaccount:NS:NAME`).
    #[serde(default)]
    pub service_accounts: Vec<String>,
    /// Why the exemption exists (required).
    pub reason: String,
    /// Date (`2026-12-31`, valid through that day, UTC) or RFC 3339 time
    /// after which it no longer applies.
    pub expires: Option<String>,
}

/// The typed part of the configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigSpec {
    /// Profiles to run (`default`, `pss-baseline`, `pss-restricted`, ...),
    /// each optionally with the action of its rules.
    #[serde(default)]
    pub profiles: Vec<ProfileRef>,
    /// Lowest severity that fails `scan` (default `low`).
    pub fail_on: Option<Severity>,
    /// Lowest severity whose findings are enforced at admission; lower ones
    /// warn (default `high`).
    pub enforce_at: Option<Severity>,
    /// Per-rule settings.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleSetting>,
    /// Exemptions.
    #[serde(default)]
    pub exemptions: Vec<Exemption>,
    /// Files or directories of CEL and Rego policies.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Pod Security settings (read by the PSS rules).
    pub pss: Option<Value>,
    /// RBAC analysis settings (read by the RBAC rules).
    pub rbac: Option<Value>,
    /// Admission webhook settings (read by `palisade serve`).
    pub webhook: Option<Value>,
    /// Pod templates inside custom resources (read by
    /// [`PodTemplates`](crate::pod_templates::PodTemplates)).
    pub pod_templates: Option<Value>,
    /// Image signature policies (read by `palisade-images`).
    #[serde(default)]
    pub images: Vec<crate::images::ImagePolicySpec>,
    /// What happens to images no image policy matches.
    #[serde(default)]
    pub images_unmatched: crate::images::Unmatched,
    /// Registry settings (CA, insecure) per host.
    #[serde(default)]
    pub registries: crate::images::Registries,
    /// Image content rule settings (read by the image content rules).
    pub image_content: Option<Value>,
    /// The Kubernetes version (`"1.N"`) whose CEL environment user policies
    /// are checked against (read by the policy loader; default the latest).
    pub kubernetes_version: Option<Value>,
}

/// A loaded configuration: the typed spec plus what is needed to place errors.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The typed settings.
    pub spec: ConfigSpec,
    /// The file it came from.
    pub file: Option<Arc<str>>,
    /// The document as read, to place errors in it.
    source: Option<Arc<Source>>,
}

/// A configuration document with the positions of its nodes.
#[derive(Debug)]
struct Source {
    value: Value,
    positions: Positions,
}

impl Source {
    fn locate(&self, path: &FieldPath) -> Pos {
        self.positions.locate(&self.value, path)
    }
}

impl Config {
    /// Parses `text` read from `file`.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let file: Arc<str> = Arc::from(file);
        let err = |pos: Option<Pos>, key: String, message: String| ConfigError {
            file: Some(file.clone()),
            pos,
            key,
            message,
        };
        let mut docs = parse_stream(text);
        if docs.len() > 1 {
            return Err(err(
                None,
                String::new(),
                "expected one YAML document".into(),
            ));
        }
        let source = match docs.pop() {
            None => Source {
                value: Value::Object(Default::default()),
                positions: Positions::new(&[]),
            },
            Some(Err(e)) => return Err(err(e.pos, String::new(), e.message)),
            Some(Ok(doc)) if doc.value.is_null() => Source {
                value: Value::Object(Default::default()),
                positions: doc.positions,
            },
            Some(Ok(doc)) => Source {
                value: doc.value,
                positions: doc.positions,
            },
        };
        let spec: ConfigSpec = deserialize_at(&source.value, &FieldPath::root(), Some(&source))
            .map_err(|(key, pos, msg)| err(pos, key, msg))?;
        let config = Config {
            spec,
            file: Some(file.clone()),
            source: Some(Arc::new(source)),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (i, ex) in self.spec.exemptions.iter().enumerate() {
            let base = FieldPath::root().key("exemptions").index(i);
            if ex.reason.trim().is_empty() {
                return Err(self.error_at(&base.key("reason"), "an exemption needs a reason"));
            }
            if ex.rules.is_empty() {
                return Err(self.error_at(
                    &base.key("rules"),
                    "an exemption needs at least one rule (or `*`)",
                ));
            }
            if let Some(exp) = &ex.expires {
                parse_expiry(exp).map_err(|m| self.error_at(&base.key("expires"), m))?;
            }
            for (j, glob) in ex.names.iter().enumerate() {
                globset::Glob::new(glob)
                    .map_err(|e| self.error_at(&base.key("names").index(j), e.to_string()))?;
            }
            for (j, sa) in ex.service_accounts.iter().enumerate() {
                if !matches!(sa.split_once('/'), Some((ns, n)) if !ns.is_empty() && !n.is_empty() && !n.contains('/'))
                {
                    return Err(self.error_at(
                        &base.key("serviceAccounts").index(j),
                        format!("`{sa}` is not `namespace/name`"),
                    ));
                }
            }
            if let Some(sel) = &ex.selector {
                sel.validate()
                    .map_err(|e| self.error_at(&base.key("selector"), e.to_string()))?;
            }
        }
        Ok(())
    }

    /// An error about the key at `path`, placed in the file.
    pub fn error_at(&self, path: &FieldPath, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            pos: self.position(path),
            key: path.to_string(),
            message: message.into(),
        }
    }

    /// Where `path` is in the file.
    pub fn position(&self, path: &FieldPath) -> Option<Pos> {
        self.source.as_ref().map(|s| s.locate(path))
    }

    /// Reads an extra section (`pss`, `rbac`, `webhook`, `podTemplates`) as `T`, with errors
    /// placed in the file. `None` when the section is absent.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ConfigError> {
        let value = match name {
            "pss" => &self.spec.pss,
            "rbac" => &self.spec.rbac,
            "webhook" => &self.spec.webhook,
            "podTemplates" => &self.spec.pod_templates,
            "imageContent" => &self.spec.image_content,
            _ => return Err(self.error_at(&FieldPath::root(), format!("no section `{name}`"))),
        };
        let Some(value) = value else { return Ok(None) };
        deserialize_at(value, &FieldPath::root().key(name), self.source.as_deref())
            .map(Some)
            .map_err(|(key, pos, message)| ConfigError {
                file: self.file.clone(),
                pos,
                key,
                message,
            })
    }
}

/// Deserializes `value` (found at `base`) with serde_path_to_error so the
/// error names the key and its position.
fn deserialize_at<T: DeserializeOwned>(
    value: &Value,
    base: &FieldPath,
    source: Option<&Source>,
) -> Result<T, (String, Option<Pos>, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path = base.clone();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => path = path.index(*index),
                serde_path_to_error::Segment::Map { key } => path = path.key(key),
                _ => {}
            }
        }
        let msg = e.inner().to_string();
        (path.to_string(), source.map(|s| s.locate(&path)), msg)
    })
}

/// Parses an expiry: a date (valid through that day, UTC) or an RFC 3339 time.
pub fn parse_expiry(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts);
    }
    let date: jiff::civil::Date = text
        .parse()
        .map_err(|_| format!("`{text}` is not a date (2026-12-31) or an RFC 3339 time"))?;
    date.tomorrow()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_line_and_key() {
        let e =
            Config::parse("rules:\n  host-network:\n    severity: severe\n", "p.yaml").unwrap_err();
        assert_eq!(e.key, "rules.host-network.severity");
        assert_eq!(e.pos.unwrap().line, 3);
        assert!(e.to_string().starts_with("p.yaml:3:"), "{e}");
        let e = Config::parse("rulez: {}\n", "p.yaml").unwrap_err();
        assert_eq!((e.key.as_str(), e.pos.unwrap().line), ("rulez", 1));
        let e = Config::parse(
            "exemptions:\n- rules: [a]\n  reason: x\n  expires: soon\n",
            "p.yaml",
        )
        .unwrap_err();
        assert_eq!(e.pos.unwrap().line, 4);
    }

    #[test]
    fn profiles_are_names_or_names_with_an_action() {
        let c = Config::parse(
            "profiles:\n- default\n- name: pss-restricted\n  action: warn\n- {name: rbac}\n",
            "p.yaml",
        )
        .unwrap();
        assert_eq!(
            c.spec.profiles,
            [
                ProfileRef::named("default"),
                ProfileRef {
                    name: "pss-restricted".into(),
                    action: Some(Action::Warn)
                },
                ProfileRef::named("rbac"),
            ]
        );
        let e = Config::parse(
            "profiles:\n- default\n- name: pss-restricted\n  action: block\n",
            "p.yaml",
        )
        .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.pos.unwrap().line),
            ("profiles[1].action", 4),
            "{e}"
        );
        assert!(e.to_string().starts_with("p.yaml:4:"), "{e}");
        assert!(e.message.contains("block"), "{e}");
        let e = Config::parse("profiles:\n- {name: x, mode: warn}\n", "p.yaml").unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.pos.unwrap().line),
            ("profiles[0].mode", 2),
            "{e}"
        );
        let e = Config::parse("profiles:\n- {action: warn}\n", "p.yaml").unwrap_err();
        assert!(e.message.contains("name"), "{e}");
        assert_eq!(e.pos.unwrap().line, 2, "{e}");
        let e = Config::parse("profiles:\n- 5\n", "p.yaml").unwrap_err();
        assert_eq!(e.key, "profiles[0]", "{e}");
        assert!(e.message.contains("a profile name or a mapping"), "{e}");
    }

    #[test]
    fn sections_are_read_with_positions() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        struct W {
            #[allow(dead_code)]
            port: u16,
        }
        let c = Config::parse("webhook:\n  port: 99999\n", "p.yaml").unwrap();
        let e = c.section::<W>("webhook").unwrap_err();
        assert_eq!((e.key.as_str(), e.pos.unwrap().line), ("webhook.port", 2));
    }

    #[test]
    fn expiry_dates() {
        let t = parse_expiry("2026-12-31").unwrap();
        assert_eq!(t.to_string(), "2027-01-01T00:00:00Z");
        assert!(parse_expiry("2026-12-31T10:00:00Z").is_ok());
        assert!(parse_expiry("31/12/2026").is_err());
    }
}
