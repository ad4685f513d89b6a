//! Image policies compiled from `palisade.yaml`: globs, keys read, CEL
//! conditions compiled, registry settings resolved. Errors name the file,
//! line and key.

use crate::bundle::{Identity, Pattern, TrustedRoot};
use crate::condition::Condition;
use crate::keys::PublicKey;
use crate::reference::{ImageRef, RefGlobs};
use crate::registry::RegistryOptions;
use palisade_core::images::{AttestorSpec, ImagePolicySpec, OnRegistryError, Require, Unmatched};
use palisade_core::{Config, ConfigError, FieldPath};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The compiled `images:` section.
#[derive(Debug, Default)]
pub struct ImagePolicies {
    /// The policies, in file order.
    pub policies: Vec<ImagePolicy>,
    /// What happens to images no policy matches.
    pub unmatched: Unmatched,
    /// How to reach registries (`registries:`).
    pub registry: RegistryOptions,
}

/// One compiled image policy.
#[derive(Debug)]
pub struct ImagePolicy {
    /// Its name.
    pub name: String,
    globs: RefGlobs,
    /// How many attestors must pass.
    pub require: Require,
    /// The attestors.
    pub attestors: Vec<Attestor>,
    /// Whether `/mutate` pins the verified digest.
    pub mutate_digest: bool,
    /// What a registry error means.
    pub on_registry_error: OnRegistryError,
}

/// One compiled attestor.
#[derive(Debug)]
pub struct Attestor {
    /// Its name.
    pub name: String,
    /// Whom it trusts: a key or a keyless identity.
    pub trust: Trust,
    /// For attestation attestors: the predicate type and condition.
    pub attestation: Option<AttestationRule>,
}

/// What an attestor trusts.
#[derive(Debug, Clone)]
pub enum Trust {
    /// A public key (legacy `.sig`/`.att` and bundles).
    Key(PublicKey),
    /// A Fulcio certificate identity, checked offline against a Sigstore
    /// trusted root (bundles only).
    Keyless {
        /// The issuer and subject.
        identity: Identity,
        /// The trusted root.
        root: Arc<TrustedRoot>,
    },
}

/// What an attestation attestor requires.
#[derive(Debug)]
pub struct AttestationRule {
    /// The predicate type.
    pub predicate_type: String,
    /// The CEL condition over the predicate.
    pub condition: Option<Condition>,
}

impl ImagePolicy {
    /// Whether the policy covers `image`.
    pub fn matches(&self, image: &ImageRef) -> bool {
        self.globs.matches(image)
    }
}

impl ImagePolicies {
    /// Compiles the image sections of `config`; relative paths are read
    /// from the config file's directory.
    pub fn from_config(config: &Config) -> Result<ImagePolicies, ConfigError> {
        let base = config
            .file
            .as_deref()
            .and_then(|f| Path::new(f).parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let root = FieldPath::root();
        let mut policies = Vec::new();
        let mut names = HashSet::new();
        for (i, spec) in config.spec.images.iter().enumerate() {
            let path = root.key("images").index(i);
            if !names.insert(spec.name.as_str()) {
                return Err(config.error_at(
                    &path.key("name"),
                    format!("duplicate policy name `{}`", spec.name),
                ));
            }
            policies.push(compile_policy(config, &base, &path, spec)?);
        }
        let mut registry = RegistryOptions::default();
        for (host, r) in &config.spec.registries {
            let path = root.key("registries").key(host);
            if r.insecure {
                registry.insecure.push(host.clone());
            }
            if let Some(ca) = &r.ca {
                let pem = std::fs::read(base.join(ca)).map_err(|e| {
                    config.error_at(&path.key("ca"), format!("cannot read {ca}: {e}"))
                })?;
                registry.ca_pems.push(pem);
            }
        }
        Ok(ImagePolicies {
            policies,
            unmatched: config.spec.images_unmatched,
            registry,
        })
    }

    /// The policies that cover `image`.
    pub fn matching<'a>(
        &'a self,
        image: &'a ImageRef,
    ) -> impl Iterator<Item = &'a ImagePolicy> + 'a {
        self.policies.iter().filter(move |p| p.matches(image))
    }
}

