//! Public keys that verify signatures: ECDSA P-256 and P-384, RSA
//! (PKCS#1 v1.5) and Ed25519, read from PEM as cosign writes them.
//!
//! Signatures are checked by RustCrypto's implementations; this module only
//! picks the algorithm from the key.

use crate::error::KeyError;
use p256::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use sha2::{Digest, Sha256, Sha384};

/// A public key of one of the supported algorithms.
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// ECDSA on P-256, SHA-256 (cosign's default).
    P256(p256::ecdsa::VerifyingKey),
    /// ECDSA on P-384 (SHA-384, or SHA-256 as cosign signs by default).
    P384(p384::ecdsa::VerifyingKey),
    /// RSA, PKCS#1 v1.5 with SHA-256.
    Rsa(Box<rsa::PublicKey>),
    /// Ed25519 over the message itself.
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY`.
    pub fn from_pem(pem: &str) -> Result<PublicKey, KeyError> {
        let pem = pem.trim();
        if !pem.starts_with("-----BEGIN ") {
            return Err(KeyError::NotPem);
        }
        if pem.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            use rsa::pkcs1::DecodeRsaPublicKey;
            return rsa::PublicKey::from_pkcs1_pem(pem)
                .map(|k| PublicKey::Rsa(Box::new(k)))
                .map_err(|e| KeyError::Invalid(e.to_string()));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P384(k));
        }
        if let Ok(k) = rsa::PublicKey::from_public_key_pem(pem) {
            return Ok(PublicKey::Rsa(Box::new(k)));
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::Ed25519(k));
        }
        Err(unsupported(pem))
    }

    /// Reads a DER `SubjectPublicKeyInfo`, or a PKCS#1 `RSAPublicKey` as
    /// some trusted roots carry RSA keys.
    pub fn from_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(k));
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::Ed25519(k));
        }
        if let Ok(k) = rsa::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::Rsa(Box::new(k)));
        }
        use rsa::pkcs1::DecodeRsaPublicKey;
        if let Ok(k) = rsa::PublicKey::from_pkcs1_der(der) {
            return Ok(PublicKey::Rsa(Box::new(k)));
        }
        Err(KeyError::Invalid(
            "not a supported DER public key (ECDSA P-256/P-384, RSA, Ed25519)".into(),
        ))
    }

    /// The key as DER `SubjectPublicKeyInfo`.
    pub fn to_der(&self) -> Result<Vec<u8>, KeyError> {
        use pkcs8::EncodePublicKey;
        let doc = match self {
            PublicKey::P256(k) => k.to_public_key_der(),
            PublicKey::P384(k) => k.to_public_key_der(),
            PublicKey::Rsa(k) => k.to_public_key_der(),
            PublicKey::Ed25519(k) => k.to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    /// The algorithm, for messages (`ecdsa-p256`, `rsa`, ...).
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "ecdsa-p256",
            PublicKey::P384(_) => "ecdsa-p384",
            PublicKey::Rsa(_) => "rsa",
            PublicKey::Ed25519(_) => "ed25519",
        }
    }

    /// Whether `sig` is this key's signature over `msg`. ECDSA signatures
    /// are ASN.1 DER (as cosign writes them) or fixed-size `r || s`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match self {
            PublicKey::P256(k) => {
                use p256::ecdsa::signature::hazmat::PrehashVerifier;
                let Some(sig) = p256_sig(sig) else {
                    return false;
                };
                k.verify_prehash(&Sha256::digest(msg), &sig).is_ok()
            }
            PublicKey::P384(k) => {
                use p384::ecdsa::signature::hazmat::PrehashVerifier;
                let Some(sig) = p384_sig(sig) else {
                    return false;
                };
                k.verify_prehash(&Sha384::digest(msg), &sig).is_ok()
                    || k.verify_prehash(&Sha256::digest(msg), &sig).is_ok()
            }
            PublicKey::Rsa(k) => {
                let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new((**k).clone());
                rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
            PublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(msg, &s).is_ok()),
        }
    }
}

/// A P-256 signature in DER or fixed-size form.
fn p256_sig(sig: &[u8]) -> Option<p256::ecdsa::Signature> {
    p256::ecdsa::Signature::from_der(sig)
        .or_else(|_| p256::ecdsa::Signature::from_slice(sig))
        .ok()
}

/// A P-384 signature in DER or fixed-size form.
fn p384_sig(sig: &[u8]) -> Option<p384::ecdsa::Signature> {
    p384::ecdsa::Signature::from_der(sig)
        .or_else(|_| p384::ecdsa::Signature::from_slice(sig))
        .ok()
}

/// The error for a PEM key of no supported type: names the algorithm OID.
fn unsupported(pem: &str) -> KeyError {
    match spki::SubjectPublicKeyInfoOwned::from_pem_der(pem) {
        Some(oid) => KeyError::Unsupported(oid),
        None => KeyError::Invalid("not a PEM public key (SubjectPublicKeyInfo)".into()),
    }
}

/// Reading the algorithm of an SPKI for error messages.
trait AlgorithmOf {
    fn from_pem_der(pem: &str) -> Option<String>;
}

impl AlgorithmOf for spki::SubjectPublicKeyInfoOwned {
    fn from_pem_der(pem: &str) -> Option<String> {
        use spki::der::DecodePem;
        let info = spki::SubjectPublicKeyInfoOwned::from_pem(pem).ok()?;
        let params = info
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<spki::ObjectIdentifier>().ok())
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        Some(format!("{}{params}", info.algorithm.oid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_garbage_keys_are_errors() {
        assert!(matches!(
            PublicKey::from_pem("hello"),
            Err(KeyError::NotPem)
        ));
        let garbage = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            PublicKey::from_pem(garbage),
            Err(KeyError::Invalid(_))
        ));
    }
}
