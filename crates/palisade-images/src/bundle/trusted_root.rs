//! A Sigstore trusted root compiled for verification: the keys of the
//! transparency and CT logs, the Fulcio CAs and the timestamp authorities,
//! each with the closed time interval in which it may be trusted.

use super::types::{CertificateAuthority, TimeRange, TransparencyLog, TrustedRootJson};
use super::BundleError;
use crate::keys::PublicKey;

/// A closed interval of Unix seconds; `end` absent means open.
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    /// The first second of trust.
    pub start: i64,
    /// The last second of trust, if any.
    pub end: Option<i64>,
}

impl Validity {
    /// Whether `t` lies in the interval (both ends included).
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && self.end.is_none_or(|e| t <= e)
    }
}

/// A log (Rekor or CT) and its key.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// The log id (SHA-256 of the DER key).
    pub id: Vec<u8>,
    /// The key.
    pub key: PublicKey,
    /// Where the log lives (its host is the checkpoint origin of Rekor v2).
    pub base_url: String,
    /// When the key may be trusted.
    pub validity: Validity,
}

/// A certificate authority (Fulcio) or timestamp authority.
#[derive(Debug, Clone)]
pub struct Authority {
    /// The chain as DER, leaf or intermediate first, root last.
    pub chain: Vec<Vec<u8>>,
    /// When the authority may be trusted.
    pub validity: Validity,
}

/// The compiled trusted root.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    /// Transparency logs.
    pub tlogs: Vec<LogKey>,
    /// Certificate transparency logs.
    pub ctlogs: Vec<LogKey>,
    /// Fulcio CAs.
    pub cas: Vec<Authority>,
    /// Timestamp authorities.
    pub tsas: Vec<Authority>,
}

impl TrustedRoot {
    /// Reads `trusted_root.json`; every key must parse and every validity
    /// must have a start (a missing bound is never read as unbounded).
    pub fn from_json(json: &[u8]) -> Result<TrustedRoot, BundleError> {
        let raw: TrustedRootJson = serde_json::from_slice(json)
            .map_err(|e| BundleError::TrustedRoot(format!("not a trusted root: {e}")))?;
        Ok(TrustedRoot {
            tlogs: logs(&raw.tlogs, "tlogs")?,
            ctlogs: logs(&raw.ctlogs, "ctlogs")?,
            cas: authorities(&raw.certificate_authorities, "certificateAuthorities")?,
            tsas: authorities(&raw.timestamp_authorities, "timestampAuthorities")?,
        })
    }

    /// The transparency log with this id.
    pub fn tlog(&self, id: &[u8]) -> Option<&LogKey> {
        self.tlogs.iter().find(|l| l.id == id)
    }

    /// The CT log with this id.
    pub fn ctlog(&self, id: &[u8]) -> Option<&LogKey> {
        self.ctlogs.iter().find(|l| l.id == id)
    }
}

fn logs(list: &[TransparencyLog], field: &str) -> Result<Vec<LogKey>, BundleError> {
    list.iter()
        .enumerate()
        .map(|(i, l)| {
            let at = format!("{field}[{i}]");
            let key = PublicKey::from_der(&l.public_key.raw_bytes)
                .map_err(|e| BundleError::TrustedRoot(format!("{at}.publicKey: {e}")))?;
            let validity = validity(l.public_key.valid_for.as_ref(), &at)?;
            Ok(LogKey {
                id: l.log_id.key_id.clone(),
                key,
                base_url: l.base_url.clone(),
                validity,
            })
        })
        .collect()
}

fn authorities(list: &[CertificateAuthority], field: &str) -> Result<Vec<Authority>, BundleError> {
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let at = format!("{field}[{i}]");
            if a.cert_chain.certificates.is_empty() {
                return Err(BundleError::TrustedRoot(format!("{at}: empty certChain")));
            }
            Ok(Authority {
                chain: a
                    .cert_chain
                    .certificates
                    .iter()
                    .map(|c| c.raw_bytes.clone())
                    .collect(),
                validity: validity(a.valid_for.as_ref(), &at)?,
            })
        })
        .collect()
}

fn validity(range: Option<&TimeRange>, at: &str) -> Result<Validity, BundleError> {
    let start = range
        .and_then(|r| r.start.as_deref())
        .ok_or_else(|| BundleError::TrustedRoot(format!("{at}: validFor.start is missing")))?;
    let end = range.and_then(|r| r.end.as_deref());
    Ok(Validity {
        start: seconds(start, at)?,
        end: end.map(|e| seconds(e, at)).transpose()?,
    })
}

/// Unix seconds of an RFC 3339 time.
fn seconds(text: &str, at: &str) -> Result<i64, BundleError> {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|e| BundleError::TrustedRoot(format!("{at}: validFor time {text:?}: {e}")))
}