fn compile_policy(
    config: &Config,
    base: &Path,
    path: &FieldPath,
    spec: &ImagePolicySpec,
) -> Result<ImagePolicy, ConfigError> {
    let globs = RefGlobs::new(&spec.matches)
        .map_err(|(j, m)| config.error_at(&path.key("match").index(j), format!("bad glob: {m}")))?;
    if spec.matches.is_empty() {
        return Err(config.error_at(&path.key("match"), "a policy needs at least one glob"));
    }
    if spec.attestors.is_empty() {
        return Err(config.error_at(
            &path.key("attestors"),
            "a policy needs at least one attestor",
        ));
    }
    if let Require::Count(n) = spec.require {
        if n == 0 || n > spec.attestors.len() {
            return Err(config.error_at(
                &path.key("require"),
                format!(
                    "count must be between 1 and the {} attestors",
                    spec.attestors.len()
                ),
            ));
        }
    }
    let mut attestors = Vec::new();
    let mut names = HashSet::new();
    for (j, a) in spec.attestors.iter().enumerate() {
        let apath = path.key("attestors").index(j);
        if !names.insert(a.name.as_str()) {
            return Err(config.error_at(
                &apath.key("name"),
                format!("duplicate attestor `{}`", a.name),
            ));
        }
        attestors.push(compile_attestor(config, base, &apath, a)?);
    }
    Ok(ImagePolicy {
        name: spec.name.clone(),
        globs,
        require: spec.require,
        attestors,
        mutate_digest: spec.mutate_digest,
        on_registry_error: spec.on_registry_error,
    })
}

fn compile_attestor(
    config: &Config,
    base: &Path,
    path: &FieldPath,
    a: &AttestorSpec,
) -> Result<Attestor, ConfigError> {
    let trust = match (&a.key, &a.keyless) {
        (Some(_), Some(_)) => {
            return Err(config.error_at(
                &path.key("keyless"),
                "an attestor has either `key` or `keyless`, not both",
            ))
        }
        (Some(key), None) => {
            if a.trusted_root.is_some() {
                return Err(config.error_at(
                    &path.key("trustedRoot"),
                    "`trustedRoot` belongs to keyless attestors",
                ));
            }
            Trust::Key(read_key(base, key).map_err(|m| config.error_at(&path.key("key"), m))?)
        }
        (None, Some(k)) => keyless(config, base, path, k, a.trusted_root.as_deref())?,
        (None, None) => return Err(config.error_at(path, "an attestor needs `key` or `keyless`")),
    };
    let attestation = match &a.attestation {
        None => None,
        Some(at) => {
            if at.predicate_type.trim().is_empty() {
                return Err(config.error_at(
                    &path.key("attestation").key("predicateType"),
                    "empty predicate type",
                ));
            }
            let condition =
                match &at.condition {
                    None => None,
                    Some(src) => Some(Condition::compile(src).map_err(|m| {
                        config.error_at(&path.key("attestation").key("condition"), m)
                    })?),
                };
            Some(AttestationRule {
                predicate_type: at.predicate_type.clone(),
                condition,
            })
        }
    };
    Ok(Attestor {
        name: a.name.clone(),
        trust,
        attestation,
    })
}

/// A keyless attestor: exactly one of issuer/issuerRegExp and of
/// subject/subjectRegExp, and a trusted root file.
fn keyless(
    config: &Config,
    base: &Path,
    path: &FieldPath,
    k: &palisade_core::images::KeylessSpec,
    root: Option<&str>,
) -> Result<Trust, ConfigError> {
    let kp = path.key("keyless");
    let pattern = |exact: &Option<String>, re: &Option<String>, name: &str| match (exact, re) {
        (Some(e), None) => Ok(Pattern::Exact(e.clone())),
        (None, Some(r)) => regex::Regex::new(r)
            .map(Pattern::Regex)
            .map_err(|e| config.error_at(&kp.key(&format!("{name}RegExp")), e.to_string())),
        _ => Err(config.error_at(
            &kp,
            format!("a keyless identity needs exactly one of `{name}` and `{name}RegExp`"),
        )),
    };
    let identity = Identity {
        issuer: pattern(&k.issuer, &k.issuer_reg_exp, "issuer")?,
        subject: pattern(&k.subject, &k.subject_reg_exp, "subject")?,
    };
    let Some(root) = root else {
        return Err(config.error_at(
            path,
            "a keyless attestor needs `trustedRoot` (a Sigstore trusted_root.json)",
        ));
    };
    let file = base.join(root);
    let rp = path.key("trustedRoot");
    let json = std::fs::read(&file)
        .map_err(|e| config.error_at(&rp, format!("cannot read {}: {e}", file.display())))?;
    let root = TrustedRoot::from_json(&json)
        .map_err(|e| config.error_at(&rp, format!("{}: {e}", file.display())))?;
    Ok(Trust::Keyless {
        identity,
        root: Arc::new(root),
    })
}

/// A key given inline (PEM text) or as a path relative to `base`.
fn read_key(base: &Path, key: &str) -> Result<PublicKey, String> {
    if key.trim_start().starts_with("-----BEGIN") {
        return PublicKey::from_pem(key).map_err(|e| e.to_string());
    }
    let file: PathBuf = base.join(key);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read key {}: {e}", file.display()))?;
    PublicKey::from_pem(&text).map_err(|e| format!("{}: {e}", file.display()))
}
