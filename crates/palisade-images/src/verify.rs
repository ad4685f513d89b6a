//! Verifying images against the image policies: resolve the digest, fetch
//! what is attached to it once, judge every attestor of every matching
//! policy, cache the verdict.

use crate::bundle::attestor::{check_bundle, may_concern};
use crate::bundle::oci::{fetch_bundles, FoundBundle};
use crate::cache::TtlCache;
use crate::error::RegistryError;
use crate::legacy::{self, AttestationCandidate, AttestationCheck, SignatureCandidate};
use crate::policy::{Attestor, ImagePolicies, ImagePolicy, Trust};
use crate::reference::ImageRef;
use crate::registry::Registry;
use palisade_core::images::{
    AttestorVerdict, ImageVerdict, OnRegistryError, PolicyVerdict, Require, Unmatched,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Timing and cache settings.
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    /// Budget for all registry work of one image (default 3 s).
    pub budget: Duration,
    /// How long a verdict is kept (default 5 min).
    pub verdict_ttl: Duration,
    /// How long a tag's digest is kept (default 30 s).
    pub tag_ttl: Duration,
    /// Bound on cached entries (default 10,000).
    pub max_entries: usize,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        VerifierOptions {
            budget: Duration::from_secs(3),
            verdict_ttl: Duration::from_secs(300),
            tag_ttl: Duration::from_secs(30),
            max_entries: 10_000,
        }
    }
}

/// Verifies images; shared by every request (cheap to clone via `Arc`).
pub struct Verifier {
    policies: Arc<ImagePolicies>,
    registry: Registry,
    opts: VerifierOptions,
    /// `name@digest` -> verdict.
    verdicts: TtlCache<ImageVerdict>,
    /// Normalised tag reference -> digest.
    tags: TtlCache<String>,
    /// Reference as written -> verdict, for the context provider.
    recent: TtlCache<ImageVerdict>,
}

/// What is attached to one digest.
#[derive(Default)]
struct Attached {
    signatures: Vec<SignatureCandidate>,
    attestations: Vec<AttestationCandidate>,
    bundles: Vec<FoundBundle>,
}

impl Verifier {
    /// A verifier for `policies` using `registry`.
    pub fn new(policies: Arc<ImagePolicies>, registry: Registry, opts: VerifierOptions) -> Self {
        let max = opts.max_entries;
        Verifier {
            verdicts: TtlCache::new(opts.verdict_ttl, max),
            tags: TtlCache::new(opts.tag_ttl, max),
            recent: TtlCache::new(
                opts.verdict_ttl
                    .min(opts.tag_ttl.max(Duration::from_secs(1))),
                max,
            ),
            policies,
            registry,
            opts,
        }
    }

    /// The policies.
    pub fn policies(&self) -> &ImagePolicies {
        &self.policies
    }

    /// The verdict last computed for `image` (as written), while fresh.
    pub fn recent(&self, image: &str) -> Option<ImageVerdict> {
        self.recent.get(image)
    }

    /// Verifies every image of `images` in parallel.
    pub async fn verify_all(&self, images: &[String]) -> Vec<ImageVerdict> {
        futures_util::future::join_all(images.iter().map(|i| self.verify(i))).await
    }

    /// Verifies one image (as written in a container spec).
    pub async fn verify(&self, text: &str) -> ImageVerdict {
        self.verify_traced(text).await.0
    }

    /// [`Verifier::verify`], also saying whether the verdict came from the
    /// verdict cache (`Some(true)`), was computed from the registry
    /// (`Some(false)`), or needed no lookup (`None`: unparsable reference,
    /// no matching policy, or the digest could not be resolved).
    pub async fn verify_traced(&self, text: &str) -> (ImageVerdict, Option<bool>) {
        let (verdict, cached) = self.verify_uncached_text(text).await;
        self.recent.put(text.to_string(), verdict.clone());
        (verdict, cached)
    }

