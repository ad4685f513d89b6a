//! Signed images: the `images:`, `imagesUnmatched:` and `registries:`
//! sections of `palisade.yaml`, and the verification results
//! ([`ImageVerdicts`]) that front doors put in the [`Extensions`](crate::Extensions)
//! for the image rules to read.
//!
//! This module holds types only; reading keys, asking registries and
//! checking signatures is `palisade-images`' work.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One entry of `images:`: which images it covers and which attestors
/// must vouch for them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImagePolicySpec {
    /// The policy's name, as denials show it.
    pub name: String,
    /// Globs on the normalised reference (`registry/repo:tag`, `*` within a
    /// path segment, `**` across segments).
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    /// How many attestors must pass (default: all).
    #[serde(default)]
    pub require: Require,
    /// The attestors: each a key (or identity) and what it must have signed.
    pub attestors: Vec<AttestorSpec>,
    /// Whether `/mutate` pins the verified digest into the reference.
    #[serde(default)]
    pub mutate_digest: bool,
    /// What a registry error (timeout, auth, not found) means (default: deny).
    #[serde(default)]
    pub on_registry_error: OnRegistryError,
}

/// `require:` of an image policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Require {
    /// Every attestor must pass.
    #[default]
    All,
    /// At least this many distinct attestors must pass.
    Count(usize),
}

impl<'de> Deserialize<'de> for Require {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Count {
            count: usize,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Count(Count),
        }
        match Raw::deserialize(d)
            .map_err(|_| serde::de::Error::custom("expected `all` or a mapping `{count: N}`"))?
        {
            Raw::Word(w) if w == "all" => Ok(Require::All),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "unknown requirement `{w}`: expected `all` or `{{count: N}}`"
            ))),
            Raw::Count(c) => Ok(Require::Count(c.count)),
        }
    }
}

impl fmt::Display for Require {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Require::All => f.write_str("all"),
            Require::Count(n) => write!(f, "{n}"),
        }
    }
}

/// `onRegistryError:` and `imagesUnmatched:`: allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnRegistryError {
    /// Deny (the default for registry errors).
    #[default]
    Deny,
    /// Allow.
    Allow,
}

/// `imagesUnmatched:`: what happens to images no policy matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unmatched {
    /// Admit them (the default).
    #[default]
    Allow,
    /// Deny them.
    Deny,
}

/// One attestor: a key and, for attestations, the predicate it must sign.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestorSpec {
    /// The attestor's name, as denials show it.
    pub name: String,
    /// A PEM public key (ECDSA P-256/P-384, RSA, Ed25519): a file path
    /// (relative to the config file) or the PEM text itself.
    pub key: Option<String>,
    /// A Fulcio certificate identity instead of a key.
    pub keyless: Option<KeylessSpec>,
    /// The Sigstore trusted root (JSON file) for keyless attestors.
    pub trusted_root: Option<String>,
    /// When set, the attestor vouches with an in-toto attestation of this
    /// type instead of a signature over the image digest.
    pub attestation: Option<AttestationSpec>,
}

/// A keyless identity (Fulcio certificate).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeylessSpec {
    /// The OIDC issuer (certificate extension 1.3.6.1.4.1.57264.1.8).
    pub issuer: Option<String>,
    /// A regular expression on the issuer.
    pub issuer_reg_exp: Option<String>,
    /// The subject (certificate SAN).
    pub subject: Option<String>,
    /// A regular expression on the subject.
    pub subject_reg_exp: Option<String>,
}

/// What an attestation attestor must have signed.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestationSpec {
    /// The in-toto predicate type, e.g.
    /// `https://cosign.sigstore.dev/attestation/vuln/v1`.
    pub predicate_type: String,
    /// A CEL expression over `predicate` that must be true.
    pub condition: Option<String>,
}

/// One entry of `registries:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrySpec {
    /// Plain HTTP (or unverified TLS): for loopback tests only.
    #[serde(default)]
    pub insecure: bool,
    /// A PEM CA bundle (path relative to the config file) to trust.
    pub ca: Option<String>,
}

/// `registries:`: settings per registry host (`host[:port]`).
pub type Registries = BTreeMap<String, RegistrySpec>;

/// The verification results of the images a front door checked, keyed by
/// the reference as written in the object: what the image rules read.
#[derive(Debug, Clone, Default)]
pub struct ImageVerdicts {
    /// Reference (as written) -> verdict.
    pub images: HashMap<String, ImageVerdict>,
}

/// The verdict on one image reference.
#[derive(Debug, Clone, Serialize)]
pub struct ImageVerdict {
    /// The reference as written.
    pub image: String,
    /// The digest it resolved to, when the registry answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// One entry per matching policy (all must pass).
    pub policies: Vec<PolicyVerdict>,
    /// Why the image could not be checked at all (a reference that does
    /// not parse, a verification not done): the image does not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Set when no policy matched and `imagesUnmatched` is `deny`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unmatched_denied: bool,
}

impl ImageVerdict {
    /// Whether the image may run: every matching policy passed (a registry
    /// error passes when its policy says `onRegistryError: allow`), and it
    /// is not an unmatched image under `imagesUnmatched: deny`.
    pub fn passed(&self) -> bool {
        self.error.is_none() && !self.unmatched_denied && self.policies.iter().all(|p| p.passed)
    }
}

/// The verdict of one policy on one image.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyVerdict {
    /// The policy's name.
    pub name: String,
    /// Whether the image satisfies it.
    pub passed: bool,
    /// What it requires (`all` or a count).
    pub require: String,
    /// The registry could not be asked: the cause. Attestors are then
    /// empty, and `passed` follows `onRegistryError`.
    #[serde(rename = "registryError", skip_serializing_if = "Option::is_none")]
    pub registry_error: Option<String>,
    /// One entry per attestor.
    pub attestors: Vec<AttestorVerdict>,
}

/// The verdict of one attestor.
#[derive(Debug, Clone, Serialize)]
pub struct AttestorVerdict {
    /// The attestor's name.
    pub name: String,
    /// Whether it vouches with an attestation (else a signature).
    #[serde(skip)]
    pub attestation: bool,
    /// Whether it vouched for the image.
    pub passed: bool,
    /// Why it did or did not.
    pub reason: String,
}
