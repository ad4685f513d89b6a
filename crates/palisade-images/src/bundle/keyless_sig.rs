//! cosign's legacy keyless signatures: a `.sig` layer whose annotations
//! carry the Fulcio certificate (`dev.sigstore.cosign/certificate`), its
//! chain (`dev.sigstore.cosign/chain`) and the Rekor signed entry
//! timestamp (`dev.sigstore.cosign/bundle`).
//!
//! The layer is read as the v0.1 Sigstore bundle it is equivalent to (a
//! message signature over the simple-signing payload, the leaf
//! certificate, one Rekor entry with its inclusion promise) and verified by
//! [`verify_bundle`]: signature, Rekor body, SET, chain and SCT at the
//! integration time, identity. Only the trusted root's CAs are trusted:
//! the chain annotation is informative, as in cosign with a trusted root.

use super::types::{
    pem_der, Bundle, CertificateChain, InclusionPromise, KindVersion, LogId, MessageSignature,
    RawBytes, TlogEntry, MEDIA_TYPE_V01,
};
use super::verify::{verify_bundle, Artifact, Expectation, Identity};
use super::{BundleError, TrustedRoot};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Deserialize;

/// The layer annotation holding the PEM leaf certificate.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The layer annotation holding the PEM intermediates and root.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// The layer annotation holding the Rekor signed entry timestamp (JSON).
pub const REKOR_BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";

/// The keyless material of one `.sig` layer, as its annotations hold it.
#[derive(Debug, Clone, Default)]
pub struct KeylessMaterial {
    /// The PEM leaf certificate.
    pub certificate: String,
    /// The PEM chain, when present.
    pub chain: Option<String>,
    /// The Rekor bundle JSON, when present.
    pub rekor_bundle: Option<String>,
}

/// cosign's `dev.sigstore.cosign/bundle` annotation.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RekorBundle {
    signed_entry_timestamp: String,
    payload: RekorPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekorPayload {
    body: String,
    integrated_time: i64,
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// The kind and version a Rekor body names.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BodyKind {
    kind: String,
    api_version: String,
}

fn malformed(what: &str) -> BundleError {
    BundleError::Malformed(what.to_string())
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The Rekor entry of the `dev.sigstore.cosign/bundle` annotation.
fn tlog_entry(json: &str) -> Result<TlogEntry, BundleError> {
    let rb: RekorBundle = serde_json::from_str(json)
        .map_err(|e| BundleError::Malformed(format!("{REKOR_BUNDLE_ANNOTATION}: {e}")))?;
    let set = B64
        .decode(&rb.signed_entry_timestamp)
        .map_err(|_| malformed("SignedEntryTimestamp is not base64"))?;
    let body = B64
        .decode(&rb.payload.body)
        .map_err(|_| malformed("the Rekor body is not base64"))?;
    let kind: BodyKind = serde_json::from_slice(&body)
        .map_err(|e| BundleError::Malformed(format!("the Rekor body: {e}")))?;
    let key_id = hex_decode(&rb.payload.log_id).ok_or_else(|| malformed("logID is not hex"))?;
    Ok(TlogEntry {
        log_index: rb.payload.log_index,
        log_id: LogId { key_id },
        kind_version: KindVersion {
            kind: kind.kind,
            version: kind.api_version,
        },
        integrated_time: rb.payload.integrated_time,
        inclusion_promise: Some(InclusionPromise {
            signed_entry_timestamp: set,
        }),
        inclusion_proof: None,
        canonicalized_body: body,
    })
}

/// The v0.1 bundle equivalent to a legacy keyless signature.
pub fn to_bundle(m: &KeylessMaterial, signature: &[u8]) -> Result<Bundle, BundleError> {
    let leaf = pem_der(m.certificate.as_bytes())
        .filter(|der| !der.is_empty())
        .ok_or_else(|| malformed("the certificate annotation is not a PEM certificate"))?;
    let rekor = m.rekor_bundle.as_deref().ok_or_else(|| {
        BundleError::SignedEntryTimestamp(format!(
            "no {REKOR_BUNDLE_ANNOTATION} annotation: the signature was never logged"
        ))
    })?;
    Ok(Bundle {
        media_type: MEDIA_TYPE_V01.to_string(),
        verification_material: super::types::VerificationMaterial {
            x509_certificate_chain: Some(CertificateChain {
                certificates: vec![RawBytes { raw_bytes: leaf }],
            }),
            tlog_entries: vec![tlog_entry(rekor)?],
            ..Default::default()
        },
        message_signature: Some(MessageSignature {
            message_digest: None,
            signature: signature.to_vec(),
        }),
        dsse_envelope: None,
    })
}

/// Verifies a legacy keyless signature over `payload` for `identity`
/// with `root`. The payload's content (image digest) is the caller's.
pub fn verify_keyless_signature(
    m: &KeylessMaterial,
    payload: &[u8],
    signature: &[u8],
    identity: &Identity,
    root: &TrustedRoot,
) -> Result<(), BundleError> {
    let bundle = to_bundle(m, signature)?;
    let expect = Expectation::Identity(identity.clone());
    verify_bundle(&bundle, &Artifact::Bytes(payload), &expect, Some(root)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_decoded_only_when_well_formed() {
        assert_eq!(hex_decode("c0d2"), Some(vec![0xc0, 0xd2]));
        assert_eq!(hex_decode("c0d"), None);
        assert_eq!(hex_decode("zz"), None);
    }

    #[test]
    fn malformed_annotations_are_errors() {
        let m = KeylessMaterial {
            certificate: "not pem".into(),
            ..Default::default()
        };
        assert_eq!(to_bundle(&m, b"s").unwrap_err().class(), "malformed");
        let m = KeylessMaterial {
            certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            chain: None,
            rekor_bundle: None,
        };
        let e = to_bundle(&m, b"s").unwrap_err();
        assert_eq!(e.class(), "signed-entry-timestamp");
        let m = KeylessMaterial {
            rekor_bundle: Some("{\"SignedEntryTimestamp\":\"!!\"}".into()),
            ..m
        };
        assert_eq!(to_bundle(&m, b"s").unwrap_err().class(), "malformed");
    }
}
