//! One bundle verified offline against a trusted root, in the order the
//! Sigstore clients check: material, signature over the artifact, log
//! entries, timestamps, then the certificate at the verified signing
//! times (chain, SCT, identity).

use super::cert::{self, Leaf};
use super::crypto::{self, sha256, Hash};
use super::tlog::{self, Content, Signed};
use super::trusted_root::TrustedRoot;
use super::tsa;
use super::types::{self, Bundle};
use super::BundleError;
use crate::dsse::{pae, Statement};
use crate::keys::PublicKey;

/// What was signed, as the verifier knows it.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// The artifact's SHA-256 digest (an image digest, for instance).
    Sha256([u8; 32]),
}

impl Artifact<'_> {
    fn sha256(&self) -> [u8; 32] {
        match self {
            Artifact::Bytes(b) => sha256(b),
            Artifact::Sha256(d) => *d,
        }
    }
}

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Expectation {
    /// A known public key (bundles with a public-key hint).
    Key {
        /// The key.
        key: PublicKey,
        /// Its SubjectPublicKeyInfo DER (what log entries record).
        der: Vec<u8>,
    },
    /// A Fulcio certificate identity.
    Identity(Identity),
}

impl Expectation {
    /// A key expectation from a PEM public key.
    pub fn key_from_pem(pem: &str) -> Result<Expectation, BundleError> {
        let der = super::types::pem_der(pem.as_bytes())
            .ok_or_else(|| BundleError::Material("the key is not a PEM public key".into()))?;
        let key = PublicKey::from_der(&der).map_err(|e| BundleError::Material(e.to_string()))?;
        Ok(Expectation::Key { key, der })
    }
}

/// A certificate identity: the OIDC issuer and the subject (SAN).
#[derive(Debug, Clone)]
pub struct Identity {
    /// The issuer.
    pub issuer: Pattern,
    /// The subject.
    pub subject: Pattern,
}

/// How an issuer or subject must match.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Exactly this text.
    Exact(String),
    /// Text matching this expression (unanchored, as Go's MatchString).
    Regex(regex::Regex),
}

impl Pattern {
    fn matches(&self, text: &str) -> bool {
        match self {
            Pattern::Exact(s) => s == text,
            Pattern::Regex(r) => r.is_match(text),
        }
    }
}

/// A verified bundle.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    /// The verified signing times (log integration, TSA), Unix seconds.
    pub times: Vec<i64>,
    /// The certificate's subject (SAN), for keyless bundles.
    pub subject: Option<String>,
    /// The certificate's OIDC issuer, for keyless bundles.
    pub issuer: Option<String>,
    /// The DSSE payload type and payload, for envelopes.
    pub dsse: Option<(String, Vec<u8>)>,
}

/// The signer as the bundle names it.
enum Signer {
    Key,
    Cert(Box<Leaf>),
}

/// Verifies `bundle` over `artifact` for `expect` with `root`. Without a
/// trusted root only key expectations verify, and log entries and
/// timestamps are not checked (a key the administrator trusts is the
/// whole trust, as with `cosign verify --key` offline).
pub fn verify_bundle(
    bundle: &Bundle,
    artifact: &Artifact<'_>,
    expect: &Expectation,
    root: Option<&TrustedRoot>,
) -> Result<Verified, BundleError> {
    let version = version(&bundle.media_type)?;
    let signer = signer(bundle, expect)?;
    let (key, verifier_der) = match (&signer, expect) {
        (Signer::Key, Expectation::Key { key, der }) => (key.clone(), der.clone()),
        (Signer::Cert(leaf), _) => (leaf.key.clone(), leaf.der.clone()),
        (Signer::Key, Expectation::Identity(_)) => unreachable_material()?,
    };
    let (signature, content, dsse) = check_signature(bundle, artifact, &key)?;
    let signed = Signed {
        signature: &signature,
        verifier: &verifier_der,
        content,
    };
    let mut verified = Verified {
        dsse,
        ..Verified::default()
    };
    let Some(root) = root else {
        return match signer {
            Signer::Key => Ok(verified),
            Signer::Cert(_) => Err(BundleError::Material(
                "a certificate identity needs a trusted root".into(),
            )),
        };
    };
    let mut times = check_tlog(bundle, version, &signed, root)?;
    times.extend(check_timestamps(bundle, &signature, root)?);
    for entry in &bundle.verification_material.tlog_entries {
        if entry.inclusion_promise.is_none() {
            tlog::check_log_validity(tlog::log_of(entry, root)?, &times)?;
        }
    }
    if let Signer::Cert(leaf) = &signer {
        let Expectation::Identity(identity) = expect else {
            return unreachable_material();
        };
        check_certificate(leaf, identity, &times, root, &mut verified)?;
    }
    verified.times = times;
    Ok(verified)
}

