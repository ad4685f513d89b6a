//! `secret-in-configmap`: credentials in ConfigMap data.
//!
//! Each `data` entry is judged as `secret-in-env` judges an environment
//! variable (its key as the name, by the same credential patterns), and so
//! is each `name = value` or `name: value` line of a multi-line entry (a
//! properties or YAML file). Values are never shown: only their length.

use super::{ClusterRule, Texts};
use crate::workload::credentials::{classify, content_kind};
use crate::workload::secret_env::redacted;
use palisade_core::{Context, Emitter, Field, FieldPath, Resource, Rule, Scope, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![ClusterRule::shared(
        Texts {
            id: "secret-in-configmap",
            severity: Severity::High,
            title: "Credential stored in a ConfigMap",
            description: "ConfigMaps are not meant for secrets: read access to them is granted \
                widely (the `view` role, many controllers and operators), they are never \
                encrypted at rest even when Secrets are, and they are printed by `kubectl \
                describe`. A password, token or key in a ConfigMap is readable by far more people \
                and programs than the same value in a Secret.",
            remediation: "Move the value into a Secret (or an external secret manager) and mount \
                or reference it from there; rotate the credential, since it has been readable.",
        },
        Scope::kinds(&["ConfigMap"]),
        Scope::none(),
        Box::new(check),
    )]
}

/// Why an entry looks like a credential, or `None`.
fn judge(key: &str, value: &str) -> Option<String> {
    if !value.contains('\n') {
        return classify(key, value);
    }
    if let Some(kind) = content_kind(value) {
        return Some(format!("it holds {kind}"));
    }
    value.lines().enumerate().find_map(|(n, line)| {
        let line = line.trim().trim_start_matches("export ");
        let cut = line.find(['=', ':'])?;
        let (name, rest) = (line[..cut].trim(), line[cut + 1..].trim());
        let rest = rest.trim_matches(|c| c == '"' || c == '\'');
        if name.is_empty() || name.contains(' ') || rest.is_empty() {
            return None;
        }
        let why = classify(name, rest)?;
        Some(format!("line {} sets `{name}`: {why}", n + 1))
    })
}

fn check(res: &Resource, _: &Context<'_>, out: &mut Emitter<'_>) {
    let Some(Value::Object(data)) = res.value.field("data") else {
        return;
    };
    for (key, value) in data {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        let Some(why) = judge(key, &value) else {
            continue;
        };
        let path = FieldPath::root().key("data").key(key);
        out.emit(
            &path,
            format!(
                "ConfigMap key `{key}` holds a credential ({}): {why} ({path})",
                redacted(&value)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::judge;

    #[test]
    fn files_are_judged_line_by_line() {
        let props = "db.url=jdbc:postgresql://db/app\ndb.user=app\ndb.password=hunter22\n";
        let why = judge("application.properties", props).unwrap();
        assert!(why.starts_with("line 3 sets `db.password`"), "{why}");
        assert!(!why.contains("hunter22"));
        assert!(judge("app.yaml", "log:\n  level: debug\npasswordFile: /etc/pw\n").is_none());
        assert!(judge("password", "").is_none());
        assert!(judge("api_key", "s3cr3t-value").is_some());
    }
}
