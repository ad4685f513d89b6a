//! What a rule reports.

use crate::resource::ResourceId;
use crate::severity::Severity;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a front door does with a finding.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Record only (admission: `auditAnnotations`).
    Audit,
    /// Admit with a warning.
    Warn,
    /// Deny at admission; fail the scan.
    #[default]
    Enforce,
}

impl Action {
    /// The lowercase name used in configuration and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Audit => "audit",
            Action::Warn => "warn",
            Action::Enforce => "enforce",
        }
    }
}

/// A file position of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// File name as given by the user (`-` for stdin).
    pub file: Arc<str>,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

/// One problem found in one object.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The rule's stable ID (shared with the rule: findings are many, rules few).
    pub rule: Arc<str>,
    /// Severity after configuration overrides.
    pub severity: Severity,
    /// What is wrong, naming the container and field. Never contains a Secret value.
    pub message: String,
    /// How to fix it (shared with the rule).
    pub remediation: Arc<str>,
    /// The field looked at, e.g. `spec.template.spec.hostNetwork`.
    pub path: String,
    /// The object (shared by the object's findings).
    pub resource: Arc<ResourceId>,
    /// Where in the source, when the object came from a file.
    #[serde(skip)]
    pub location: Option<Location>,
    /// What a front door does with it (from configuration).
    pub action: Action,
    /// Other rules that reported the same problem on the same field (the
    /// finding's severity and action are the strictest of `rule` and these).
    pub also: Vec<Arc<str>>,
    /// Identifies the problem for de-duplication across rules: findings with the
    /// same concern on the same path are one problem. Defaults to the rule ID.
    #[serde(skip)]
    pub concern: Arc<str>,
}

impl Finding {
    /// Whether `id` is the finding's rule or one of the rules merged into it.
    pub fn has_rule(&self, id: &str) -> bool {
        *self.rule == *id || self.also.iter().any(|a| **a == *id)
    }

    /// The finding's rule followed by the rules merged into it.
    pub fn rules(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&*self.rule).chain(self.also.iter().map(|a| &**a))
    }

    /// The file, line and column as a `file:line:column` string, or the resource.
    pub fn where_(&self) -> String {
        match &self.location {
            Some(l) => format!("{}:{}:{}", l.file, l.line, l.column),
            None => self.resource.to_string(),
        }
    }
}
