//! `secret-in-env`: credentials written as literal environment values.
//!
//! Concern: the rule ID. Messages name the container, the variable and why it
//! looks like a credential, and show the value only as `<redacted, N chars>`.

use super::builtin::{BuiltinRule, Texts};
use super::credentials::classify;
use super::fields::label;
use palisade_core::workload::with_pod_spec;
use palisade_core::Field;
use palisade_core::{Context, Emitter, Resource, Rule, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![BuiltinRule::workload(
        Texts {
            id: "secret-in-env",
            severity: Severity::High,
            title: "Credential written as a literal environment value",
            description: "A password, token or key written into the manifest is readable by \
                everyone who can read the workload (get on Deployments is granted far more \
                widely than get on Secrets), ends up in Git history, CI logs and `kubectl \
                describe` output, and cannot be rotated without a redeploy.",
            remediation: "Store the value in a Secret (or an external secret manager) and \
                reference it with `valueFrom.secretKeyRef`, or mount it as a file.",
        },
        check,
    )]
}

/// How a value is shown: never its characters.
pub fn redacted(value: &str) -> String {
    format!("<redacted, {} chars>", value.chars().count())
}

fn check(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let Some(Value::Array(env)) = c.value.field("env") else {
                continue;
            };
            for (i, var) in env.iter().enumerate() {
                let name = var.field("name").and_then(Value::as_str).unwrap_or("");
                let value = match var.field("value") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => continue,
                };
                let Some(why) = classify(name, &value) else {
                    continue;
                };
                let path = c.path.key("env").index(i).key("value");
                let shown = if name.is_empty() {
                    format!("env[{i}]")
                } else {
                    format!("`{name}`")
                };
                let message = format!(
                    "{} sets environment variable {shown} to a literal value ({}): {why} ({path})",
                    label(c),
                    redacted(&value)
                );
                out.emit(&path, message);
            }
        }
    });
}
