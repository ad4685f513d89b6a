//! AppArmor: `appArmorProfile` (the beta annotations and the
//! `securityContext.appArmorProfile` fields, at every version).

use super::Violation;
use crate::pss::pod::{ctr_label, get, Pod};
use serde_json::Value;

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const TYPE: [&str; 3] = ["securityContext", "appArmorProfile", "type"];

fn allowed_annotation(v: &str) -> bool {
    v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")
}

fn bad_type(v: &Value) -> Option<&str> {
    get(v, &TYPE[..2])?;
    let t = get(v, &TYPE).and_then(Value::as_str).unwrap_or("");
    (t != "RuntimeDefault" && t != "Localhost").then_some(t)
}

/// appArmorProfile v1.0: profiles must be the runtime default or a
/// localhost profile.
pub fn app_armor_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if let Some(t) = bad_type(pod.spec) {
        out.push(Violation::new(
            pod.path(&TYPE),
            format!("pod must not set AppArmor profile type to {t:?}"),
        ));
    }
    for c in pod.containers() {
        if let Some(t) = bad_type(c.value) {
            out.push(Violation::new(
                pod.ctr_path(&c, &TYPE),
                format!(
                    "{} must not set AppArmor profile type to {t:?}",
                    ctr_label(&c)
                ),
            ));
        }
    }
    let mut bad: Vec<(&str, &str)> = pod
        .annotations()
        .filter(|(k, v)| k.starts_with(ANNOTATION_PREFIX) && !allowed_annotation(v))
        .collect();
    bad.sort_unstable();
    for (k, v) in bad {
        out.push(Violation::new(
            pod.annotation_path(k),
            format!("annotation {k}={v:?}"),
        ));
    }
}
