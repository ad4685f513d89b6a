//! Fulcio certificates: the chain to a trusted CA at signing time
//! (rustls-webpki), the embedded signed certificate timestamps (RFC 6962)
//! and the identity (SAN and OIDC issuer extensions).

use super::crypto::{self, Hash};
use super::trusted_root::{Authority, TrustedRoot};
use super::BundleError;
use crate::keys::PublicKey;
use der::asn1::{OctetString, Utf8StringRef};
use der::{Any, Decode, Encode, Tag, Tagged};
use rustls_pki_types::{CertificateDer, UnixTime};
use std::time::Duration;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::Extension;
use x509_cert::Certificate;

/// Extended key usage: code signing (1.3.6.1.5.5.7.3.3), DER content.
const EKU_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
/// Extended key usage: time stamping (1.3.6.1.5.5.7.3.8), DER content.
pub(crate) const EKU_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
/// The embedded SCT list extension.
const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
/// Fulcio's OIDC issuer (v1, raw string; deprecated).
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// Fulcio's OIDC issuer (v2, DER UTF8String).
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";

/// A leaf certificate, parsed once.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The DER.
    pub der: Vec<u8>,
    /// The parsed certificate.
    pub cert: Certificate,
    /// Its public key.
    pub key: PublicKey,
}

impl Leaf {
    /// Parses a DER certificate and its key.
    pub fn parse(der: &[u8]) -> Result<Leaf, BundleError> {
        let cert = Certificate::from_der(der)
            .map_err(|e| BundleError::Certificate(format!("malformed certificate: {e}")))?;
        let spki = cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| BundleError::Certificate(e.to_string()))?;
        let key = PublicKey::from_der(&spki)
            .map_err(|e| BundleError::Certificate(format!("certificate key: {e}")))?;
        Ok(Leaf {
            der: der.to_vec(),
            cert,
            key,
        })
    }

    /// Whether the certificate is self-signed (a root).
    pub fn is_self_signed(&self) -> bool {
        let tbs = self.cert.tbs_certificate();
        tbs.issuer() == tbs.subject()
    }

    /// The validity interval, Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        let v = self.cert.tbs_certificate().validity();
        let s = |t: &x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
        (s(&v.not_before), s(&v.not_after))
    }

    /// The extension with this OID.
    fn extension(&self, oid: &str) -> Option<&Extension> {
        self.cert
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|e| e.extn_id.to_string() == oid)
    }

    /// The subject alternative names (URI, email, other names as text).
    pub fn sans(&self) -> Vec<String> {
        let Some(ext) = self.extension("2.5.29.17") else {
            return Vec::new();
        };
        let Ok(san) = SubjectAltName::from_der(ext.extn_value.as_bytes()) else {
            return Vec::new();
        };
        san.0
            .iter()
            .filter_map(|n| match n {
                GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
                GeneralName::Rfc822Name(m) => Some(m.to_string()),
                GeneralName::OtherName(o) => o
                    .value
                    .decode_as::<Utf8StringRef<'_>>()
                    .ok()
                    .map(|s| s.to_string()),
                _ => None,
            })
            .collect()
    }

    /// The OIDC issuer Fulcio recorded.
    pub fn issuer(&self) -> Option<String> {
        if let Some(ext) = self.extension(OID_ISSUER_V2) {
            return Utf8StringRef::from_der(ext.extn_value.as_bytes())
                .ok()
                .map(|s| s.to_string());
        }
        let ext = self.extension(OID_ISSUER_V1)?;
        String::from_utf8(ext.extn_value.as_bytes().to_vec()).ok()
    }
}

/// Checks that `leaf` chains to a CA of `root` trusted at `time` (Unix
/// seconds) and was valid then; returns the CA.
pub fn verify_chain<'r>(
    leaf: &Leaf,
    root: &'r TrustedRoot,
    time: i64,
) -> Result<&'r Authority, BundleError> {
    let mut last = String::from("no certificate authority in the trusted root");
    for ca in &root.cas {
        if !ca.validity.contains(time) {
            last = "no certificate authority trusted at signing time".into();
            continue;
        }
        match chain_to(&leaf.der, ca, time, EKU_CODE_SIGNING) {
            Ok(()) => return Ok(ca),
            Err(e) => last = e,
        }
    }
    Err(BundleError::Certificate(last))
}

/// Checks with webpki that `leaf` chains to `authority` at `time` for `eku`.
pub(crate) fn chain_to(
    leaf: &[u8],
    authority: &Authority,
    time: i64,
    eku: &'static [u8],
) -> Result<(), String> {
    let (root, intermediates) = authority
        .chain
        .split_last()
        .ok_or("empty authority chain")?;
    let root_der = CertificateDer::from(root.as_slice());
    let anchor = webpki::anchor_from_trusted_cert(&root_der).map_err(|e| e.to_string())?;
    let inter: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let leaf_der = CertificateDer::from(leaf);
    let ee = webpki::EndEntityCert::try_from(&leaf_der).map_err(|e| e.to_string())?;
    let secs = u64::try_from(time).map_err(|_| "time before 1970")?;
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &inter,
        UnixTime::since_unix_epoch(Duration::from_secs(secs)),
        webpki::KeyUsage::required(eku),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| match e {
        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
            format!("a certificate of the chain was not valid at {time} (signing time): {e:?}")
        }
        e => format!("does not chain to a trusted root at {time}: {e:?}"),
    })
}

