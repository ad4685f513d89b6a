//! cosign's legacy layout: signatures under the tag `sha256-<hex>.sig`
//! (simple-signing payloads, the signature in a layer annotation) and
//! attestations under `sha256-<hex>.att` (DSSE envelopes as layers).
//!
//! Fetching gives candidates; checking a candidate against a key and the
//! image digest is pure (see [`check_signature`], [`check_attestation`]).

use crate::bundle::keyless_sig::{
    verify_keyless_signature, KeylessMaterial, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION,
    REKOR_BUNDLE_ANNOTATION,
};
use crate::bundle::{Identity, TrustedRoot};
use crate::dsse::{Envelope, Statement, IN_TOTO_PAYLOAD_TYPE};
use crate::error::RegistryError;
use crate::keys::PublicKey;
use crate::reference::{attached_tag, ImageRef};
use crate::registry::Registry;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The media type cosign gives signature layers.
pub const SIMPLESIGNING_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The media type the cosign documentation names for them (also accepted).
pub const SIMPLESIGNING_TYPE_ALT: &str =
    "application/vnd.dev.cosignproject.cosign/simplesigning.v1+json";
/// The media type of attestation layers.
pub const DSSE_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The layer annotation holding a signature (base64).
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The (unsigned) layer annotation naming an attestation's predicate type.
pub const PREDICATE_ANNOTATION: &str = "predicateType";

/// An OCI image manifest as cosign writes `.sig` and `.att`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// A content descriptor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: i64,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A signature found under `.sig`: the signed payload and the signature.
#[derive(Debug, Clone)]
pub struct SignatureCandidate {
    /// The simple-signing payload as stored (what was signed).
    pub payload: Vec<u8>,
    /// The signature bytes, or why they could not be read.
    pub signature: Result<Vec<u8>, String>,
    /// The Fulcio certificate, chain and Rekor entry of a keyless
    /// signature (`None` for a key-signed one).
    pub keyless: Option<KeylessMaterial>,
}

/// An attestation found under `.att`: the envelope, or why it is unreadable.
pub type AttestationCandidate = Result<Envelope, String>;

/// The signatures attached to `digest` of `image`'s repository.
pub async fn fetch_signatures(
    reg: &Registry,
    image: &ImageRef,
    digest: &str,
) -> Result<Vec<SignatureCandidate>, RegistryError> {
    let Some(manifest) = fetch_manifest(reg, image, digest, "sig").await? else {
        return Ok(Vec::new());
    };
    let repo = image.with_digest(digest);
    let layers = manifest
        .layers
        .into_iter()
        .filter(|l| l.media_type == SIMPLESIGNING_TYPE || l.media_type == SIMPLESIGNING_TYPE_ALT);
    let fetched = fetch_blobs(reg, &repo, layers).await?;
    Ok(fetched
        .into_iter()
        .map(|(layer, payload)| SignatureCandidate {
            payload,
            signature: match layer.annotations.get(SIGNATURE_ANNOTATION) {
                None => Err("layer has no signature annotation".to_string()),
                Some(s) => B64
                    .decode(s)
                    .map_err(|e| format!("signature annotation is not base64: {e}")),
            },
            keyless: keyless_material(&layer.annotations),
        })
        .collect())
}

/// Blobs fetched at once (per `.sig` or `.att` manifest): a pipeline's
/// attestations are fetched side by side instead of one round trip each.
const BLOB_CONCURRENCY: usize = 4;

/// The blobs of `layers`, in their order, fetched [`BLOB_CONCURRENCY`] at a
/// time; the first registry error ends the fetch.
async fn fetch_blobs(
    reg: &Registry,
    repo: &oci_client::Reference,
    layers: impl Iterator<Item = Descriptor>,
) -> Result<Vec<(Descriptor, Vec<u8>)>, RegistryError> {
    use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
    stream::iter(layers.map(|layer| async move {
        let blob = reg.blob(repo, &layer.digest, layer.size).await?;
        Ok::<_, RegistryError>((layer, blob))
    }))
    .buffered(BLOB_CONCURRENCY)
    .try_collect()
    .await
}

/// The attestations attached to `digest` of `image`'s repository whose
/// (unsigned) predicate-type annotation is absent or one of `types`.
pub async fn fetch_attestations(
    reg: &Registry,
    image: &ImageRef,
    digest: &str,
    types: &[&str],
) -> Result<Vec<AttestationCandidate>, RegistryError> {
    let Some(manifest) = fetch_manifest(reg, image, digest, "att").await? else {
        return Ok(Vec::new());
    };
    let repo = image.with_digest(digest);
    let layers = manifest.layers.into_iter().filter(|l| {
        // the predicate-type annotation is a pre-filter only: the signed
        // statement decides
        l.media_type == DSSE_TYPE
            && l.annotations
                .get(PREDICATE_ANNOTATION)
                .is_none_or(|t| types.contains(&t.as_str()))
    });
    let fetched = fetch_blobs(reg, &repo, layers).await?;
    Ok(fetched
        .into_iter()
        .map(|(layer, blob)| {
            serde_json::from_slice::<Envelope>(&blob).map_err(|e| {
                format!(
                    "attestation layer {} is not a DSSE envelope: {e}",
                    layer.digest
                )
            })
        })
        .collect())
}

