//! `image-signature-missing`, `image-attestation-missing` and
//! `image-verification-failed`: what the image verification (palisade-images)
//! found for each container's image, read from the context's
//! [`ImageVerdicts`]. Without verification results (an offline scan) these
//! rules report nothing.

use crate::workload::builtin::{BuiltinRule, Texts};
use crate::workload::fields::label;
use palisade_core::images::{ImageVerdict, ImageVerdicts, PolicyVerdict};
use palisade_core::workload::with_pod_spec;
use palisade_core::{Context, Emitter, Field, Resource, Rule, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        BuiltinRule::workload(
            Texts {
                id: "image-signature-missing",
                severity: Severity::Critical,
                title: "Container image lacks a required signature",
                description: "Only images built and signed by trusted CI robots should run: an \
                    image without the signatures its image policy requires may have been built \
                    anywhere, or altered after the build.",
                remediation: "Sign the image digest in the pipeline with the attestor's key \
                    (`palisade image sign IMAGE --key KEY`), or fix the image policy.",
            },
            check_signatures,
        ),
        BuiltinRule::workload(
            Texts {
                id: "image-attestation-missing",
                severity: Severity::Critical,
                title: "Container image lacks a required attestation",
                description: "The pipeline's checks (vulnerability scan, dependency review, \
                    integration tests) vouch for an image with signed in-toto attestations; \
                    an image without them skipped a gate.",
                remediation: "Attest the image digest from the pipeline step \
                    (`palisade image attest IMAGE --key KEY --predicate FILE --type URI`).",
            },
            check_attestations,
        ),
        BuiltinRule::workload(
            Texts {
                id: "image-verification-failed",
                severity: Severity::Critical,
                title: "Container image could not be verified",
                description: "The registry could not be asked (timeout, authentication, not \
                    found) or the reference is invalid, and the image policy denies on \
                    registry errors: an image that cannot be verified is not trusted.",
                remediation: "Check that the image exists and the registry is reachable with \
                    the configured credentials; or set `onRegistryError: allow` on the policy.",
            },
            check_failures,
        ),
    ]
}

/// Calls `f` for every container image that has a verdict.
fn each_verdict(
    res: &Resource,
    ctx: &Context<'_>,
    out: &mut Emitter<'_>,
    f: impl Fn(&str, &ImageVerdict, &mut Emitter<'_>, &palisade_core::FieldPath),
) {
    let Some(verdicts) = ctx.extensions.get::<ImageVerdicts>() else {
        return;
    };
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let Some(Value::String(image)) = c.value.field("image") else {
                continue;
            };
            if let Some(v) = verdicts.images.get(image) {
                f(&label(c), v, out, &c.path.key("image"));
            }
        }
    });
}

/// The failed attestors of `p` of one kind, each with its reason.
fn missing(p: &PolicyVerdict, attestation: bool) -> Vec<String> {
    p.attestors
        .iter()
        .filter(|a| !a.passed && a.attestation == attestation)
        .map(|a| format!("{} ({})", a.name, a.reason))
        .collect()
}

fn check_kind(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>, attestation: bool) {
    let what = if attestation {
        "attestation"
    } else {
        "signature"
    };
    each_verdict(res, ctx, out, |who, v, out, path| {
        if !attestation && v.unmatched_denied {
            out.emit(
                path,
                format!(
                    "{who} image {:?} matches no image policy and imagesUnmatched is deny",
                    v.image
                ),
            );
        }
        for p in v
            .policies
            .iter()
            .filter(|p| !p.passed && p.registry_error.is_none())
        {
            let m = missing(p, attestation);
            if m.is_empty() {
                continue;
            }
            out.emit(
                path,
                format!(
                    "{who} image {:?} fails image policy `{}` (require {}): missing {what}: {}",
                    v.image,
                    p.name,
                    p.require,
                    m.join("; ")
                ),
            );
        }
    });
}

fn check_signatures(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    check_kind(res, ctx, out, false)
}

fn check_attestations(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    check_kind(res, ctx, out, true)
}

fn check_failures(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    each_verdict(res, ctx, out, |who, v, out, path| {
        if let Some(e) = &v.error {
            out.emit(
                path,
                format!("{who} image {:?} could not be verified: {e}", v.image),
            );
        }
        for p in v.policies.iter().filter(|p| !p.passed) {
            if let Some(e) = &p.registry_error {
                out.emit(
                    path,
                    format!(
                        "{who} image {:?} could not be verified for image policy `{}`: {e}",
                        v.image, p.name
                    ),
                );
            }
        }
    });
}
