//! SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
//!
//! One run; `tool.driver.rules` describes every rule that ran (help text,
//! default level, GitHub's `security-severity`); each finding is a result
//! with a physical location (file, line, column), the object as a logical
//! location and a partial fingerprint that survives line moves. A finding
//! merged from several rules is one result under its leading rule (`ruleId`)
//! whose `properties.rules` and `properties.tags` list every rule it belongs
//! to (`properties.also` the others). Suppressed
//! findings are results with a `suppressions` entry (GitHub closes them);
//! input errors are tool execution notifications.

use crate::input::InputError;
use crate::report::{Report, RuleDescriptor};
use palisade_core::{Finding, Severity, Suppressed};
use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, Run, Sarif, Suppression, Tool, ToolComponent,
};
use std::collections::BTreeMap;

/// Where the SARIF 2.1.0 schema lives.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF level of a severity: critical and high are errors, medium a
/// warning, low and info notes.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score (critical > 9, high 7-8.9, medium
/// 4-6.9, low 0.1-3.9).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The SARIF log of `report`.
pub fn to_sarif(report: &Report) -> Sarif {
    let rules: Vec<ReportingDescriptor> = report.rules.iter().map(descriptor).collect();
    let index = |id: &str| report.rules.iter().position(|r| r.info.id == id);
    let mut results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| result(f, index(&f.rule)))
        .collect();
    results.extend(
        report
            .suppressed
            .iter()
            .map(|s| suppressed(s, index(&s.finding.rule))),
    );
    let mut driver = ToolComponent::builder().name("palisade").build();
    driver.version = Some(env!("CARGO_PKG_VERSION").into());
    driver.semantic_version = Some(env!("CARGO_PKG_VERSION").into());
    driver.rules = Some(rules);
    let mut invocation = Invocation::builder()
        .execution_successful(report.errors.is_empty())
        .build();
    invocation.exit_code = Some(i64::from(report.exit_code()));
    if !report.errors.is_empty() {
        invocation.tool_execution_notifications =
            Some(report.errors.iter().map(notification).collect());
    }
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .build();
    run.results = Some(results);
    run.invocations = Some(vec![invocation]);
    run.column_kind = Some(json!("unicodeCodePoints"));
    let mut log = Sarif::builder()
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    log.schema = Some(SCHEMA.into());
    log
}

fn text(t: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(t.into()).build()
}

fn descriptor(r: &RuleDescriptor) -> ReportingDescriptor {
    let i = &r.info;
    let mut d = ReportingDescriptor::builder().id(i.id.clone()).build();
    d.name = Some(camel_case(&i.id));
    d.short_description = Some(text(&i.title));
    d.full_description = Some(text(&i.description));
    let mut help = text(format!(
        "{}\n\nWhy: {}\n\nFix: {}",
        i.title, i.description, i.remediation
    ));
    help.markdown = Some(format!(
        "**{}**\n\n{}\n\n**Fix:** {}",
        i.title, i.description, i.remediation
    ));
    d.help = Some(help);
    let mut config = ReportingConfiguration::builder().build();
    config.level = Some(json!(level(r.severity)));
    d.default_configuration = Some(config);
    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".to_string(),
        json!(security_severity(r.severity)),
    );
    props.insert("severity".to_string(), json!(r.severity));
    d.properties = Some(bag(vec!["security".into(), i.family.clone()], props));
    d
}

fn bag(tags: Vec<String>, props: BTreeMap<String, Value>) -> PropertyBag {
    let mut b = PropertyBag::builder().build();
    b.tags = Some(tags);
    b.additional_properties = props;
    b
}

