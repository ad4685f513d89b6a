//! `pss-namespace-labels`: Pod Security labels on a Namespace that the
//! built-in controller cannot read. It does not ignore them: an invalid
//! level is treated as restricted and an invalid version as latest, which
//! is rarely what the author meant, so they are reported.

use super::level::{Level, Version};
use palisade_core::{Context, Emitter, FieldPath, Resource, Rule, RuleInfo, Scope, Severity};
use serde_json::Value;

const PREFIX: &str = "pod-security.kubernetes.io/";
const MODES: [&str; 3] = ["enforce", "warn", "audit"];

/// The rule.
pub struct NamespaceLabels {
    info: RuleInfo,
}

impl Default for NamespaceLabels {
    fn default() -> Self {
        NamespaceLabels {
            info: RuleInfo {
                id: "pss-namespace-labels".into(),
                severity: Severity::Medium,
                family: "pss".into(),
                title: "Pod Security: namespace label the admission controller cannot read".into(),
                description: "A pod-security.kubernetes.io label with an unknown level or version, or an \
                    unknown mode, does not do what it says: the built-in controller treats an invalid level \
                    as restricted and an invalid version as latest, and ignores unknown modes."
                    .into(),
                remediation: "Use enforce, warn or audit with privileged, baseline or restricted, and \
                    -version labels of the form v1.N or latest."
                    .into(),
            },
        }
    }
}

impl Rule for NamespaceLabels {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn scope(&self) -> Scope {
        Scope::kinds(&["Namespace"]).metadata_only()
    }

    fn reads_inventory(&self) -> Scope {
        Scope::none()
    }

    fn check(&self, res: &Resource, _ctx: &Context<'_>, out: &mut Emitter<'_>) {
        if res.id.kind != "Namespace" {
            return;
        }
        let Some(Value::Object(labels)) = res.meta("labels") else {
            return;
        };
        let base = FieldPath::root().key("metadata").key("labels");
        for (key, value) in labels {
            let Some(rest) = key.strip_prefix(PREFIX) else {
                continue;
            };
            let text = value.as_str().unwrap_or("");
            let (mode, is_version) = match rest.strip_suffix("-version") {
                Some(m) => (m, true),
                None => (rest, false),
            };
            let problem = if !MODES.contains(&mode) {
                Some(format!("unknown Pod Security mode `{mode}` (expected enforce, warn or audit): the label is ignored"))
            } else if is_version && Version::parse(text).is_none() {
                Some(format!("`{text}` is not a Pod Security version (v1.N or latest): the controller uses latest"))
            } else if !is_version && Level::parse(text).is_none() {
                Some(format!(
                    "`{text}` is not a Pod Security level (privileged, baseline or restricted): the controller enforces restricted"
                ))
            } else {
                None
            };
            if let Some(p) = problem {
                out.emit(&base.key(key), format!("label {key}: {p}"));
            }
        }
    }
}