    async fn verify_uncached_text(&self, text: &str) -> (ImageVerdict, Option<bool>) {
        let mut verdict = ImageVerdict {
            image: text.to_string(),
            digest: None,
            policies: Vec::new(),
            error: None,
            unmatched_denied: false,
        };
        let image = match ImageRef::parse(text) {
            Ok(i) => i,
            Err(e) => {
                verdict.error = Some(e.to_string());
                return (verdict, None);
            }
        };
        let matching: Vec<&ImagePolicy> = self.policies.matching(&image).collect();
        if matching.is_empty() {
            verdict.unmatched_denied = self.policies.unmatched == Unmatched::Deny;
            return (verdict, None);
        }
        let budget = self.opts.budget;
        let work = async {
            let digest = self.resolve(&image).await?;
            let key = verdict_key(&image, &digest, &matching);
            if let Some(v) = self.verdicts.get(&key) {
                return Ok((digest, Some(v)));
            }
            Ok::<_, RegistryError>((digest, None))
        };
        let (digest, cached) = match tokio::time::timeout(budget, work).await {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return (registry_failure(verdict, &matching, &e), None),
            Err(_) => return (registry_failure(verdict, &matching, &timeout(budget)), None),
        };
        if let Some(mut v) = cached {
            v.image = text.to_string();
            return (v, Some(true));
        }
        verdict.digest = Some(digest.clone());
        let started = Instant::now();
        let left = budget.saturating_sub(started.elapsed());
        let attached =
            match tokio::time::timeout(left, self.fetch(&image, &digest, &matching)).await {
                Ok(Ok(a)) => a,
                Ok(Err(e)) => return (registry_failure(verdict, &matching, &e), Some(false)),
                Err(_) => {
                    return (
                        registry_failure(verdict, &matching, &timeout(budget)),
                        Some(false),
                    )
                }
            };
        verdict.policies = matching
            .iter()
            .map(|p| judge(p, &attached, &digest))
            .collect();
        self.verdicts
            .put(verdict_key(&image, &digest, &matching), verdict.clone());
        (verdict, Some(false))
    }

    /// The digest of `image`: its own, a cached resolution, or the registry's.
    async fn resolve(&self, image: &ImageRef) -> Result<String, RegistryError> {
        if let Some(d) = image.digest() {
            return Ok(d.to_string());
        }
        let key = image.to_string();
        if let Some(d) = self.tags.get(&key) {
            return Ok(d);
        }
        let d = self.registry.resolve(image).await?;
        self.tags.put(key, d.clone());
        Ok(d)
    }

    async fn fetch(
        &self,
        image: &ImageRef,
        digest: &str,
        policies: &[&ImagePolicy],
    ) -> Result<Attached, RegistryError> {
        let attestors = || policies.iter().flat_map(|p| p.attestors.iter());
        let need_sigs = attestors().any(|a| a.attestation.is_none());
        let types: Vec<&str> = attestors()
            .filter_map(|a| a.attestation.as_ref().map(|r| r.predicate_type.as_str()))
            .collect();
        let sigs = async {
            if need_sigs {
                legacy::fetch_signatures(&self.registry, image, digest).await
            } else {
                Ok(Vec::new())
            }
        };
        let atts = async {
            if types.is_empty() {
                Ok(Vec::new())
            } else {
                legacy::fetch_attestations(&self.registry, image, digest, &types).await
            }
        };
        let bundles = fetch_bundles(&self.registry, image, digest);
        let (signatures, attestations, bundles) =
            futures_util::future::join3(sigs, atts, bundles).await;
        Ok(Attached {
            signatures: signatures?,
            attestations: attestations?,
            bundles: bundles?,
        })
    }
}

/// The verdict cache key: the digest and the policies judged, so that a
/// tag matched by a stricter policy never reuses a verdict of the same
/// digest reached through a reference fewer policies match.
fn verdict_key(image: &ImageRef, digest: &str, policies: &[&ImagePolicy]) -> String {
    let mut key = format!("{}@{digest}", image.name());
    for p in policies {
        key.push('\n');
        key.push_str(&p.name);
    }
    key
}

fn timeout(budget: Duration) -> RegistryError {
    RegistryError::Timeout(budget.as_millis() as u64)
}

/// Every matching policy failed to reach the registry: each takes its
/// `onRegistryError`.
fn registry_failure(
    mut v: ImageVerdict,
    policies: &[&ImagePolicy],
    e: &RegistryError,
) -> ImageVerdict {
    v.policies = policies
        .iter()
        .map(|p| PolicyVerdict {
            name: p.name.clone(),
            passed: p.on_registry_error == OnRegistryError::Allow,
            require: p.require.to_string(),
            registry_error: Some(e.to_string()),
            attestors: Vec::new(),
        })
        .collect();
    v
}

