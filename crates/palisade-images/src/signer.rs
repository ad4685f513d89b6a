//! Private keys that sign: PKCS#8 PEM (ECDSA P-256/P-384, Ed25519) and
//! cosign's encrypted format (scrypt + NaCl secretbox around PKCS#8 DER,
//! PEM label `ENCRYPTED SIGSTORE PRIVATE KEY` or the older
//! `ENCRYPTED COSIGN PRIVATE KEY`), read and written.

use crate::error::KeyError;
use crate::keys::PublicKey;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use crypto_secretbox::aead::{Aead, KeyInit};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};

/// A private key that signs.
pub enum SigningKey {
    /// ECDSA P-256 with SHA-256, DER signatures (cosign's default).
    P256(p256::ecdsa::SigningKey),
    /// ECDSA P-384 with SHA-384, DER signatures.
    P384(p384::ecdsa::SigningKey),
    /// Ed25519.
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// The PEM label cosign writes today.
pub const ENCRYPTED_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label of keys written by cosign before 2.0.
pub const ENCRYPTED_LABEL_OLD: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// cosign's scrypt work factor: N = 2^15, r = 8, p = 1.
const SCRYPT_LOG_N: u8 = 15;

impl SigningKey {
    /// A new random P-256 key.
    pub fn generate() -> SigningKey {
        use p256::elliptic_curve::Generate;
        let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
        SigningKey::P256(p256::ecdsa::SigningKey::generate_from_rng(&mut rng))
    }

    /// Reads a PEM private key; `password` opens an encrypted cosign key.
    pub fn from_pem(pem: &str, password: &[u8]) -> Result<SigningKey, KeyError> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
            .map_err(|e| KeyError::Invalid(format!("not a PEM private key: {e}")))?;
        let der = match label {
            ENCRYPTED_LABEL | ENCRYPTED_LABEL_OLD => decrypt(&der, password)?,
            "PRIVATE KEY" => der,
            other => {
                return Err(KeyError::Unsupported(format!(
                    "PEM `{other}` (expected PRIVATE KEY or {ENCRYPTED_LABEL})"
                )))
            }
        };
        Self::from_pkcs8_der(&der)
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<SigningKey, KeyError> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(SigningKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(SigningKey::P384(k));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(SigningKey::Ed25519(Box::new(k)));
        }
        Err(KeyError::Unsupported(
            "PKCS#8 key (signing supports ECDSA P-256/P-384 and Ed25519)".into(),
        ))
    }

    /// Signs `msg` (ECDSA signatures are DER, as cosign writes them).
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer;
        match self {
            SigningKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SigningKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SigningKey::Ed25519(k) => k.sign(msg).to_bytes().to_vec(),
        }
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            SigningKey::P384(k) => PublicKey::P384(*k.verifying_key()),
            SigningKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
        }
    }

    /// The public key as PEM (`PUBLIC KEY`).
    pub fn public_key_pem(&self) -> Result<String, KeyError> {
        let r = match self {
            SigningKey::P256(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
            SigningKey::P384(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
            SigningKey::Ed25519(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
        };
        r.map_err(|e| KeyError::Invalid(e.to_string()))
    }

    fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        let doc = match self {
            SigningKey::P256(k) => k.to_pkcs8_der(),
            SigningKey::P384(k) => k.to_pkcs8_der(),
            SigningKey::Ed25519(k) => k.to_pkcs8_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    /// The private key encrypted with `password` in cosign's format.
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<String, KeyError> {
        let der = self.to_pkcs8_der()?;
        let mut salt = [0u8; 32];
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut salt).map_err(|e| KeyError::Invalid(e.to_string()))?;
        getrandom::fill(&mut nonce).map_err(|e| KeyError::Invalid(e.to_string()))?;
        let params = ScryptParams {
            n: 1 << SCRYPT_LOG_N,
            r: 8,
            p: 1,
        };
        let key = derive(password, &salt, &params)?;
        let ciphertext = crypto_secretbox::XSalsa20Poly1305::new(&key.into())
            .encrypt(&nonce.into(), der.as_slice())
            .map_err(|_| KeyError::Invalid("encryption failed".into()))?;
        let envelope = Envelope {
            kdf: Kdf {
                name: "scrypt".into(),
                params,
                salt: B64.encode(salt),
            },
            cipher: Cipher {
                name: "nacl/secretbox".into(),
                nonce: B64.encode(nonce),
            },
            ciphertext: B64.encode(ciphertext),
        };
        let json = serde_json::to_vec(&envelope).map_err(|e| KeyError::Invalid(e.to_string()))?;
        pem_rfc7468::encode_string(ENCRYPTED_LABEL, pem_rfc7468::LineEnding::LF, &json)
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }
}

/// The JSON inside an encrypted cosign key.
#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[allow(non_snake_case)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// The secretbox key from `password` by scrypt.
fn derive(password: &[u8], salt: &[u8], p: &ScryptParams) -> Result<[u8; 32], KeyError> {
    if !p.n.is_power_of_two() || p.n < 2 || p.n > 1 << 20 {
        return Err(KeyError::Invalid(format!("scrypt N={} out of range", p.n)));
    }
    let log_n = p.n.trailing_zeros() as u8;
    let params = scrypt::Params::new(log_n, p.r, p.p)
        .map_err(|e| KeyError::Invalid(format!("scrypt parameters: {e}")))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key)
        .map_err(|e| KeyError::Invalid(format!("scrypt: {e}")))?;
    Ok(key)
}

/// The PKCS#8 DER inside an encrypted cosign key.
fn decrypt(json: &[u8], password: &[u8]) -> Result<Vec<u8>, KeyError> {
    let env: Envelope = serde_json::from_slice(json)
        .map_err(|e| KeyError::Invalid(format!("encrypted key: {e}")))?;
    if env.kdf.name != "scrypt" || env.cipher.name != "nacl/secretbox" {
        return Err(KeyError::Unsupported(format!(
            "encrypted key with kdf {} and cipher {}",
            env.kdf.name, env.cipher.name
        )));
    }
    let b64 = |what: &str, s: &str| {
        B64.decode(s)
            .map_err(|e| KeyError::Invalid(format!("encrypted key {what}: {e}")))
    };
    let salt = b64("salt", &env.kdf.salt)?;
    let nonce: [u8; 24] = b64("nonce", &env.cipher.nonce)?
        .try_into()
        .map_err(|_| KeyError::Invalid("encrypted key nonce: not 24 bytes".into()))?;
    let ciphertext = b64("ciphertext", &env.ciphertext)?;
    let key = derive(password, &salt, &env.kdf.params)?;
    crypto_secretbox::XSalsa20Poly1305::new(&key.into())
        .decrypt(&nonce.into(), ciphertext.as_slice())
        .map_err(|_| KeyError::Decrypt)
}
