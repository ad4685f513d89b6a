//! Log entry bodies checked against the bundle (CVE-2022-36056): the
//! logged digest, signature and certificate or key must be the bundle's,
//! for each entry kind Rekor v1 and v2 write.

use super::crypto::sha256;
use super::tlog::hex;
use super::types::{decode, pem_der, TlogEntry};
use super::BundleError;
use serde_json::Value;

/// What the bundle says was signed, for comparing with the log entry.
pub struct Signed<'a> {
    /// The signature (message signature, or the DSSE envelope's).
    pub signature: &'a [u8],
    /// The signer: certificate DER or SubjectPublicKeyInfo DER.
    pub verifier: &'a [u8],
    /// What the signature covers.
    pub content: Content<'a>,
}

/// The signed content.
pub enum Content<'a> {
    /// A message, by its SHA-256 digest.
    Message([u8; 32]),
    /// A DSSE envelope.
    Dsse {
        /// The payload bytes.
        payload: &'a [u8],
        /// SHA-256 of the PAE.
        pae_sha256: [u8; 32],
    },
}

fn entry_err(msg: impl Into<String>) -> BundleError {
    BundleError::TlogEntry(msg.into())
}

/// Checks that the entry's body records `signed`.
pub fn check_body(entry: &TlogEntry, signed: &Signed<'_>) -> Result<(), BundleError> {
    let body: Value = serde_json::from_slice(&entry.canonicalized_body)
        .map_err(|e| entry_err(format!("body is not JSON: {e}")))?;
    let kind = (
        entry.kind_version.kind.as_str(),
        entry.kind_version.version.as_str(),
    );
    let body_kind = (str_at(&body, "/kind"), str_at(&body, "/apiVersion"));
    if body_kind != (Some(kind.0), Some(kind.1)) {
        return Err(entry_err("kindVersion does not match the body"));
    }
    match kind {
        ("hashedrekord", "0.0.1") => hashedrekord_v1(&body, signed),
        ("hashedrekord", "0.0.2") => hashedrekord_v2(&body, signed),
        ("dsse", "0.0.1") => dsse_v1(&body, signed),
        ("intoto", "0.0.2") => intoto_v2(&body, signed),
        (k, v) => Err(entry_err(format!("unsupported entry kind {k} {v}"))),
    }
}

fn str_at<'v>(v: &'v Value, ptr: &str) -> Option<&'v str> {
    v.pointer(ptr).and_then(Value::as_str)
}

fn b64_at(v: &Value, ptr: &str) -> Result<Vec<u8>, BundleError> {
    let s = str_at(v, ptr).ok_or_else(|| entry_err(format!("body has no {ptr}")))?;
    decode(s).map_err(|e| entry_err(format!("{ptr}: {e}")))
}

fn expect(cond: bool, msg: &str) -> Result<(), BundleError> {
    if cond {
        Ok(())
    } else {
        Err(entry_err(msg))
    }
}

fn message_digest(signed: &Signed<'_>) -> [u8; 32] {
    match signed.content {
        Content::Message(d) => d,
        Content::Dsse { pae_sha256, .. } => pae_sha256,
    }
}

fn hashedrekord_v1(body: &Value, signed: &Signed<'_>) -> Result<(), BundleError> {
    let Content::Message(digest) = signed.content else {
        return Err(entry_err(
            "a hashedrekord 0.0.1 entry cannot record a DSSE envelope",
        ));
    };
    expect(
        str_at(body, "/spec/data/hash/algorithm") == Some("sha256")
            && str_at(body, "/spec/data/hash/value") == Some(hex(&digest).as_str()),
        "the entry records another artifact digest",
    )?;
    let sig = b64_at(body, "/spec/signature/content")?;
    expect(
        sig == signed.signature,
        "the entry records another signature",
    )?;
    let pem = b64_at(body, "/spec/signature/publicKey/content")?;
    expect(
        pem_der(&pem).as_deref() == Some(signed.verifier),
        "the entry records another certificate or key",
    )
}

