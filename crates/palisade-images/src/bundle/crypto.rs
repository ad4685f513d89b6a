//! Signature checks with an explicit hash, over RustCrypto's verifiers.

use crate::keys::PublicKey;
use rsa::signature::Verifier;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A hash algorithm named by a signature or digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The digest of `data`.
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// The hash of an algorithm OID (digest or signature algorithm).
    pub(crate) fn from_oid(oid: &str) -> Option<Hash> {
        match oid {
            "2.16.840.1.101.3.4.2.1" | "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => {
                Some(Hash::Sha256)
            }
            "2.16.840.1.101.3.4.2.2" | "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => {
                Some(Hash::Sha384)
            }
            "2.16.840.1.101.3.4.2.3" | "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => {
                Some(Hash::Sha512)
            }
            _ => None,
        }
    }
}

/// Whether `sig` is `key`'s signature over `msg` hashed with `hash`
/// (Ed25519 signs the message itself and ignores `hash`).
pub(crate) fn verify(key: &PublicKey, hash: Hash, msg: &[u8], sig: &[u8]) -> bool {
    verify_prehash(key, hash, &hash.digest(msg), sig)
        || matches!(key, PublicKey::Ed25519(_)) && key.verify(msg, sig)
}

/// Whether `sig` is `key`'s signature over the digest `prehash` (made with
/// `hash`). Ed25519 cannot verify a digest: always false.
pub(crate) fn verify_prehash(key: &PublicKey, hash: Hash, prehash: &[u8], sig: &[u8]) -> bool {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    match key {
        PublicKey::P256(k) => p256::ecdsa::Signature::from_der(sig)
            .is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok()),
        PublicKey::P384(k) => p384::ecdsa::Signature::from_der(sig)
            .is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok()),
        PublicKey::Rsa(k) => {
            let Ok(s) = rsa::pkcs1v15::Signature::try_from(sig) else {
                return false;
            };
            let k = (**k).clone();
            match hash {
                Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k)
                    .verify_prehash(prehash, &s)
                    .is_ok(),
                Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(k)
                    .verify_prehash(prehash, &s)
                    .is_ok(),
                Hash::Sha512 => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(k)
                    .verify_prehash(prehash, &s)
                    .is_ok(),
            }
        }
        PublicKey::Ed25519(_) => false,
    }
}

/// Whether `sig` verifies over `msg` with the hash the key's algorithm
/// implies (SHA-256 for P-256 and RSA, SHA-384 for P-384).
pub(crate) fn verify_default(key: &PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    let hash = match key {
        PublicKey::P384(_) => Hash::Sha384,
        _ => Hash::Sha256,
    };
    if let PublicKey::Rsa(k) = key {
        let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new((**k).clone());
        return rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok());
    }
    verify(key, hash, msg, sig)
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}
