//! DSSE envelopes around in-toto statements, as cosign attestations carry
//! them: the signature is over the pre-authentication encoding (PAE).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The DSSE payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// The payload's type.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The payload, base64.
    pub payload: String,
    /// The signatures.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// Key hint (cosign writes "").
    #[serde(default)]
    pub keyid: String,
    /// The signature, base64.
    pub sig: String,
}

/// `DSSEv1 <len(type)> <type> <len(body)> <body>`.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

impl Envelope {
    /// An in-toto envelope of `statement` signed by `sign`.
    pub fn sign_statement(statement: &[u8], sign: impl Fn(&[u8]) -> Vec<u8>) -> Envelope {
        let sig = sign(&pae(IN_TOTO_PAYLOAD_TYPE, statement));
        Envelope {
            payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
            payload: B64.encode(statement),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: B64.encode(sig),
            }],
        }
    }

    /// The decoded payload.
    pub fn body(&self) -> Result<Vec<u8>, String> {
        B64.decode(&self.payload)
            .map_err(|e| format!("envelope payload is not base64: {e}"))
    }

    /// Whether one of the signatures verifies with `verify` over the PAE.
    pub fn verified_by(&self, body: &[u8], verify: impl Fn(&[u8], &[u8]) -> bool) -> bool {
        let msg = pae(&self.payload_type, body);
        self.signatures
            .iter()
            .filter_map(|s| B64.decode(&s.sig).ok())
            .any(|sig| verify(&msg, &sig))
    }
}

/// The parts of an in-toto statement (v0.1 or v1) a policy reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Statement {
    /// `https://in-toto.io/Statement/v0.1` or `/v1`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// What it is about.
    #[serde(default)]
    pub subject: Vec<Subject>,
    /// The predicate's type.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate.
    #[serde(default)]
    pub predicate: Value,
}

/// A subject of a statement.
#[derive(Debug, Clone, Deserialize)]
pub struct Subject {
    /// Its name (the repository, for cosign).
    #[serde(default)]
    pub name: String,
    /// Algorithm -> hex digest.
    #[serde(default)]
    pub digest: std::collections::BTreeMap<String, String>,
}

impl Statement {
    /// Whether a subject is the image `digest` (`sha256:<hex>`).
    pub fn is_about(&self, digest: &str) -> bool {
        let Some((alg, hex)) = digest.split_once(':') else {
            return false;
        };
        self.subject.iter().any(|s| {
            s.digest
                .get(alg)
                .is_some_and(|h| h.eq_ignore_ascii_case(hex))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_dsse_encoding() {
        assert_eq!(pae("t", b"ab"), b"DSSEv1 1 t 2 ab");
    }
}