fn hashedrekord_v2(body: &Value, signed: &Signed<'_>) -> Result<(), BundleError> {
    let spec = body
        .pointer("/spec/hashedRekordV002")
        .ok_or_else(|| entry_err("body has no hashedRekordV002"))?;
    expect(
        str_at(spec, "/data/algorithm") == Some("SHA2_256")
            && b64_at(spec, "/data/digest")? == message_digest(signed),
        "the entry records another artifact digest",
    )?;
    expect(
        b64_at(spec, "/signature/content")? == signed.signature,
        "the entry records another signature",
    )?;
    let verifier = b64_at(spec, "/signature/verifier/x509Certificate/rawBytes")
        .or_else(|_| b64_at(spec, "/signature/verifier/publicKey/rawBytes"))?;
    expect(
        verifier == signed.verifier,
        "the entry records another certificate or key",
    )
}

fn dsse_v1(body: &Value, signed: &Signed<'_>) -> Result<(), BundleError> {
    let Content::Dsse { payload, .. } = signed.content else {
        return Err(entry_err("a dsse entry cannot record a message signature"));
    };
    if let Some(proposed) = body.pointer("/spec/proposedContent") {
        return dsse_proposed(proposed, payload, signed);
    }
    expect(
        str_at(body, "/spec/payloadHash/algorithm") == Some("sha256")
            && str_at(body, "/spec/payloadHash/value") == Some(hex(&sha256(payload)).as_str()),
        "the entry records another payload",
    )?;
    let sigs = body
        .pointer("/spec/signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| entry_err("body has no signatures"))?;
    expect(
        sigs.len() == 1,
        "the entry records another set of signatures",
    )?;
    expect(
        b64_at(&sigs[0], "/signature")? == signed.signature,
        "the entry records another signature",
    )?;
    let pem = b64_at(&sigs[0], "/verifier")?;
    expect(
        pem_der(&pem).as_deref() == Some(signed.verifier),
        "the entry records another certificate or key",
    )
}

/// A dsse body as submitted (`proposedContent`: the envelope as JSON text
/// and the verifiers), as logs that store the proposed entry record it.
fn dsse_proposed(proposed: &Value, payload: &[u8], signed: &Signed<'_>) -> Result<(), BundleError> {
    let text = str_at(proposed, "/envelope").ok_or_else(|| entry_err("body has no envelope"))?;
    let env: Value =
        serde_json::from_str(text).map_err(|e| entry_err(format!("logged envelope: {e}")))?;
    expect(
        b64_at(&env, "/payload")? == payload,
        "the entry records another payload",
    )?;
    let sigs = env["signatures"]
        .as_array()
        .ok_or_else(|| entry_err("logged envelope has no signatures"))?;
    expect(
        sigs.len() == 1,
        "the entry records another set of signatures",
    )?;
    expect(
        b64_at(&sigs[0], "/sig")? == signed.signature,
        "the entry records another signature",
    )?;
    let verifiers = proposed["verifiers"]
        .as_array()
        .ok_or_else(|| entry_err("body has no verifiers"))?;
    expect(
        verifiers.len() == 1,
        "the entry records another set of verifiers",
    )?;
    let pem = decode(verifiers[0].as_str().unwrap_or_default()).map_err(entry_err)?;
    expect(
        pem_der(&pem).as_deref() == Some(signed.verifier),
        "the entry records another certificate or key",
    )
}

fn intoto_v2(body: &Value, signed: &Signed<'_>) -> Result<(), BundleError> {
    let Content::Dsse { payload, .. } = signed.content else {
        return Err(entry_err(
            "an intoto entry cannot record a message signature",
        ));
    };
    expect(
        str_at(body, "/spec/content/payloadHash/algorithm") == Some("sha256")
            && str_at(body, "/spec/content/payloadHash/value")
                == Some(hex(&sha256(payload)).as_str()),
        "the entry records another payload",
    )?;
    let sigs = body
        .pointer("/spec/content/envelope/signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| entry_err("body has no signatures"))?;
    expect(
        sigs.len() == 1,
        "the entry records another set of signatures",
    )?;
    // The logged signature is base64 of the envelope's base64 text.
    let sig_text = b64_at(&sigs[0], "/sig")?;
    let sig = decode(&String::from_utf8_lossy(&sig_text)).unwrap_or(sig_text);
    expect(
        sig == signed.signature,
        "the entry records another signature",
    )?;
    let pem = b64_at(&sigs[0], "/publicKey")?;
    expect(
        pem_der(&pem).as_deref() == Some(signed.verifier),
        "the entry records another certificate or key",
    )
}
