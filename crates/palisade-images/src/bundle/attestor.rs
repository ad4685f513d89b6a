//! Judging a bundle found on an image for a key attestor: a signature
//! attestor accepts a message signature over the image digest or a
//! cosign 3 signature statement; an attestation attestor accepts a DSSE
//! in-toto statement of its predicate type whose predicate meets its
//! condition. The statement must name the image digest.

use super::oci::{BundleCandidate, FoundBundle};
use super::sign::SIGN_PREDICATE_TYPE;
use super::verify::{verify_bundle, Artifact, Expectation};
use super::BundleError;
use crate::dsse::Statement;
use crate::legacy::AttestationCheck;
use crate::policy::Trust;

/// Whether a found bundle may concern an attestor wanting `want`, by the
/// predicate type its descriptor announces (unsigned: a pre-filter that
/// saves verifying bundles of other types; absent means maybe).
pub fn may_concern(found: &FoundBundle, want: Option<&AttestationCheck<'_>>) -> bool {
    let wanted = want.map_or(SIGN_PREDICATE_TYPE, |w| w.predicate_type);
    found.predicate_type.as_deref().is_none_or(|t| t == wanted)
}

/// `sha256:<hex>` as bytes.
fn digest_bytes(digest: &str) -> Option<[u8; 32]> {
    let hex = digest.strip_prefix("sha256:")?;
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Why a bundle does not vouch for `digest` for `trust` (`Ok` when it
/// does); `want` is `None` for a signature attestor.
pub fn check_bundle(
    trust: &Trust,
    c: &BundleCandidate,
    digest: &str,
    want: Option<&AttestationCheck<'_>>,
) -> Result<(), String> {
    let bundle = c.as_ref().map_err(Clone::clone)?;
    let sha = digest_bytes(digest).ok_or_else(|| format!("unsupported digest {digest}"))?;
    let (expect, root) = match trust {
        Trust::Key(key) => {
            let der = key.to_der().map_err(|e| e.to_string())?;
            let key = key.clone();
            (Expectation::Key { key, der }, None)
        }
        Trust::Keyless { identity, root } => {
            (Expectation::Identity(identity.clone()), Some(root.as_ref()))
        }
    };
    let verified =
        verify_bundle(bundle, &Artifact::Sha256(sha), &expect, root).map_err(|e| match e {
            BundleError::Signature(_) => "bundle signature does not verify with this key".into(),
            BundleError::Material(m) if m.starts_with("a key was expected") => {
                "bundle is keyless: does not verify with this key".into()
            }
            BundleError::Artifact(m) => format!("bundle is for another subject, not {digest}: {m}"),
            other => format!("bundle: {other}"),
        })?;
    let statement = match &verified.dsse {
        None => {
            // A message signature over the image digest.
            return match want {
                None => Ok(()),
                Some(w) => Err(format!(
                    "bundle is a signature, not an attestation of type {}",
                    w.predicate_type
                )),
            };
        }
        Some((_, payload)) => serde_json::from_slice::<Statement>(payload)
            .map_err(|e| format!("signed statement is not in-toto: {e}"))?,
    };
    match want {
        None if statement.predicate_type == SIGN_PREDICATE_TYPE => Ok(()),
        None => Err(format!(
            "bundle is an attestation of type {}, not a signature",
            statement.predicate_type
        )),
        Some(w) if statement.predicate_type != w.predicate_type => Err(format!(
            "attestation has predicate type {}, not {}",
            statement.predicate_type, w.predicate_type
        )),
        Some(w) => match w.condition {
            None => Ok(()),
            Some(cond) => cond.eval(&statement.predicate),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_only_when_well_formed() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(digest_bytes(&d), Some([0xab; 32]));
        assert_eq!(digest_bytes("sha256:abc"), None);
        assert_eq!(digest_bytes(&format!("sha512:{}", "ab".repeat(32))), None);
    }
}