fn result(f: &Finding, rule_index: Option<usize>) -> SarifResult {
    let mut r = SarifResult::builder()
        .message(Message::from(&f.message))
        .build();
    r.rule_id = Some(f.rule.to_string());
    r.rule_index = rule_index.and_then(|i| i64::try_from(i).ok());
    r.level = Some(match level(f.severity) {
        "error" => serde_sarif::sarif::ResultLevel::Error,
        "warning" => serde_sarif::sarif::ResultLevel::Warning,
        _ => serde_sarif::sarif::ResultLevel::Note,
    });
    let mut location = Location::builder().build();
    if let Some(l) = &f.location {
        let mut artifact = ArtifactLocation::builder().build();
        artifact.uri = Some(file_uri(&l.file));
        let mut region = Region::builder().build();
        region.start_line = Some(i64::from(l.line.max(1)));
        region.start_column = Some(i64::from(l.column.max(1)));
        let mut phys = PhysicalLocation::builder().build();
        phys.artifact_location = Some(artifact);
        phys.region = Some(region);
        location.physical_location = Some(phys);
    }
    let id = &f.resource;
    let mut logical = LogicalLocation::builder().build();
    logical.name = Some(format!("{}/{}", id.kind, id.name));
    logical.fully_qualified_name = Some(match &id.namespace {
        Some(ns) => format!("{}/{}/{ns}/{}", id.api_version, id.kind, id.name),
        None => format!("{}/{}/{}", id.api_version, id.kind, id.name),
    });
    logical.kind = Some("resource".into());
    location.logical_locations = Some(vec![logical]);
    r.locations = Some(vec![location]);
    r.partial_fingerprints = Some(BTreeMap::from([(
        "palisadeFinding/v1".to_string(),
        fingerprint(f),
    )]));
    let mut props = BTreeMap::new();
    props.insert("severity".to_string(), json!(f.severity));
    props.insert("path".to_string(), json!(f.path));
    // A merged finding is one result under its leading rule; every rule it
    // belongs to is in `rules` (and `also` the others), and its tags.
    let rules: Vec<&str> = f.rules().collect();
    props.insert("rules".to_string(), json!(rules));
    props.insert("also".to_string(), json!(&rules[1..]));
    r.properties = Some(bag(rules.iter().map(|r| r.to_string()).collect(), props));
    r
}

fn suppressed(s: &Suppressed, rule_index: Option<usize>) -> SarifResult {
    let mut r = result(&s.finding, rule_index);
    let kind = if s.by == "annotation" {
        "inSource"
    } else {
        "external"
    };
    let mut sup = Suppression::builder().kind(json!(kind)).build();
    sup.justification = Some(format!("{} ({})", s.reason, s.by));
    sup.status = Some(json!("accepted"));
    r.suppressions = Some(vec![sup]);
    r
}

fn notification(e: &InputError) -> Notification {
    let mut n = Notification::builder()
        .message(Message::from(&e.message))
        .build();
    n.level = Some(json!("error"));
    let mut artifact = ArtifactLocation::builder().build();
    artifact.uri = Some(file_uri(&e.file));
    let mut phys = PhysicalLocation::builder().build();
    phys.artifact_location = Some(artifact);
    if let Some(line) = e.line {
        let mut region = Region::builder().build();
        region.start_line = Some(i64::from(line.max(1)));
        region.start_column = e.column.map(|c| i64::from(c.max(1)));
        phys.region = Some(region);
    }
    let mut location = Location::builder().build();
    location.physical_location = Some(phys);
    n.locations = Some(vec![location]);
    n
}

/// A URI reference for a file name: relative paths stay relative (GitHub
/// resolves them against the repository root), absolute ones become
/// `file://` URIs; characters outside the unreserved set are percent-encoded.
pub fn file_uri(file: &str) -> String {
    let file = file.strip_prefix("./").unwrap_or(file);
    let mut out = String::with_capacity(file.len() + 8);
    if file.starts_with('/') {
        out.push_str("file://");
    }
    for b in file.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A stable hash of what the finding is about (rule, object, field), not of
/// where it is, so moving lines does not open a new alert.
fn fingerprint(f: &Finding) -> String {
    let id = &f.resource;
    let ns = id.namespace.as_deref().unwrap_or("");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [&*f.rule, &id.api_version, &id.kind, ns, &id.name, &f.path] {
        for b in part.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn camel_case(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|first| first.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(file_uri("./a b/c.yaml"), "a%20b/c.yaml");
        assert_eq!(file_uri("/tmp/x#.yaml"), "file:///tmp/x%23.yaml");
        assert_eq!(file_uri("-"), "-");
    }

    #[test]
    fn names_are_camel_case() {
        assert_eq!(camel_case("host-network"), "HostNetwork");
    }
}
