//! The JSON of Sigstore bundles (v0.1 to v0.3) and trusted roots, in the
//! protobuf-specs JSON mapping (camelCase, bytes as base64, 64-bit
//! integers as strings, zero values omitted). Only what verification reads
//! is modelled; unknown fields are ignored as protobuf JSON readers ignore
//! them.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};

/// Bundle media type, version 0.1.
pub const MEDIA_TYPE_V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
/// Bundle media type, version 0.2.
pub const MEDIA_TYPE_V02: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
/// Bundle media type, version 0.3 (old spelling).
pub const MEDIA_TYPE_V03_OLD: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";
/// Bundle media type, version 0.3 (current spelling; also the OCI artifact type).
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A Sigstore bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// The media type naming the version.
    pub media_type: String,
    /// Key or certificates, log entries, timestamps.
    pub verification_material: VerificationMaterial,
    /// A signature over a message (an artifact or its digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
    /// A DSSE envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<DsseEnvelope>,
}

/// What the verifier needs besides the trusted root.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// A hint naming a key the verifier knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// A chain, leaf first (bundles v0.1 and v0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    /// The leaf certificate alone (bundle v0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RawBytes>,
    /// Transparency-log entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlog_entries: Vec<TlogEntry>,
    /// RFC 3161 timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

/// A key hint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    /// The hint (free text).
    #[serde(default)]
    pub hint: String,
}

/// Certificates, leaf (or intermediate) first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CertificateChain {
    /// The certificates.
    #[serde(default)]
    pub certificates: Vec<RawBytes>,
}

/// DER bytes (base64 in JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    /// The bytes.
    #[serde(with = "b64")]
    pub raw_bytes: Vec<u8>,
}

/// RFC 3161 timestamps.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimestampVerificationData {
    /// The timestamps.
    #[serde(default)]
    pub rfc3161_timestamps: Vec<SignedTimestamp>,
}

/// One RFC 3161 timestamp token (DER).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedTimestamp {
    /// The DER token.
    #[serde(with = "b64")]
    pub signed_timestamp: Vec<u8>,
}

/// A signature over a message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    /// The message digest (a hint: the verifier hashes the artifact itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<HashOutput>,
    /// The signature.
    #[serde(with = "b64")]
    pub signature: Vec<u8>,
}

/// A digest and its algorithm (`SHA2_256`, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HashOutput {
    /// The algorithm.
    pub algorithm: String,
    /// The digest.
    #[serde(with = "b64")]
    pub digest: Vec<u8>,
}

/// A DSSE envelope as bundles carry it (payload bytes base64).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DsseEnvelope {
    /// The payload.
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
    /// Its type.
    pub payload_type: String,
    /// The signatures.
    pub signatures: Vec<DsseSignature>,
}

/// One DSSE signature.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DsseSignature {
    /// The signature.
    #[serde(with = "b64")]
    pub sig: Vec<u8>,
    /// The key id (often empty).
    #[serde(default)]
    pub keyid: String,
}

/// One transparency-log entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlogEntry {
    /// The entry's index in the log.
    #[serde(default, deserialize_with = "int64")]
    pub log_index: i64,
    /// The log's id (SHA-256 of its key).
    pub log_id: LogId,
    /// The entry's kind and version (`hashedrekord` `0.0.1`, ...).
    pub kind_version: KindVersion,
    /// When the log integrated it (Rekor v1; absent from Rekor v2).
    #[serde(default, deserialize_with = "int64", skip_serializing_if = "is_zero")]
    pub integrated_time: i64,
    /// The signed entry timestamp (Rekor v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    /// The Merkle inclusion proof with its checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    /// The entry body as logged.
    #[serde(with = "b64")]
    pub canonicalized_body: Vec<u8>,
}

/// A log id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// SHA-256 of the log's public key (DER).
    #[serde(with = "b64")]
    pub key_id: Vec<u8>,
}

