//! `default-service-account` and `automount-service-account-token`: which
//! identity a pod runs as, and whether its token is mounted.
//!
//! Concerns: the rule IDs (no Pod Security Standards counterpart).

use super::builtin::{BuiltinRule, Texts};
use super::fields::Flag;
use palisade_core::workload::{with_pod_spec, PodSpec, POD_KINDS};
use palisade_core::Field;
use palisade_core::{Context, Emitter, Resource, Rule, Scope, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        BuiltinRule::workload(
            Texts {
                id: "default-service-account",
                severity: Severity::Low,
                title: "Pod runs as its namespace's `default` service account",
                description: "Every pod that names no service account shares the namespace's \
                    `default` account, so a permission granted to it for one workload is granted \
                    to all, and audit logs cannot tell the workloads apart. A deliberate account \
                    per workload keeps permissions minimal and attributable.",
                remediation: "Create a ServiceAccount for the workload and set \
                    `serviceAccountName` in the pod spec.",
            },
            check_default,
        ),
        BuiltinRule::scoped(
            Texts {
                id: "automount-service-account-token",
                severity: Severity::Medium,
                title: "Pod mounts a service account token",
                description: "Unless disabled, every container gets a token of the pod's service \
                    account at /var/run/secrets/kubernetes.io/serviceaccount. An attacker in the \
                    container uses it to call the API server with the account's permissions. \
                    Most workloads never talk to the API server and need no token.",
                remediation: "Set `automountServiceAccountToken: false` in the pod spec (or on \
                    the ServiceAccount); workloads that do call the API can mount a projected \
                    token with a short lifetime and an audience.",
            },
            check_automount,
            Scope::kinds(&POD_KINDS),
            Scope::kinds(&["ServiceAccount"]),
        ),
    ]
}

/// The service account a pod spec names (`serviceAccountName`, then the
/// deprecated `serviceAccount`), when it is a non-empty string.
fn named_account<'a>(pod: &PodSpec<'a>) -> Option<&'a str> {
    ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|k| pod.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()))
}

fn check_default(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        if pod.is_partial() && named_account(pod).is_none() {
            return; // set where the workflow or task is run
        }
        let path = pod.field("serviceAccountName");
        match named_account(pod) {
            Some("default") => {
                out.emit(
                    &path,
                    format!("pod explicitly uses the `default` service account ({path})"),
                );
            }
            Some(_) => {}
            None => {
                let message = match pod
                    .get("serviceAccountName")
                    .filter(|v| !v.is_null() && !v.is_string())
                {
                    Some(_) => format!(
                        "{path} is not a string; the pod runs as the `default` service account"
                    ),
                    None => format!(
                        "pod sets no {path} and runs as the namespace's `default` service account"
                    ),
                };
                out.emit(&path, message);
            }
        }
    });
}

fn check_automount(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        if pod.is_partial() && pod.get("automountServiceAccountToken").is_none() {
            return; // set where the workflow or task is run
        }
        let path = pod.field("automountServiceAccountToken");
        let account = named_account(pod).unwrap_or("default");
        let message = match Flag::of(pod.get("automountServiceAccountToken")) {
            Flag::False => return,
            Flag::True => {
                format!("pod mounts the token of service account `{account}` ({path}: true)")
            }
            Flag::Invalid(d) => format!(
                "{path} is {d}, not a boolean; the token of service account `{account}` is mounted"
            ),
            Flag::Absent => {
                let sa = ctx
                    .inventory
                    .get("ServiceAccount", res.id.namespace.as_deref(), account);
                match sa.map(|sa| Flag::of(sa.value.field("automountServiceAccountToken"))) {
                    Some(Flag::False) => return,
                    Some(_) => format!(
                        "pod does not set {path}: false and its ServiceAccount `{account}` does not disable \
                         automountServiceAccountToken either, so its token is mounted"
                    ),
                    // At admission the request carries the pod alone: say so
                    // instead of pointing at a scan that did not happen.
                    None if ctx.request.is_some() => format!(
                        "pod does not set {path}: false, so the token of service account `{account}` is mounted \
                         unless that ServiceAccount disables automountServiceAccountToken (admission sees the pod, \
                         not its ServiceAccount)"
                    ),
                    None => format!(
                        "pod does not set {path}: false, so the token of service account `{account}` is mounted \
                         (the ServiceAccount is not among the scanned objects)"
                    ),
                }
            }
        };
        out.emit(&path, message);
    });
}
