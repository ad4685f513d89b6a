//! `palisade image sign`/`attest` in the bundle layout (the default): an
//! in-toto statement about the image digest in a DSSE envelope, in a
//! bundle v0.3 whose verification material is a public-key hint, pushed
//! as an OCI 1.1 referrer of the image. Signatures use cosign 3's
//! predicate type `https://sigstore.dev/cosign/sign/v1`.

use super::oci::push_bundle;
use super::types::{
    Bundle, DsseEnvelope, DsseSignature, PublicKeyIdentifier, VerificationMaterial, MEDIA_TYPE_V03,
};
use crate::dsse::{pae, IN_TOTO_PAYLOAD_TYPE};
use crate::error::ImageError;
use crate::reference::ImageRef;
use crate::registry::Registry;
use crate::sign::Written;
use crate::signer::SigningKey;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

/// The predicate type of an image signature in a bundle (cosign 3).
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";

/// A bundle of `key`'s DSSE signature over `statement`.
pub fn bundle_for(statement: &[u8], key: &SigningKey) -> Result<Bundle, ImageError> {
    let spki = key.public_key().to_der()?;
    let sig = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, statement));
    Ok(Bundle {
        media_type: MEDIA_TYPE_V03.into(),
        verification_material: VerificationMaterial {
            public_key: Some(PublicKeyIdentifier {
                hint: B64.encode(super::crypto::sha256(&spki)),
            }),
            ..VerificationMaterial::default()
        },
        message_signature: None,
        dsse_envelope: Some(DsseEnvelope {
            payload: statement.to_vec(),
            payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
            signatures: vec![DsseSignature {
                sig,
                keyid: String::new(),
            }],
        }),
    })
}

/// The in-toto statement v1 about `digest` of `image`.
pub fn statement(
    image: &ImageRef,
    digest: &str,
    predicate_type: &str,
    predicate: Option<Value>,
) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    let mut st = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": image.name(), "digest": {"sha256": hex}}],
        "predicateType": predicate_type,
    });
    if let Some(p) = predicate {
        st["predicate"] = p;
    }
    st.to_string().into_bytes()
}

/// Signs the digest `image` resolves to; pushes the bundle as a referrer.
pub async fn sign_bundle(
    reg: &Registry,
    image: &ImageRef,
    key: &SigningKey,
) -> Result<Written, ImageError> {
    write(reg, image, key, SIGN_PREDICATE_TYPE, None).await
}

/// Attests `predicate` of `predicate_type` about the digest `image`
/// resolves to; pushes the bundle as a referrer.
pub async fn attest_bundle(
    reg: &Registry,
    image: &ImageRef,
    key: &SigningKey,
    predicate_type: &str,
    predicate: Value,
) -> Result<Written, ImageError> {
    write(reg, image, key, predicate_type, Some(predicate)).await
}

async fn write(
    reg: &Registry,
    image: &ImageRef,
    key: &SigningKey,
    predicate_type: &str,
    predicate: Option<Value>,
) -> Result<Written, ImageError> {
    let digest = reg.resolve(image).await?;
    let st = statement(image, &digest, predicate_type, predicate);
    let bundle = bundle_for(&st, key)?;
    let json = serde_json::to_vec(&bundle).map_err(|e| ImageError::Other(e.to_string()))?;
    let pushed = push_bundle(reg, image, &digest, json, predicate_type).await?;
    let reference = match pushed.fallback_tag {
        Some(tag) => format!(
            "{}@{} (referrers fallback tag {tag})",
            image.name(),
            pushed.manifest
        ),
        None => format!("{}@{} (referrer)", image.name(), pushed.manifest),
    };
    Ok(Written { digest, reference })
}
