//! Sigstore bundles (v0.1 to v0.3): parsing, and offline verification
//! against a trusted root, as the Sigstore clients verify them.
//!
//! - [`types`]: the bundle and trusted-root JSON.
//! - [`trusted_root`]: the trusted root compiled (keys, CAs, TSAs, validity).
//! - [`body`]: log entry bodies checked against the bundle.
//! - [`tlog`]: transparency-log entries: RFC 6962 Merkle inclusion proofs,
//!   signed-note checkpoints, signed entry timestamps.
//! - [`cert`]: Fulcio chains (rustls-webpki), embedded SCTs, identities.
//! - [`tsa`]: RFC 3161 timestamps (cms).
//! - [`verify`]: the whole verification of one bundle.
//! - [`keyless_sig`]: cosign's legacy keyless `.sig` layers, as v0.1 bundles.
//! - [`oci`]: bundles as OCI 1.1 referrers of images; [`sign`]: writing them.
//!
//! Primitives are RustCrypto's (p256, p384, rsa, ed25519-dalek, sha2) and
//! ring's through rustls-webpki; this module composes them.

pub mod attestor;
pub mod body;
pub mod cert;
pub(crate) mod crypto;
pub mod keyless_sig;
pub mod oci;
pub mod sign;
pub mod tlog;
pub mod trusted_root;
pub mod tsa;
pub mod types;
pub mod verify;

pub use trusted_root::TrustedRoot;
pub use types::Bundle;
pub use verify::{verify_bundle, Artifact, Expectation, Identity, Pattern, Verified};

/// Why a bundle does not verify. [`BundleError::class`] names the check.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BundleError {
    /// The bundle is not valid JSON or misses required parts.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// The media type names a version this verifier does not know.
    #[error("unsupported bundle media type {0:?}")]
    UnsupportedVersion(String),
    /// The trusted root is malformed.
    #[error("trusted root: {0}")]
    TrustedRoot(String),
    /// The verification material does not fit the bundle or the expectation.
    #[error("verification material: {0}")]
    Material(String),
    /// The certificate does not chain to a trusted CA at signing time.
    #[error("certificate: {0}")]
    Certificate(String),
    /// No valid signed certificate timestamp from a trusted CT log.
    #[error("certificate transparency: {0}")]
    Sct(String),
    /// The certificate's identity is not the one expected.
    #[error("identity: {0}")]
    Identity(String),
    /// The signature over the artifact or envelope does not verify.
    #[error("signature: {0}")]
    Signature(String),
    /// The bundle is about another artifact.
    #[error("artifact: {0}")]
    Artifact(String),
    /// The log entry does not match the bundle, or its log is unknown.
    #[error("transparency log entry: {0}")]
    TlogEntry(String),
    /// The Merkle inclusion proof does not verify.
    #[error("inclusion proof: {0}")]
    InclusionProof(String),
    /// The checkpoint is malformed or not signed by the log.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The signed entry timestamp does not verify.
    #[error("signed entry timestamp: {0}")]
    SignedEntryTimestamp(String),
    /// An RFC 3161 timestamp does not verify, or no trusted time exists.
    #[error("timestamp: {0}")]
    Timestamp(String),
}

impl BundleError {
    /// The check that failed, as a stable kebab-case name.
    pub fn class(&self) -> &'static str {
        match self {
            BundleError::Malformed(_) => "malformed",
            BundleError::UnsupportedVersion(_) => "unsupported-version",
            BundleError::TrustedRoot(_) => "trusted-root",
            BundleError::Material(_) => "material",
            BundleError::Certificate(_) => "certificate",
            BundleError::Sct(_) => "sct",
            BundleError::Identity(_) => "identity",
            BundleError::Signature(_) => "signature",
            BundleError::Artifact(_) => "artifact",
            BundleError::TlogEntry(_) => "tlog-entry",
            BundleError::InclusionProof(_) => "inclusion-proof",
            BundleError::Checkpoint(_) => "checkpoint",
            BundleError::SignedEntryTimestamp(_) => "signed-entry-timestamp",
            BundleError::Timestamp(_) => "timestamp",
        }
    }
}

/// Reads a bundle from JSON, checking its media type.
pub fn parse_bundle(json: &[u8]) -> Result<Bundle, BundleError> {
    let bundle: Bundle =
        serde_json::from_slice(json).map_err(|e| BundleError::Malformed(e.to_string()))?;
    match bundle.media_type.as_str() {
        types::MEDIA_TYPE_V01
        | types::MEDIA_TYPE_V02
        | types::MEDIA_TYPE_V03
        | types::MEDIA_TYPE_V03_OLD => Ok(bundle),
        other => Err(BundleError::UnsupportedVersion(other.to_string())),
    }
}
