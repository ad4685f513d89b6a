//! Seccomp: `seccompProfile_baseline` (annotations before v1.19, fields
//! after) and `seccompProfile_restricted`.

use super::Violation;
use crate::pss::pod::{ctr_label, get, Pod};
use serde_json::Value;

const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";
const TYPE: [&str; 3] = ["securityContext", "seccompProfile", "type"];

fn valid_annotation(v: &str) -> bool {
    v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/")
}

/// The type of a set `seccompProfile` (empty when the profile has no
/// string type), or `None` when no profile is set.
fn profile_type(v: &Value) -> Option<&str> {
    let profile = get(v, &TYPE[..2])?;
    Some(
        get(profile, &["type"])
            .and_then(Value::as_str)
            .unwrap_or(""),
    )
}

fn valid_type(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

/// seccompProfile_baseline v1.0: the alpha annotations must be
/// `runtime/default`, `docker/default` or `localhost/*`.
pub fn baseline_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if let Some(v) = pod.annotation(POD_ANNOTATION) {
        if !valid_annotation(v) {
            out.push(Violation::new(
                pod.annotation_path(POD_ANNOTATION),
                format!("forbidden annotation {POD_ANNOTATION}={v:?}"),
            ));
        }
    }
    for c in pod.containers() {
        let key = format!("{CONTAINER_ANNOTATION_PREFIX}{}", c.name);
        if let Some(v) = pod.annotation(&key) {
            if !valid_annotation(v) {
                out.push(Violation::new(
                    pod.annotation_path(&key),
                    format!("forbidden annotation {key}={v:?}"),
                ));
            }
        }
    }
}

/// Reports explicit bad types; returns whether the pod level sets a valid type.
fn explicit(pod: &Pod<'_>, out: &mut Vec<Violation>) -> bool {
    let pod_type = profile_type(pod.spec);
    if let Some(t) = pod_type.filter(|t| !valid_type(t)) {
        out.push(Violation::new(
            pod.path(&TYPE),
            format!("pod must not set securityContext.seccompProfile.type to {t:?}"),
        ));
    }
    for c in pod.containers() {
        if let Some(t) = profile_type(c.value).filter(|t| !valid_type(t)) {
            out.push(Violation::new(
                pod.ctr_path(&c, &TYPE),
                format!(
                    "{} must not set securityContext.seccompProfile.type to {t:?}",
                    ctr_label(&c)
                ),
            ));
        }
    }
    pod_type.is_some_and(valid_type)
}

/// seccompProfile_baseline v1.19: a set type must be `RuntimeDefault` or `Localhost`.
pub fn baseline_1_19(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    explicit(pod, out);
}

/// seccompProfile_restricted v1.19: the type must be set to `RuntimeDefault`
/// or `Localhost`, on the pod or on every container.
pub fn restricted_1_19(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if explicit(pod, out) {
        return;
    }
    for c in pod.containers() {
        if profile_type(c.value).is_none() {
            out.push(Violation::new(
                pod.ctr_path(&c, &TYPE),
                format!(
                    "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                    ctr_label(&c)
                ),
            ));
        }
    }
}

/// seccompProfile_restricted v1.25: as v1.19, Windows pods exempt.
pub fn restricted_1_25(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if !pod.is_windows() {
        restricted_1_19(pod, out);
    }
}
