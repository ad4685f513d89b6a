//! SELinux: `seLinuxOptions` (type allow-list growing at v1.31; user and
//! role must be empty).

use super::Violation;
use crate::pss::pod::{ctr_label, get, Pod};
use serde_json::Value;

const TYPES_1_0: [&str; 4] = ["", "container_t", "container_init_t", "container_kvm_t"];
const TYPES_1_31: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];
const OPTS: [&str; 2] = ["securityContext", "seLinuxOptions"];

fn text<'a>(opts: &'a Value, key: &str) -> &'a str {
    get(opts, &[key]).and_then(Value::as_str).unwrap_or("")
}

/// What is wrong with the options, in the built-in controller's words.
fn problems(opts: &Value, types: &[&str]) -> Vec<String> {
    let mut bad = Vec::new();
    let t = text(opts, "type");
    if !types.contains(&t) {
        bad.push(format!("type {t:?}"));
    }
    if !text(opts, "user").is_empty() {
        bad.push("user may not be set".to_string());
    }
    if !text(opts, "role").is_empty() {
        bad.push("role may not be set".to_string());
    }
    bad
}

fn check(pod: &Pod<'_>, types: &[&str], out: &mut Vec<Violation>) {
    if let Some(opts) = get(pod.spec, &OPTS) {
        let bad = problems(opts, types);
        if !bad.is_empty() {
            out.push(Violation::new(
                pod.path(&OPTS),
                format!(
                    "pod set forbidden securityContext.seLinuxOptions: {}",
                    bad.join("; ")
                ),
            ));
        }
    }
    for c in pod.containers() {
        if let Some(opts) = get(c.value, &OPTS) {
            let bad = problems(opts, types);
            if !bad.is_empty() {
                out.push(Violation::new(
                    pod.ctr_path(&c, &OPTS),
                    format!(
                        "{} set forbidden securityContext.seLinuxOptions: {}",
                        ctr_label(&c),
                        bad.join("; ")
                    ),
                ));
            }
        }
    }
}

/// seLinuxOptions v1.0.
pub fn se_linux_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    check(pod, &TYPES_1_0, out);
}

/// seLinuxOptions v1.31: also `container_engine_t`.
pub fn se_linux_1_31(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    check(pod, &TYPES_1_31, out);
}