fn unreachable_material<T>() -> Result<T, BundleError> {
    Err(BundleError::Material(
        "the bundle's material does not fit the expectation".into(),
    ))
}

/// The bundle version: 1, 2 or 3.
fn version(media_type: &str) -> Result<u8, BundleError> {
    match media_type {
        types::MEDIA_TYPE_V01 => Ok(1),
        types::MEDIA_TYPE_V02 => Ok(2),
        types::MEDIA_TYPE_V03 | types::MEDIA_TYPE_V03_OLD => Ok(3),
        other => Err(BundleError::UnsupportedVersion(other.to_string())),
    }
}

/// The key or leaf certificate the bundle's material names.
fn signer(bundle: &Bundle, expect: &Expectation) -> Result<Signer, BundleError> {
    let vm = &bundle.verification_material;
    let leaf_der = if let Some(chain) = &vm.x509_certificate_chain {
        let first = chain
            .certificates
            .first()
            .ok_or_else(|| BundleError::Material("empty certificate chain".into()))?;
        for c in &chain.certificates {
            if Leaf::parse(&c.raw_bytes)?.is_self_signed() {
                return Err(BundleError::Material(
                    "the certificate chain contains a root certificate".into(),
                ));
            }
        }
        &first.raw_bytes
    } else if let Some(c) = &vm.certificate {
        &c.raw_bytes
    } else if vm.public_key.is_some() {
        return match expect {
            Expectation::Key { .. } => Ok(Signer::Key),
            Expectation::Identity(_) => Err(BundleError::Material(
                "the bundle is signed with a key, and no key was given".into(),
            )),
        };
    } else {
        return Err(BundleError::Material("no verification material".into()));
    };
    if let Expectation::Key { .. } = expect {
        return Err(BundleError::Material(
            "a key was expected, the bundle carries a certificate".into(),
        ));
    }
    Ok(Signer::Cert(Box::new(Leaf::parse(leaf_der)?)))
}

type SignatureParts<'b> = (Vec<u8>, Content<'b>, Option<(String, Vec<u8>)>);

/// Checks the message signature or the DSSE envelope over the artifact.
fn check_signature<'b>(
    bundle: &'b Bundle,
    artifact: &Artifact<'_>,
    key: &PublicKey,
) -> Result<SignatureParts<'b>, BundleError> {
    let digest = artifact.sha256();
    match (&bundle.message_signature, &bundle.dsse_envelope) {
        (Some(m), None) => {
            if let Some(d) = &m.message_digest {
                if d.algorithm == "SHA2_256" && d.digest != digest {
                    return Err(BundleError::Artifact(
                        "the message digest is not the artifact's".into(),
                    ));
                }
            }
            let ok = match artifact {
                Artifact::Bytes(b) => key.verify(b, &m.signature),
                Artifact::Sha256(_) => false,
            } || crypto::verify_prehash(key, Hash::Sha256, &digest, &m.signature);
            if !ok {
                return Err(BundleError::Signature(
                    "the signature does not verify over the artifact".into(),
                ));
            }
            Ok((m.signature.clone(), Content::Message(digest), None))
        }
        (None, Some(env)) => {
            let [sig] = env.signatures.as_slice() else {
                return Err(BundleError::Malformed(
                    "a DSSE envelope must carry exactly one signature".into(),
                ));
            };
            let pae = pae(&env.payload_type, &env.payload);
            if !key.verify(&pae, &sig.sig) {
                return Err(BundleError::Signature(
                    "the DSSE signature does not verify".into(),
                ));
            }
            check_subject(&env.payload_type, &env.payload, &digest)?;
            let content = Content::Dsse {
                payload: &env.payload,
                pae_sha256: sha256(&pae),
            };
            let dsse = Some((env.payload_type.clone(), env.payload.clone()));
            Ok((sig.sig.clone(), content, dsse))
        }
        _ => Err(BundleError::Malformed(
            "the bundle needs exactly one of messageSignature and dsseEnvelope".into(),
        )),
    }
}

