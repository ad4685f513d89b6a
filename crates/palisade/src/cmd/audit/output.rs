//! The audit's output formats: scan's table, JSON (plus what was not
//! audited and the release data) and SARIF; PolicyReports; HTML.

use super::AuditFacts;
use crate::output::{self, Format};
use crate::report::Report;
use anyhow::Context as _;
use palisade_audit::{html, policy_report, ReportOptions};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

/// An audit output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// A table for terminals.
    #[default]
    Table,
    /// JSON: scan's document plus `notAudited` and `releaseData`.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// One self-contained HTML page.
    Html,
    /// A `v1` List of PolicyReports (one per namespace) and a ClusterPolicyReport.
    Policyreport,
}

/// The release data facts: date, age and source.
fn release_data(facts: &AuditFacts) -> Value {
    json!({
        "asOf": facts.releases.as_of,
        "ageDays": facts.releases.age_days(facts.now),
        "source": facts.releases.source,
    })
}

/// Writes the report in `format` to `out` (or stdout).
pub fn emit(
    report: &Report,
    facts: &AuditFacts,
    format: AuditFormat,
    out: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let scan_format = match format {
        AuditFormat::Table => Some(Format::Table),
        AuditFormat::Sarif => Some(Format::Sarif),
        _ => None,
    };
    if let Some(f) = scan_format {
        crate::cmd::scan::emit(report, f, out)?;
        if f == Format::Table {
            for n in &facts.not_audited {
                eprintln!("not audited: {}: {}", n.what, n.why);
            }
            let age = facts.releases.age_days(facts.now).unwrap_or(0);
            eprintln!(
                "release data as of {} ({age} days old)",
                facts.releases.as_of
            );
        }
        return Ok(());
    }
    let text = match format {
        AuditFormat::Json => {
            let mut doc = serde_json::to_value(output::to_json(report))?;
            doc["notAudited"] = serde_json::to_value(&facts.not_audited)?;
            doc["releaseData"] = release_data(facts);
            if let Some(listed) = &facts.listed {
                doc["listed"] = serde_json::to_value(listed)?;
            }
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        AuditFormat::Policyreport => {
            let opts = ReportOptions {
                api: facts.report_api,
                max_results: facts.max_results,
                now: facts.now,
            };
            let items = policy_report::reports(&report.findings, &report.suppressed, &opts);
            let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
            serde_json::to_string_pretty(&list)? + "\n"
        }
        _ => html::render(&page(report, facts)),
    };
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    Ok(())
}

fn page<'a>(report: &'a Report, facts: &AuditFacts) -> html::Page<'a> {
    let s = report.summary();
    let age = facts.releases.age_days(facts.now).unwrap_or(0);
    html::Page {
        title: "Palisade audit",
        generated: facts.now,
        facts: vec![
            format!(
                "{} objects from {} files; {} suppressed findings; {} input errors",
                s.resources, s.files, s.suppressed, s.errors
            ),
            format!(
                "Kubernetes release data as of {} ({age} days old)",
                facts.releases.as_of
            ),
        ],
        findings: &report.findings,
        not_audited: facts
            .not_audited
            .iter()
            .map(|n| format!("{}: {}", n.what, n.why))
            .collect(),
    }
}