/// The keyless annotations of a `.sig` layer, when it has a certificate.
pub fn keyless_material(annotations: &BTreeMap<String, String>) -> Option<KeylessMaterial> {
    Some(KeylessMaterial {
        certificate: annotations.get(CERTIFICATE_ANNOTATION)?.clone(),
        chain: annotations.get(CHAIN_ANNOTATION).cloned(),
        rekor_bundle: annotations.get(REKOR_BUNDLE_ANNOTATION).cloned(),
    })
}

async fn fetch_manifest(
    reg: &Registry,
    image: &ImageRef,
    digest: &str,
    suffix: &str,
) -> Result<Option<Manifest>, RegistryError> {
    let tag = image.with_tag(&attached_tag(digest, suffix));
    let Some((body, _)) = reg.manifest(&tag).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| RegistryError::Other(format!("{}: not an OCI manifest: {e}", tag.whole())))
}

/// Why a signature candidate does not vouch for `digest` with `key`
/// (`Ok` when it does).
pub fn check_signature(
    key: &PublicKey,
    c: &SignatureCandidate,
    digest: &str,
) -> Result<(), String> {
    let sig = c.signature.as_ref().map_err(Clone::clone)?;
    if !key.verify(&c.payload, sig) {
        return Err("signature does not verify with this key".into());
    }
    check_payload(&c.payload, digest)
}

/// Why a signature candidate does not vouch for `digest` for the keyless
/// `identity` under `root` (`Ok` when it does): the candidate must carry
/// a certificate, and verify as a Sigstore bundle would (see
/// [`crate::bundle::keyless_sig`]).
pub fn check_keyless_signature(
    identity: &Identity,
    root: &TrustedRoot,
    c: &SignatureCandidate,
    digest: &str,
) -> Result<(), String> {
    let Some(material) = &c.keyless else {
        return Err(format!(
            "signature has no {CERTIFICATE_ANNOTATION} annotation: {NOT_KEYLESS}"
        ));
    };
    let sig = c.signature.as_ref().map_err(Clone::clone)?;
    verify_keyless_signature(material, &c.payload, sig, identity, root)
        .map_err(|e| format!("keyless signature: {e}"))?;
    check_payload(&c.payload, digest)
}

/// The end of the reason given when a keyless attestor meets a
/// key-signed `.sig`.
pub const NOT_KEYLESS: &str = "signed with a key, not for a keyless attestor";

/// Why a verified simple-signing payload is not about `digest`.
fn check_payload(payload: &[u8], digest: &str) -> Result<(), String> {
    let payload: Value =
        serde_json::from_slice(payload).map_err(|e| format!("signed payload is not JSON: {e}"))?;
    let critical = &payload["critical"];
    if critical["type"] != "cosign container image signature" {
        return Err(format!(
            "signed payload has type {}, not a cosign container image signature",
            critical["type"]
        ));
    }
    match critical["image"]["docker-manifest-digest"].as_str() {
        Some(d) if d == digest => Ok(()),
        Some(d) => Err(format!(
            "signed payload names digest {d}, not the image digest {digest}"
        )),
        None => Err("signed payload names no image digest".into()),
    }
}

/// What an attestation must be: its predicate type and CEL condition.
pub struct AttestationCheck<'a> {
    /// The expected predicate type.
    pub predicate_type: &'a str,
    /// The condition over the predicate, when there is one.
    pub condition: Option<&'a crate::condition::Condition>,
}

/// Why an attestation candidate does not vouch for `digest` with `key`
/// (`Ok` when it does).
pub fn check_attestation(
    key: &PublicKey,
    c: &AttestationCandidate,
    digest: &str,
    want: &AttestationCheck<'_>,
) -> Result<(), String> {
    let env = c.as_ref().map_err(Clone::clone)?;
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(format!(
            "envelope payload type {} is not in-toto",
            env.payload_type
        ));
    }
    let body = env.body()?;
    if !env.verified_by(&body, |m, s| key.verify(m, s)) {
        return Err("attestation signature does not verify with this key".into());
    }
    let st: Statement = serde_json::from_slice(&body)
        .map_err(|e| format!("signed statement is not in-toto: {e}"))?;
    if !st.type_.starts_with("https://in-toto.io/Statement/") {
        return Err(format!("signed statement has _type {}", st.type_));
    }
    if !st.is_about(digest) {
        return Err(format!("attestation is for another subject, not {digest}"));
    }
    if st.predicate_type != want.predicate_type {
        return Err(format!(
            "attestation has predicate type {}, not {}",
            st.predicate_type, want.predicate_type
        ));
    }
    match want.condition {
        None => Ok(()),
        Some(cond) => cond.eval(&st.predicate),
    }
}

/// The simple-signing payload cosign signs for `digest` of repository `name`.
pub fn signature_payload(name: &str, digest: &str) -> Vec<u8> {
    serde_json::json!({
        "critical": {
            "identity": {"docker-reference": name},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature"
        },
        "optional": null
    })
    .to_string()
    .into_bytes()
}