/// Kind and version of a log entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KindVersion {
    /// The kind.
    pub kind: String,
    /// The version.
    pub version: String,
}

/// A signed entry timestamp.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// The log's signature over the entry (canonical JSON).
    #[serde(with = "b64")]
    pub signed_entry_timestamp: Vec<u8>,
}

/// An inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// The leaf's index in the tree.
    #[serde(default, deserialize_with = "int64")]
    pub log_index: i64,
    /// The tree's root hash.
    #[serde(with = "b64")]
    pub root_hash: Vec<u8>,
    /// The tree's size.
    #[serde(default, deserialize_with = "int64")]
    pub tree_size: i64,
    /// The sibling hashes, leaf to root.
    #[serde(default, with = "b64_vec")]
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint (a signed note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

/// A checkpoint as a signed note.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The note text with its signature lines.
    pub envelope: String,
}

/// A Sigstore trusted root (`trusted_root.json`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRootJson {
    /// Transparency logs.
    #[serde(default)]
    pub tlogs: Vec<TransparencyLog>,
    /// Fulcio certificate authorities.
    #[serde(default)]
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Certificate transparency logs.
    #[serde(default)]
    pub ctlogs: Vec<TransparencyLog>,
    /// Timestamp authorities.
    #[serde(default)]
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

/// A transparency log (Rekor or CT) of a trusted root.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLog {
    /// Where it lives.
    #[serde(default)]
    pub base_url: String,
    /// Its key.
    pub public_key: TrustedKey,
    /// Its id.
    pub log_id: LogId,
}

/// A log key with its validity.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedKey {
    /// DER (SubjectPublicKeyInfo, or PKCS#1 for some RSA keys).
    #[serde(default, with = "b64")]
    pub raw_bytes: Vec<u8>,
    /// The algorithm (`PKIX_ECDSA_P256_SHA_256`, ...).
    #[serde(default)]
    pub key_details: String,
    /// When the key may be used.
    #[serde(default)]
    pub valid_for: Option<TimeRange>,
}

/// A CA or TSA of a trusted root.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthority {
    /// Where it lives.
    #[serde(default)]
    pub uri: String,
    /// Its chain, leaf (or intermediate) first, root last.
    pub cert_chain: CertificateChain,
    /// When it may be used.
    #[serde(default)]
    pub valid_for: Option<TimeRange>,
}

/// A closed time interval (RFC 3339 strings).
#[derive(Debug, Clone, Deserialize)]
pub struct TimeRange {
    /// The start (required by the specification).
    #[serde(default)]
    pub start: Option<String>,
    /// The end (absent: open).
    #[serde(default)]
    pub end: Option<String>,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A protobuf JSON int64: a string or a number.
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int {
        S(String),
        N(i64),
    }
    match Int::deserialize(d)? {
        Int::N(n) => Ok(n),
        Int::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

/// Bytes as standard base64.
mod b64 {
    use super::*;
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        super::decode(&s).map_err(serde::de::Error::custom)
    }
}

/// A list of byte strings as base64.
mod b64_vec {
    use super::*;
    pub fn serialize<S: serde::Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|b| B64.encode(b)))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| super::decode(s).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Standard base64, or URL-safe as protobuf JSON also accepts; line
/// breaks (as some writers wrap long values) are ignored.
pub(crate) fn decode(s: &str) -> Result<Vec<u8>, String> {
    let joined: String;
    let s = if s.contains(['\n', '\r']) {
        joined = s.split(['\n', '\r']).collect();
        joined.as_str()
    } else {
        s
    };
    B64.decode(s)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
        .map_err(|e| format!("invalid base64: {e}"))
}

/// The DER inside one PEM block, whatever its line width (Rekor stores
/// PEM with long lines, which strict RFC 7468 readers refuse).
pub(crate) fn pem_der(pem: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(pem).ok()?;
    let body: String = text
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN "))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END "))
        .collect();
    B64.decode(body).ok()
}
