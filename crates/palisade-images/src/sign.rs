//! Signing and attesting in cosign's legacy layout: a layer appended to the
//! manifest under `sha256-<hex>.sig` or `.att` (created when absent), as
//! `cosign sign`/`cosign attest` without bundles do. A CI pipeline needs no
//! other tool.

use crate::dsse::Envelope;
use crate::error::ImageError;
use crate::legacy::{
    signature_payload, Descriptor, Manifest, DSSE_TYPE, PREDICATE_ANNOTATION, SIGNATURE_ANNOTATION,
    SIMPLESIGNING_TYPE,
};
use crate::reference::{attached_tag, ImageRef};
use crate::registry::Registry;
use crate::signer::SigningKey;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The OCI image manifest media type.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI image config media type.
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    /// The image digest signed or attested.
    pub digest: String,
    /// The reference of the manifest written (`repo:sha256-<hex>.sig`).
    pub reference: String,
}

/// Signs the digest `image` resolves to and appends the signature to `.sig`.
pub async fn sign_legacy(
    reg: &Registry,
    image: &ImageRef,
    key: &SigningKey,
) -> Result<Written, ImageError> {
    let digest = reg.resolve(image).await?;
    let payload = signature_payload(&image.name(), &digest);
    let sig = key.sign(&payload);
    let annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), B64.encode(sig))]);
    append_layer(
        reg,
        image,
        &digest,
        "sig",
        SIMPLESIGNING_TYPE,
        payload,
        annotations,
    )
    .await
}

/// Attests `predicate` of `predicate_type` about the digest `image`
/// resolves to (an in-toto Statement v1 in a DSSE envelope) and appends it
/// to `.att`.
pub async fn attest_legacy(
    reg: &Registry,
    image: &ImageRef,
    key: &SigningKey,
    predicate_type: &str,
    predicate: Value,
) -> Result<Written, ImageError> {
    let digest = reg.resolve(image).await?;
    let hex = digest.strip_prefix("sha256:").unwrap_or(&digest);
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": image.name(), "digest": {"sha256": hex}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    });
    let body = serde_json::to_vec(&statement).map_err(|e| ImageError::Other(e.to_string()))?;
    let env = Envelope::sign_statement(&body, |m| key.sign(m));
    let blob = serde_json::to_vec(&env).map_err(|e| ImageError::Other(e.to_string()))?;
    let annotations = BTreeMap::from([
        (PREDICATE_ANNOTATION.to_string(), predicate_type.to_string()),
        (SIGNATURE_ANNOTATION.to_string(), String::new()),
    ]);
    append_layer(reg, image, &digest, "att", DSSE_TYPE, blob, annotations).await
}

/// Pushes `data` and adds it as a layer to the manifest at the attached tag.
async fn append_layer(
    reg: &Registry,
    image: &ImageRef,
    digest: &str,
    suffix: &str,
    media_type: &str,
    data: Vec<u8>,
    annotations: BTreeMap<String, String>,
) -> Result<Written, ImageError> {
    let tag = image.with_tag(&attached_tag(digest, suffix));
    let size = data.len() as i64;
    let layer_digest = reg.push_blob(&tag, data).await?;
    let mut layers = match reg.manifest(&tag).await? {
        Some((body, _)) => serde_json::from_slice::<Manifest>(&body)
            .map(|m| m.layers)
            .map_err(|e| ImageError::Other(format!("{}: not an OCI manifest: {e}", tag.whole())))?,
        None => Vec::new(),
    };
    let layer = Descriptor {
        media_type: media_type.to_string(),
        digest: layer_digest,
        size,
        annotations,
    };
    if !layers
        .iter()
        .any(|l| l.digest == layer.digest && l.annotations == layer.annotations)
    {
        layers.push(layer);
    }
    let config = json!({
        "architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>()},
    });
    let config = serde_json::to_vec(&config).map_err(|e| ImageError::Other(e.to_string()))?;
    let config_size = config.len() as i64;
    let config_digest = reg.push_blob(&tag, config).await?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        config: Descriptor {
            media_type: OCI_CONFIG.into(),
            digest: config_digest,
            size: config_size,
            annotations: BTreeMap::new(),
        },
        layers,
    };
    let body = serde_json::to_vec(&manifest).map_err(|e| ImageError::Other(e.to_string()))?;
    reg.push_manifest(&tag, body, OCI_MANIFEST).await?;
    Ok(Written {
        digest: digest.to_string(),
        reference: tag.whole(),
    })
}