/// The verdict of `policy` given what is attached to `digest`.
fn judge(policy: &ImagePolicy, attached: &Attached, digest: &str) -> PolicyVerdict {
    let attestors: Vec<AttestorVerdict> = policy
        .attestors
        .iter()
        .map(|a| judge_attestor(a, attached, digest))
        .collect();
    let passed_count = attestors.iter().filter(|a| a.passed).count();
    let passed = match policy.require {
        Require::All => passed_count == attestors.len(),
        Require::Count(n) => passed_count >= n,
    };
    PolicyVerdict {
        name: policy.name.clone(),
        passed,
        require: policy.require.to_string(),
        registry_error: None,
        attestors,
    }
}

fn judge_attestor(a: &Attestor, attached: &Attached, digest: &str) -> AttestorVerdict {
    let (kind, results): (&str, Vec<Result<(), String>>) = match &a.attestation {
        None => (
            "signature",
            attached
                .signatures
                .iter()
                .map(|c| match &a.trust {
                    Trust::Key(k) => legacy::check_signature(k, c, digest),
                    Trust::Keyless { identity, root } => {
                        legacy::check_keyless_signature(identity, root, c, digest)
                    }
                })
                .chain(
                    attached
                        .bundles
                        .iter()
                        .filter(|b| may_concern(b, None))
                        .map(|b| check_bundle(&a.trust, &b.bundle, digest, None)),
                )
                .collect(),
        ),
        Some(rule) => {
            let want = AttestationCheck {
                predicate_type: &rule.predicate_type,
                condition: rule.condition.as_ref(),
            };
            (
                "attestation",
                attached
                    .attestations
                    .iter()
                    .filter_map(|c| {
                        legacy_key(a).map(|k| legacy::check_attestation(k, c, digest, &want))
                    })
                    .chain(
                        attached
                            .bundles
                            .iter()
                            .filter(|b| may_concern(b, Some(&want)))
                            .map(|b| check_bundle(&a.trust, &b.bundle, digest, Some(&want))),
                    )
                    .collect(),
            )
        }
    };
    let verdict = |passed, reason| AttestorVerdict {
        name: a.name.clone(),
        attestation: a.attestation.is_some(),
        passed,
        reason,
    };
    if results.iter().any(Result::is_ok) {
        let how = match &a.trust {
            Trust::Key(k) => format!("with the {} key", k.algorithm()),
            Trust::Keyless { .. } => "for the keyless identity".to_string(),
        };
        return verdict(true, format!("{kind} verified {how}"));
    }
    verdict(false, failure_reason(kind, a, &results))
}

/// The key legacy `.att` candidates are checked with (keyless attestors
/// read legacy keyless `.sig` layers and bundles, not legacy `.att`).
fn legacy_key(a: &Attestor) -> Option<&crate::keys::PublicKey> {
    match &a.trust {
        Trust::Key(k) => Some(k),
        Trust::Keyless { .. } => None,
    }
}

/// Why no candidate passed: the most telling failure (one signed by this
/// key but wrong in content), else that none is by this key.
fn failure_reason(kind: &str, a: &Attestor, results: &[Result<(), String>]) -> String {
    let by_key = results.iter().filter_map(|r| r.as_ref().err()).find(|m| {
        !m.contains("does not verify with this key") && !m.ends_with(legacy::NOT_KEYLESS)
    });
    match (results.len(), by_key) {
        (0, _) => match &a.attestation {
            None => "no signature found (.sig or bundle referrer)".into(),
            Some(r) => format!(
                "no attestation of type {} found (.att or bundle referrer)",
                r.predicate_type
            ),
        },
        (_, Some(m)) => m.clone(),
        (n, None) => match &a.trust {
            Trust::Key(_) => {
                format!("none of the {n} {kind}s found is signed by this attestor's key")
            }
            Trust::Keyless { .. } => {
                format!("none of the {n} {kind}s found is keyless (a Fulcio certificate)")
            }
        },
    }
}
