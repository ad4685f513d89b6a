//! `image-latest-tag` and `image-not-pinned`: what image a container runs.
//!
//! Concerns: the rule IDs. Containers with no `image` (or an empty one) are
//! not checked: there is no reference to judge, and the API server rejects
//! such pods.

use super::builtin::{BuiltinRule, Texts};
use super::fields::{describe, label};
use super::image_ref::ImageRef;
use palisade_core::workload::with_pod_spec;
use palisade_core::Field;
use palisade_core::{Context, Emitter, Resource, Rule, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        BuiltinRule::workload(
            Texts {
                id: "image-latest-tag",
                severity: Severity::Medium,
                title: "Container image uses the `latest` tag or no tag",
                description: "`latest` (which is what no tag means) moves: two nodes may run \
                    different code under the same manifest, a rollback goes nowhere, and what \
                    was reviewed is not what runs. It also hides which version a vulnerability \
                    report is about.",
                remediation: "Use an explicit version tag, and better a digest \
                    (`image: registry/app:1.4.2@sha256:...`).",
            },
            check_latest,
        ),
        BuiltinRule::workload(
            Texts {
                id: "image-not-pinned",
                severity: Severity::Low,
                title: "Container image is not pinned by digest",
                description: "A tag is a mutable pointer: whoever can push to the registry (or \
                    take it over) can change what a tag means, and the cluster pulls the new \
                    content on the next restart. Only a content digest (`@sha256:...`) names \
                    immutable, reviewable, verifiable bits.",
                remediation: "Reference the image by digest, e.g. \
                    `registry/app:1.4.2@sha256:<64 hex digits>`; let a bot (Renovate, \
                    Dependabot) keep digests current.",
            },
            check_pinned,
        ),
    ]
}

fn check_latest(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let Some(Value::String(image)) = c.value.field("image") else {
                continue;
            };
            if image.trim().is_empty() {
                continue;
            }
            let r = ImageRef::parse(image);
            if r.pinned() || r.effective_tag() != Some("latest") {
                continue;
            }
            let path = c.path.key("image");
            let how = if r.tag.is_some() {
                "the `latest` tag"
            } else {
                "no tag (so `latest`)"
            };
            out.emit(
                &path,
                format!("{} runs {image:?} with {how} ({path})", label(c)),
            );
        }
    });
}

fn check_pinned(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            // The unpinned reference, or the value that is not a reference.
            let bad = match c.value.field("image") {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) if s.trim().is_empty() => continue,
                Some(Value::String(image)) => match ImageRef::parse(image) {
                    r if r.pinned() => continue,
                    r => Ok((image, r)),
                },
                Some(other) => Err(other),
            };
            let path = c.path.key("image");
            let message = match bad {
                Ok((image, r)) => match r.digest {
                    Some(_) => format!(
                        "{} image {image:?} has a malformed digest (expected sha256: and 64 hex digits) ({path})",
                        label(c)
                    ),
                    None => format!("{} image {image:?} is not pinned by digest ({path})", label(c)),
                },
                Err(other) => format!(
                    "{} has an image that is {}, not a reference ({path})",
                    label(c),
                    describe(other)
                ),
            };
            out.emit(&path, message);
        }
    });
}
