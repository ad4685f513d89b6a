//! Bundles on images, as cosign 3 and `actions/attest-build-provenance`
//! store them: an OCI 1.1 artifact manifest (artifact type
//! `application/vnd.dev.sigstore.bundle.v0.3+json`, the bundle as its one
//! layer, an empty config) whose `subject` is the image manifest; found
//! through the referrers API, or the referrers fallback tag
//! `sha256-<hex>` (an image index) on registries without it.

use super::types::{MEDIA_TYPE_V03, MEDIA_TYPE_V03_OLD};
use super::{parse_bundle, Bundle};
use crate::error::{ImageError, RegistryError};
use crate::reference::ImageRef;
use crate::registry::{sha256_digest, Registry};
use serde_json::{json, Value};

/// The OCI image manifest media type.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI image index media type.
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The empty descriptor's media type and content (OCI 1.1).
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// cosign's annotation naming what the bundle holds.
pub const CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
/// cosign's (unsigned) annotation naming the predicate type.
pub const PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

/// Whether an artifact or layer media type is a Sigstore bundle.
fn is_bundle_type(t: &str) -> bool {
    t == MEDIA_TYPE_V03 || t == MEDIA_TYPE_V03_OLD
}

/// A bundle found on an image, or why it could not be read.
pub type BundleCandidate = Result<Bundle, String>;

/// A bundle found on an image with the (unsigned) predicate type its
/// referrer descriptor announces: a pre-filter only, the signed statement
/// decides.
#[derive(Debug, Clone)]
pub struct FoundBundle {
    /// `dev.sigstore.bundle.predicateType`, when annotated.
    pub predicate_type: Option<String>,
    /// The bundle.
    pub bundle: BundleCandidate,
}

/// The bundles referring to `digest` of `image`'s repository.
pub async fn fetch_bundles(
    reg: &Registry,
    image: &ImageRef,
    digest: &str,
) -> Result<Vec<FoundBundle>, RegistryError> {
    let subject = image.with_digest(digest);
    let entries = reg.referrers(&subject).await?;
    let reads = entries
        .iter()
        .filter(|e| e.artifact_type.as_deref().is_some_and(is_bundle_type))
        .map(|e| async move {
            let predicate_type = e
                .annotations
                .as_ref()
                .and_then(|a| a.get(PREDICATE_ANNOTATION).cloned());
            let bundle = read_entry(reg, image, &e.digest).await?;
            Ok(FoundBundle {
                predicate_type,
                bundle,
            })
        });
    futures_util::future::join_all(reads)
        .await
        .into_iter()
        .collect()
}

/// One referrer: its manifest, then its bundle layer.
async fn read_entry(
    reg: &Registry,
    image: &ImageRef,
    digest: &str,
) -> Result<BundleCandidate, RegistryError> {
    match reg.manifest(&image.with_digest(digest)).await? {
        None => Ok(Err(format!("referrer {digest} is missing"))),
        Some((body, _)) => read_referrer(reg, image, digest, &body).await,
    }
}

/// The bundle layer of one referrer manifest.
async fn read_referrer(
    reg: &Registry,
    image: &ImageRef,
    digest: &str,
    body: &[u8],
) -> Result<BundleCandidate, RegistryError> {
    let manifest: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Ok(Err(format!("referrer {digest} is not JSON: {e}"))),
    };
    let layer = manifest["layers"].as_array().and_then(|ls| {
        ls.iter()
            .find(|l| l["mediaType"].as_str().is_some_and(is_bundle_type))
    });
    let (Some(ld), Some(size)) = (
        layer.and_then(|l| l["digest"].as_str()),
        layer.and_then(|l| l["size"].as_i64()),
    ) else {
        return Ok(Err(format!("referrer {digest} has no bundle layer")));
    };
    let blob = reg.blob(&image.with_digest(digest), ld, size).await?;
    Ok(parse_bundle(&blob).map_err(|e| format!("bundle {ld}: {e}")))
}

/// Where a bundle was written.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The referrer manifest's digest.
    pub manifest: String,
    /// Whether the fallback tag was written (the registry lacks the
    /// referrers API).
    pub fallback_tag: Option<String>,
}

/// Pushes `bundle_json` as a referrer of `digest` of `image`.
pub async fn push_bundle(
    reg: &Registry,
    image: &ImageRef,
    digest: &str,
    bundle_json: Vec<u8>,
    predicate_type: &str,
) -> Result<Pushed, ImageError> {
    let subject_ref = image.with_digest(digest);
    let (subject_body, _) = reg
        .manifest(&subject_ref)
        .await?
        .ok_or_else(|| RegistryError::NotFound(subject_ref.whole()))?;
    let subject_type = serde_json::from_slice::<Value>(&subject_body)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_string))
        .unwrap_or_else(|| OCI_MANIFEST.to_string());
    let bundle_size = bundle_json.len();
    let bundle_digest = reg.push_blob(&subject_ref, bundle_json).await?;
    let empty_digest = reg.push_blob(&subject_ref, b"{}".to_vec()).await?;
    let annotations = json!({
        CONTENT_ANNOTATION: "dsse-envelope",
        PREDICATE_ANNOTATION: predicate_type,
    });
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": MEDIA_TYPE_V03,
        "config": {"mediaType": OCI_EMPTY, "digest": empty_digest, "size": 2},
        "layers": [{"mediaType": MEDIA_TYPE_V03, "digest": bundle_digest, "size": bundle_size}],
        "subject": {"mediaType": subject_type, "digest": digest, "size": subject_body.len()},
        "annotations": annotations,
    });
    let body = serde_json::to_vec(&manifest).map_err(|e| ImageError::Other(e.to_string()))?;
    let manifest_digest = sha256_digest(&body);
    let size = body.len();
    reg.push_manifest(&image.with_digest(&manifest_digest), body, OCI_MANIFEST)
        .await?;
    let listed = reg
        .referrers(&subject_ref)
        .await?
        .iter()
        .any(|e| e.digest == manifest_digest);
    let fallback_tag = if listed {
        None
    } else {
        let entry = json!({
            "mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": size,
            "artifactType": MEDIA_TYPE_V03, "annotations": annotations,
        });
        Some(add_to_fallback_index(reg, image, digest, entry).await?)
    };
    Ok(Pushed {
        manifest: manifest_digest,
        fallback_tag,
    })
}

/// Adds `entry` to the image index under the fallback tag of `digest`.
async fn add_to_fallback_index(
    reg: &Registry,
    image: &ImageRef,
    digest: &str,
    entry: Value,
) -> Result<String, ImageError> {
    let tag = digest.replace(':', "-");
    let tag_ref = image.with_tag(&tag);
    let mut index = match reg.manifest(&tag_ref).await? {
        Some((body, _)) => serde_json::from_slice::<Value>(&body).map_err(|e| {
            ImageError::Other(format!("{}: not an image index: {e}", tag_ref.whole()))
        })?,
        None => json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}),
    };
    let manifests = index["manifests"]
        .as_array_mut()
        .ok_or_else(|| ImageError::Other(format!("{}: not an image index", tag_ref.whole())))?;
    if !manifests.iter().any(|m| m["digest"] == entry["digest"]) {
        manifests.push(entry);
    }
    let body = serde_json::to_vec(&index).map_err(|e| ImageError::Other(e.to_string()))?;
    reg.push_manifest(&tag_ref, body, OCI_INDEX).await?;
    Ok(tag_ref.whole())
}
