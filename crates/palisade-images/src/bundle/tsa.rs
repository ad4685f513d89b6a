//! RFC 3161 timestamps: the token (CMS SignedData around a TSTInfo) must
//! be over the bundle's signature, signed by a timestamp authority of the
//! trusted root whose chain was valid at the time it states.

use super::cert::{chain_to, Leaf, EKU_TIME_STAMPING};
use super::crypto::{self, Hash};
use super::trusted_root::{Authority, TrustedRoot};
use super::BundleError;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::OctetString;
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;

/// id-messageDigest.
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
/// id-ct-TSTInfo.
const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";

/// `MessageImprint` of RFC 3161.
#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

fn err(msg: impl Into<String>) -> BundleError {
    BundleError::Timestamp(msg.into())
}

/// Verifies one timestamp token over `signature`; returns its time (Unix
/// seconds).
pub fn verify_timestamp(
    token: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<i64, BundleError> {
    let signed = signed_data(token)?;
    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| err("the token has no TSTInfo"))?;
    if signed.encap_content_info.econtent_type.to_string() != OID_TST_INFO {
        return Err(err("the token's content is not a TSTInfo"));
    }
    let tst_der = econtent.value();
    let (imprint, time) = tst_info(tst_der)?;
    let hash = Hash::from_oid(&imprint.hash_algorithm.oid.to_string())
        .ok_or_else(|| err("unsupported message imprint hash"))?;
    if hash.digest(signature) != imprint.hashed_message.as_bytes() {
        return Err(err("the timestamp is not over the bundle's signature"));
    }
    let signer = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| err("the token has no signer"))?;
    let mut last = err("no timestamp authority in the trusted root");
    for tsa in &root.tsas {
        if !tsa.validity.contains(time) {
            last = err(format!(
                "the time {time} is outside every trusted TSA's validity"
            ));
            continue;
        }
        match check_signer(&signed, signer, tst_der, tsa, time) {
            Ok(()) => return Ok(time),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The SignedData of a TimeStampToken (or of a TimeStampResp around one).
fn signed_data(token: &[u8]) -> Result<SignedData, BundleError> {
    let info = match ContentInfo::from_der(token) {
        Ok(info) => info,
        Err(_) => {
            let resp: Vec<Any> =
                Vec::from_der(token).map_err(|e| err(format!("malformed token: {e}")))?;
            let tok = resp.get(1).ok_or_else(|| err("response without a token"))?;
            tok.decode_as::<ContentInfo>()
                .map_err(|e| err(format!("malformed token: {e}")))?
        }
    };
    info.content
        .decode_as::<SignedData>()
        .map_err(|e| err(format!("malformed SignedData: {e}")))
}

/// The message imprint and generation time of a TSTInfo.
fn tst_info(der: &[u8]) -> Result<(MessageImprint, i64), BundleError> {
    let fields: Vec<Any> = Vec::from_der(der).map_err(|e| err(format!("TSTInfo: {e}")))?;
    let imprint = fields
        .get(2)
        .ok_or_else(|| err("TSTInfo without messageImprint"))?
        .decode_as::<MessageImprint>()
        .map_err(|e| err(format!("TSTInfo messageImprint: {e}")))?;
    let gen = fields
        .get(4)
        .ok_or_else(|| err("TSTInfo without genTime"))?;
    let time = generalized_time(gen.value()).ok_or_else(|| err("malformed genTime"))?;
    Ok((imprint, time))
}

/// `YYYYMMDDHHMMSS[.fff]Z` to Unix seconds (fractions dropped).
fn generalized_time(raw: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(raw).ok()?;
    let text = text.strip_suffix('Z')?;
    let (main, _frac) = text.split_once('.').unwrap_or((text, ""));
    if main.len() != 14 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| main[r].parse::<i16>().ok();
    let dt = jiff::civil::DateTime::new(
        n(0..4)?,
        n(4..6)? as i8,
        n(6..8)? as i8,
        n(8..10)? as i8,
        n(10..12)? as i8,
        n(12..14)? as i8,
        0,
    )
    .ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// Checks the signer against one trusted TSA: its certificate (embedded,
/// or the TSA's own leaf) chains to the TSA at `time` and signed the
/// attributes, whose message digest is that of the TSTInfo.
fn check_signer(
    signed: &SignedData,
    signer: &SignerInfo,
    tst_der: &[u8],
    tsa: &Authority,
    time: i64,
) -> Result<(), BundleError> {
    let embedded = embedded_signer(signed, signer);
    let cert_der = embedded.unwrap_or_else(|| tsa.chain[0].clone());
    chain_to(&cert_der, tsa, time, EKU_TIME_STAMPING)
        .map_err(|e| err(format!("TSA certificate: {e}")))?;
    let cert = Leaf::parse(&cert_der).map_err(|e| err(format!("TSA certificate: {e}")))?;
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| err("the signer has no signed attributes"))?;
    let digest_hash = Hash::from_oid(&signer.digest_alg.oid.to_string())
        .ok_or_else(|| err("unsupported digest algorithm"))?;
    let digest = attrs
        .iter()
        .find(|a| a.oid.to_string() == OID_MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or_else(|| err("no message digest attribute"))?;
    if digest.as_bytes() != digest_hash.digest(tst_der) {
        return Err(err("the message digest attribute is not the TSTInfo's"));
    }
    let sig_hash =
        Hash::from_oid(&signer.signature_algorithm.oid.to_string()).unwrap_or(digest_hash);
    let attrs_der = attrs.to_der().map_err(|e| err(e.to_string()))?;
    if !crypto::verify(&cert.key, sig_hash, &attrs_der, signer.signature.as_bytes()) {
        return Err(err("the TSA's signature does not verify"));
    }
    Ok(())
}

/// The embedded certificate the signer identifier names.
fn embedded_signer(signed: &SignedData, signer: &SignerInfo) -> Option<Vec<u8>> {
    let certs = signed.certificates.as_ref()?;
    certs.0.iter().find_map(|c| {
        let CertificateChoices::Certificate(cert) = c else {
            return None;
        };
        let tbs = cert.tbs_certificate();
        let matches = match &signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(i) => {
                i.issuer == *tbs.issuer() && i.serial_number == *tbs.serial_number()
            }
            SignerIdentifier::SubjectKeyIdentifier(_) => true,
        };
        if matches {
            cert.to_der().ok()
        } else {
            None
        }
    })
}