/// Checks that one embedded SCT of `leaf` is signed by a CT log of `root`.
pub fn verify_sct(leaf: &Leaf, ca: &Authority, root: &TrustedRoot) -> Result<(), BundleError> {
    let ext = leaf
        .extension(OID_SCT_LIST)
        .ok_or_else(|| BundleError::Sct("the certificate has no embedded SCT".into()))?;
    let list = OctetString::from_der(ext.extn_value.as_bytes())
        .map_err(|e| BundleError::Sct(format!("SCT list: {e}")))?;
    let scts = parse_sct_list(list.as_bytes()).ok_or_else(|| bad("malformed SCT list"))?;
    let issuer_key_hash = issuer_key_hash(leaf, ca)?;
    let tbs = precert_tbs(&leaf.der).map_err(|e| BundleError::Sct(format!("precert: {e}")))?;
    for sct in &scts {
        let Some(log) = root.ctlog(sct.log_id) else {
            continue;
        };
        let signed = sct.signed_data(&issuer_key_hash, &tbs);
        let hash = match sct.hash_alg {
            4 => Hash::Sha256,
            5 => Hash::Sha384,
            6 => Hash::Sha512,
            _ => continue,
        };
        if crypto::verify(&log.key, hash, &signed, sct.signature) {
            return Ok(());
        }
    }
    Err(bad("no SCT verifies with a CT log key of the trusted root"))
}

fn bad(msg: &str) -> BundleError {
    BundleError::Sct(msg.to_string())
}

/// SHA-256 of the issuer's SubjectPublicKeyInfo: the CA certificate
/// whose subject is the leaf's issuer.
fn issuer_key_hash(leaf: &Leaf, ca: &Authority) -> Result<[u8; 32], BundleError> {
    let issuer = leaf.cert.tbs_certificate().issuer();
    for der in &ca.chain {
        let Ok(c) = Certificate::from_der(der) else {
            continue;
        };
        if c.tbs_certificate().subject() == issuer {
            let spki = c
                .tbs_certificate()
                .subject_public_key_info()
                .to_der()
                .map_err(|e| BundleError::Sct(e.to_string()))?;
            return Ok(crypto::sha256(&spki));
        }
    }
    Err(bad("the leaf's issuer is not in the CA chain"))
}

/// One serialized SCT (RFC 6962 3.2), borrowed.
struct Sct<'a> {
    timestamp: &'a [u8],
    log_id: &'a [u8],
    extensions: &'a [u8],
    hash_alg: u8,
    signature: &'a [u8],
}

impl Sct<'_> {
    /// The `digitally-signed` data of a precert entry.
    fn signed_data(&self, issuer_key_hash: &[u8; 32], tbs: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8, 0u8]; // v1, certificate_timestamp
        out.extend_from_slice(self.timestamp);
        out.extend_from_slice(&[0, 1]); // precert_entry
        out.extend_from_slice(issuer_key_hash);
        let n = tbs.len();
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        out.extend_from_slice(tbs);
        let e = self.extensions.len();
        out.extend_from_slice(&[(e >> 8) as u8, e as u8]);
        out.extend_from_slice(self.extensions);
        out
    }
}

/// Splits `n` bytes off the front.
fn take<'a>(data: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if data.len() < n {
        return None;
    }
    let (head, rest) = data.split_at(n);
    *data = rest;
    Some(head)
}

/// A 16-bit length-prefixed vector.
fn take_vec16<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = take(data, 2)?;
    take(data, usize::from(u16::from_be_bytes([len[0], len[1]])))
}

/// The TLS `SignedCertificateTimestampList`.
fn parse_sct_list(data: &[u8]) -> Option<Vec<Sct<'_>>> {
    let mut outer = data;
    let mut list = take_vec16(&mut outer)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let mut sct = take_vec16(&mut list)?;
        let version = take(&mut sct, 1)?;
        if version[0] != 0 {
            continue;
        }
        let log_id = take(&mut sct, 32)?;
        let timestamp = take(&mut sct, 8)?;
        let extensions = take_vec16(&mut sct)?;
        let algs = take(&mut sct, 2)?;
        let signature = take_vec16(&mut sct)?;
        out.push(Sct {
            timestamp,
            log_id,
            extensions,
            hash_alg: algs[0],
            signature,
        });
    }
    Some(out)
}

/// The leaf's TBSCertificate without the SCT list extension (what the CT
/// log signed), re-encoded as DER.
fn precert_tbs(cert_der: &[u8]) -> Result<Vec<u8>, der::Error> {
    let cert: Vec<Any> = Vec::from_der(cert_der)?;
    let tbs = cert
        .first()
        .ok_or(der::ErrorKind::Length { tag: Tag::Sequence })?;
    let mut fields: Vec<Any> = tbs.decode_as()?;
    for field in fields.iter_mut() {
        if field.tag()
            == (Tag::ContextSpecific {
                constructed: true,
                number: der::TagNumber(3),
            })
        {
            let exts: Vec<Extension> = Vec::from_der(field.value())?;
            let kept: Vec<Extension> = exts
                .into_iter()
                .filter(|e| e.extn_id.to_string() != OID_SCT_LIST)
                .collect();
            *field = Any::new(field.tag(), kept.to_der()?)?;
        }
    }
    fields.to_der()
}
