//! The JSON format (documented in the README under "JSON output").

use crate::input::InputError;
use crate::report::{Report, Summary};
use palisade_core::{Finding, ResourceId, Severity};
use serde::Serialize;

/// One finding as JSON.
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    /// Rule ID.
    pub rule: &'a str,
    /// The other rules that reported the same problem (empty when none).
    pub also: Vec<&'a str>,
    /// Effective severity.
    pub severity: Severity,
    /// What is wrong.
    pub message: &'a str,
    /// How to fix it.
    pub remediation: &'a str,
    /// File, or null for objects not read from a file.
    pub file: Option<&'a str>,
    /// Line from 1, or null.
    pub line: Option<u32>,
    /// Column from 1, or null.
    pub column: Option<u32>,
    /// Field path, e.g. `spec.template.spec.hostNetwork`.
    pub path: &'a str,
    /// apiVersion, kind, namespace (null when unset), name.
    pub resource: &'a ResourceId,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        JsonFinding {
            rule: &f.rule,
            also: f.also.iter().map(|a| &**a).collect(),
            severity: f.severity,
            message: &f.message,
            remediation: &f.remediation,
            file: f.location.as_ref().map(|l| &*l.file),
            line: f.location.as_ref().map(|l| l.line),
            column: f.location.as_ref().map(|l| l.column),
            path: &f.path,
            resource: &f.resource,
        }
    }
}

/// A suppressed finding as JSON: the finding plus why it is hidden.
#[derive(Debug, Serialize)]
pub struct JsonSuppressed<'a> {
    /// The finding.
    #[serde(flatten)]
    pub finding: JsonFinding<'a>,
    /// The reason given.
    pub reason: &'a str,
    /// `annotation` or `exemptions[N]`.
    pub by: &'a str,
}

/// An object carrying `palisade.io/ignore`.
#[derive(Debug, Serialize)]
pub struct JsonAnnotated<'a> {
    /// apiVersion, kind, namespace, name.
    pub resource: &'a ResourceId,
    /// File, or null.
    pub file: Option<&'a str>,
    /// Line of the object, or null.
    pub line: Option<u32>,
    /// The rule IDs it lists (`*` for all).
    pub rules: &'a [String],
    /// `palisade.io/ignore-reason`.
    pub reason: &'a str,
}

/// The whole JSON document.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    /// Reported findings.
    pub findings: Vec<JsonFinding<'a>>,
    /// Input errors.
    pub errors: &'a [InputError],
    /// Suppressed findings.
    pub suppressed: Vec<JsonSuppressed<'a>>,
    /// Every object carrying `palisade.io/ignore` (honoured by scan, never
    /// at admission), whether or not it hid a finding.
    #[serde(rename = "ignoreAnnotations")]
    pub ignore_annotations: Vec<JsonAnnotated<'a>>,
    /// Counts.
    pub summary: Summary,
}

/// The JSON document of `report`.
pub fn to_json(report: &Report) -> JsonReport<'_> {
    JsonReport {
        findings: report.findings.iter().map(JsonFinding::from).collect(),
        errors: &report.errors,
        suppressed: report
            .suppressed
            .iter()
            .map(|s| JsonSuppressed {
                finding: JsonFinding::from(&s.finding),
                reason: &s.reason,
                by: &s.by,
            })
            .collect(),
        ignore_annotations: report
            .ignore_annotations
            .iter()
            .map(|a| JsonAnnotated {
                resource: &a.object.id,
                file: a.object.file.as_deref(),
                line: a.object.line,
                rules: &a.annotation.rules,
                reason: &a.annotation.reason,
            })
            .collect(),
        summary: report.summary(),
    }
}
