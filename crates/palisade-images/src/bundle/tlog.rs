//! Transparency-log entries checked offline: the logged body must describe
//! this bundle (CVE-2022-36056), the entry must be in the log (an RFC 6962
//! inclusion proof up to a checkpoint the log signed) or promised by it (a
//! signed entry timestamp), by a log of the trusted root.

pub use super::body::{check_body, Content, Signed};
use super::crypto;
use super::trusted_root::{LogKey, TrustedRoot};
use super::types::{decode, InclusionProof, TlogEntry};
use super::BundleError;
use serde::Serialize;
use sha2::{Digest, Sha256};

fn entry_err(msg: impl Into<String>) -> BundleError {
    BundleError::TlogEntry(msg.into())
}

/// The log of `entry` in `root`.
pub fn log_of<'r>(entry: &TlogEntry, root: &'r TrustedRoot) -> Result<&'r LogKey, BundleError> {
    if entry.log_index < 0 {
        return Err(BundleError::Malformed("negative log index".into()));
    }
    root.tlog(&entry.log_id.key_id)
        .ok_or_else(|| entry_err("the entry's log is not in the trusted root"))
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The canonical JSON a signed entry timestamp signs (keys sorted).
#[derive(Serialize)]
struct SetPayload<'a> {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(skip)]
    _p: std::marker::PhantomData<&'a ()>,
}

/// Verifies the signed entry timestamp with the log's key.
pub fn verify_set(entry: &TlogEntry, log: &LogKey) -> Result<(), BundleError> {
    use base64::Engine;
    let promise = entry
        .inclusion_promise
        .as_ref()
        .ok_or_else(|| BundleError::SignedEntryTimestamp("missing".into()))?;
    let payload = SetPayload {
        body: base64::engine::general_purpose::STANDARD.encode(&entry.canonicalized_body),
        integrated_time: entry.integrated_time,
        log_id: hex(&entry.log_id.key_id),
        log_index: entry.log_index,
        _p: std::marker::PhantomData,
    };
    let json = serde_json::to_vec(&payload)
        .map_err(|e| BundleError::SignedEntryTimestamp(e.to_string()))?;
    if crypto::verify_default(&log.key, &json, &promise.signed_entry_timestamp) {
        Ok(())
    } else {
        Err(BundleError::SignedEntryTimestamp(
            "the log's signature over the entry does not verify".into(),
        ))
    }
}

/// RFC 6962 leaf hash.
fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash.
fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root an inclusion proof leads to (RFC 9162 2.1.3.2).
fn root_from_proof(index: u64, size: u64, leaf: [u8; 32], proof: &[Vec<u8>]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    if proof.len() != inner + border || proof.iter().any(|h| h.len() != 32) {
        return None;
    }
    let mut seed = leaf;
    for (i, h) in proof[..inner].iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            node_hash(&seed, h)
        } else {
            node_hash(h, &seed)
        };
    }
    for h in &proof[inner..] {
        seed = node_hash(h, &seed);
    }
    Some(seed)
}

/// Verifies the inclusion proof and its checkpoint.
pub fn verify_inclusion(entry: &TlogEntry, log: &LogKey) -> Result<(), BundleError> {
    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or_else(|| BundleError::InclusionProof("missing".into()))?;
    check_proof(proof, &entry.canonicalized_body)?;
    let checkpoint = proof
        .checkpoint
        .as_ref()
        .ok_or_else(|| BundleError::Checkpoint("missing".into()))?;
    let note = verify_checkpoint(&checkpoint.envelope, log)?;
    if note.size != proof.tree_size as u64 || note.root != proof.root_hash {
        return Err(BundleError::Checkpoint(
            "the checkpoint is for another tree than the inclusion proof".into(),
        ));
    }
    Ok(())
}

fn check_proof(proof: &InclusionProof, body: &[u8]) -> Result<(), BundleError> {
    let (Ok(index), Ok(size)) = (
        u64::try_from(proof.log_index),
        u64::try_from(proof.tree_size),
    ) else {
        return Err(BundleError::InclusionProof("negative index or size".into()));
    };
    match root_from_proof(index, size, leaf_hash(body), &proof.hashes) {
        Some(root) if root.as_slice() == proof.root_hash => Ok(()),
        Some(_) => Err(BundleError::InclusionProof(
            "the proof does not lead to the root hash".into(),
        )),
        None => Err(BundleError::InclusionProof("malformed proof".into())),
    }
}

/// A checkpoint's signed body.
struct Note {
    size: u64,
    root: Vec<u8>,
}

fn cp_err(msg: &str) -> BundleError {
    BundleError::Checkpoint(msg.to_string())
}

/// Verifies a signed note: one signature line named after the log, with
/// the log's key hint, must verify; lines of other signers (witnesses)
/// are ignored.
fn verify_checkpoint(envelope: &str, log: &LogKey) -> Result<Note, BundleError> {
    let split = envelope
        .find("\n\n")
        .ok_or_else(|| cp_err("no signature block"))?;
    let text = &envelope[..split + 1];
    let mut lines = text.lines();
    let origin = lines
        .next()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| cp_err("no origin"))?;
    let name = log_name(origin);
    let host = log_host(&log.base_url);
    if name != host {
        return Err(BundleError::Checkpoint(format!(
            "origin {origin:?} is not the log's ({host})"
        )));
    }
    let size = lines
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| cp_err("no tree size"))?;
    let root = lines
        .next()
        .and_then(|r| decode(r).ok())
        .filter(|r| r.len() == 32)
        .ok_or_else(|| cp_err("no root hash"))?;
    let mut any = false;
    for line in envelope[split + 2..].lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some((signer, sig)) = rest.split_once(' ') else {
            continue;
        };
        let Ok(sig) = decode(sig) else { continue };
        if signer != name || sig.len() < 5 || sig[..4] != log.id[..4.min(log.id.len())] {
            continue;
        }
        any = true;
        if crypto::verify_default(&log.key, text.as_bytes(), &sig[4..]) {
            return Ok(Note { size, root });
        }
    }
    Err(cp_err(if any {
        "the log's signature does not verify"
    } else {
        "no signature by the log (name and key hint)"
    }))
}

/// The signer name of a checkpoint origin: Rekor v1 writes
/// `rekor.sigstore.dev - <tree id>` and signs as `rekor.sigstore.dev`.
fn log_name(origin: &str) -> &str {
    origin.split_once(" - ").map_or(origin, |(n, _)| n)
}

/// The host of a log's base URL (`https://rekor.sigstore.dev` gives
/// `rekor.sigstore.dev`).
fn log_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// Checks that a log's key was trusted at one of the verified `times`
/// (Rekor v2 entries carry no integration time of their own).
pub fn check_log_validity(log: &LogKey, times: &[i64]) -> Result<(), BundleError> {
    if times.is_empty() || times.iter().any(|t| log.validity.contains(*t)) {
        Ok(())
    } else {
        Err(entry_err(
            "the log's key was not trusted at the signing time",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_leaf_tree_is_its_own_root() {
        let leaf = leaf_hash(b"x");
        assert_eq!(root_from_proof(0, 1, leaf, &[]), Some(leaf));
        assert_eq!(root_from_proof(1, 1, leaf, &[]), None);
    }

    #[test]
    fn two_leaf_tree() {
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let root = node_hash(&a, &b);
        assert_eq!(root_from_proof(0, 2, a, &[b.to_vec()]), Some(root));
        assert_eq!(root_from_proof(1, 2, b, &[a.to_vec()]), Some(root));
        assert_ne!(root_from_proof(0, 2, b, &[a.to_vec()]), Some(root));
    }
}
