//! The audit's output formats: scan's table, JSON (plus what was not
//! audited and the release data) and SARIF; PolicyReports; HTML.

use super::AuditFacts;
use crate::output::{self, Format};
use crate::report::Report;
use anyhow::Context as _;
use palisade_audit::{html, policy_report, ReportOptions};
use serde::Serialize;
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
    let write = |w: &mut dyn Write| -> anyhow::Result<()> {
        match format {
            // Both written as they are serialized: the document of a
            // 100,000-object audit is never built whole.
            AuditFormat::Json => {
                let doc = AuditJson {
                    scan: output::to_json(report),
                    not_audited: &facts.not_audited,
                    release_data: release_data(facts),
                    listed: facts.listed.as_deref(),
                };
                serde_json::to_writer_pretty(&mut *w, &doc)?;
            }
            AuditFormat::Policyreport => {
                let opts = ReportOptions {
                    api: facts.report_api,
                    max_results: facts.max_results,
                    now: facts.now,
                };
                let items = policy_report::each_report(&report.findings, &report.suppressed, &opts);
                let list = ReportList {
                    api_version: "v1",
                    kind: "List",
                    items: Lazy(std::cell::Cell::new(Some(items))),
                };
                serde_json::to_writer_pretty(&mut *w, &list)?;
            }
            _ => w.write_all(html::render(&page(report, facts)).as_bytes())?,
        }
        w.write_all(b"\n")?;
        Ok(())
    };
    match out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
            write(&mut w)?;
            w.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            write(&mut w)?;
            w.flush()?;
        }
    }
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    Ok(())
}

/// The audit's JSON document: scan's, then what was not audited, the
/// release data and, for a live cluster, the kinds listed.
#[derive(Serialize)]
struct AuditJson<'a> {
    #[serde(flatten)]
    scan: output::JsonReport<'a>,
    #[serde(rename = "notAudited")]
    not_audited: &'a [super::coverage::NotAudited],
    #[serde(rename = "releaseData")]
    release_data: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    listed: Option<&'a [palisade_audit::live::KindRead]>,
}

/// A `v1` List whose items are serialized as they are produced.
#[derive(Serialize)]
#[serde(bound = "")]
struct ReportList<I: Iterator<Item = Value>> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    items: Lazy<I>,
}

/// A sequence serialized from an iterator, once.
struct Lazy<I>(std::cell::Cell<Option<I>>);

impl<I: Iterator<Item = Value>> Serialize for Lazy<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.take().into_iter().flatten())
    }
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