/// An in-toto statement must name the artifact among its subjects.
fn check_subject(payload_type: &str, payload: &[u8], digest: &[u8; 32]) -> Result<(), BundleError> {
    if payload_type != crate::dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(BundleError::Artifact(format!(
            "unsupported DSSE payload type {payload_type:?}"
        )));
    }
    let statement: Statement = serde_json::from_slice(payload).map_err(|e| {
        BundleError::Artifact(format!("the payload is not an in-toto statement: {e}"))
    })?;
    if statement.is_about(&format!("sha256:{}", tlog::hex(digest))) {
        Ok(())
    } else {
        Err(BundleError::Artifact(
            "the statement's subjects do not include the artifact".into(),
        ))
    }
}

/// Checks every log entry; returns the integration times the log signed.
fn check_tlog(
    bundle: &Bundle,
    version: u8,
    signed: &Signed<'_>,
    root: &TrustedRoot,
) -> Result<Vec<i64>, BundleError> {
    let entries = &bundle.verification_material.tlog_entries;
    if entries.is_empty() {
        return Err(BundleError::TlogEntry("the bundle has no log entry".into()));
    }
    let mut times = Vec::new();
    for entry in entries {
        let log = tlog::log_of(entry, root)?;
        tlog::check_body(entry, signed)?;
        if version >= 2 || entry.inclusion_proof.is_some() {
            tlog::verify_inclusion(entry, log)?;
        }
        if entry.inclusion_promise.is_some() {
            tlog::verify_set(entry, log)?;
            if !log.validity.contains(entry.integrated_time) {
                return Err(BundleError::TlogEntry(
                    "the log's key was not trusted at the integration time".into(),
                ));
            }
            times.push(entry.integrated_time);
        } else if version == 1 {
            return Err(BundleError::SignedEntryTimestamp(
                "a v0.1 bundle needs a signed entry timestamp".into(),
            ));
        }
    }
    Ok(times)
}

/// Verifies every RFC 3161 timestamp; returns their times.
fn check_timestamps(
    bundle: &Bundle,
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<Vec<i64>, BundleError> {
    let Some(data) = &bundle.verification_material.timestamp_verification_data else {
        return Ok(Vec::new());
    };
    data.rfc3161_timestamps
        .iter()
        .map(|t| tsa::verify_timestamp(&t.signed_timestamp, signature, root))
        .collect()
}

/// The certificate chains to a trusted CA at every verified time, carries
/// a valid SCT, and names the expected identity.
fn check_certificate(
    leaf: &Leaf,
    identity: &Identity,
    times: &[i64],
    root: &TrustedRoot,
    out: &mut Verified,
) -> Result<(), BundleError> {
    if times.is_empty() {
        return Err(BundleError::Timestamp(
            "no verified signing time (signed entry timestamp or RFC 3161 timestamp)".into(),
        ));
    }
    for &t in times {
        let ca = cert::verify_chain(leaf, root, t)?;
        cert::verify_sct(leaf, ca, root)?;
    }
    let issuer = leaf.issuer();
    if !issuer
        .as_deref()
        .is_some_and(|i| identity.issuer.matches(i))
    {
        return Err(BundleError::Identity(format!(
            "issuer {:?} does not match",
            issuer.unwrap_or_default()
        )));
    }
    let sans = leaf.sans();
    let Some(subject) = sans.iter().find(|s| identity.subject.matches(s)) else {
        return Err(BundleError::Identity(format!(
            "subject {sans:?} does not match"
        )));
    };
    out.subject = Some(subject.clone());
    out.issuer = issuer;
    Ok(())
}
