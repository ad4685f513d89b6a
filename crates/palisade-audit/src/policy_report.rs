//! Findings as PolicyReport objects: one `PolicyReport` per namespace with
//! findings and one `ClusterPolicyReport` for cluster-scoped objects, in
//! `wgpolicyk8s.io/v1alpha2` or `openreports.io/v1alpha1` (`Report`,
//! `ClusterReport`).
//!
//! Reports are bounded so they never fill etcd: each holds at most
//! [`ReportOptions::max_results`] results (the most severe first); its
//! `summary` always counts every result, and the annotation
//! `palisade.io/results-omitted` says how many were left out.
//!
//! Results: a finding whose action is `enforce` is `fail`, `warn` and
//! `audit` are `warn`, a suppressed finding is `skip` (with its reason).

use palisade_core::{Action, Finding, Suppressed};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Which report API to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportApi {
    /// `wgpolicyk8s.io/v1alpha2` PolicyReport / ClusterPolicyReport.
    #[default]
    Wgpolicy,
    /// `openreports.io/v1alpha1` Report / ClusterReport.
    OpenReports,
}

impl ReportApi {
    /// The API version of the reports.
    pub fn api_version(self) -> &'static str {
        match self {
            ReportApi::Wgpolicy => "wgpolicyk8s.io/v1alpha2",
            ReportApi::OpenReports => "openreports.io/v1alpha1",
        }
    }

    /// The kind of a namespace report, or of the cluster report.
    pub fn kind(self, cluster: bool) -> &'static str {
        match (self, cluster) {
            (ReportApi::Wgpolicy, false) => "PolicyReport",
            (ReportApi::Wgpolicy, true) => "ClusterPolicyReport",
            (ReportApi::OpenReports, false) => "Report",
            (ReportApi::OpenReports, true) => "ClusterReport",
        }
    }
}

/// How reports are written.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// The API.
    pub api: ReportApi,
    /// Results kept per report (the summary counts all).
    pub max_results: usize,
    /// The results' timestamp.
    pub now: jiff::Timestamp,
}

/// The default cap of results per report.
pub const DEFAULT_MAX_RESULTS: usize = 1000;

/// The annotation giving how many results a report leaves out.
pub const OMITTED_ANNOTATION: &str = "palisade.io/results-omitted";

/// One result before it is placed in a report: its finding, built as a
/// result only if the report keeps it.
struct Entry<'a> {
    severity: palisade_core::Severity,
    status: &'static str,
    finding: &'a Finding,
    why: Option<&'a Suppressed>,
}

/// The reports of `findings` and `suppressed`, cluster report first, then
/// namespaces in name order.
pub fn reports(
    findings: &[Finding],
    suppressed: &[Suppressed],
    opts: &ReportOptions,
) -> Vec<Value> {
    each_report(findings, suppressed, opts).collect()
}

/// [`reports`], one at a time: each report is built when the iterator gets
/// to it (what a writer streaming thousands of namespaces' reports needs),
/// and only the results a report keeps are built at all.
pub fn each_report<'a>(
    findings: &'a [Finding],
    suppressed: &'a [Suppressed],
    opts: &'a ReportOptions,
) -> impl Iterator<Item = Value> + 'a {
    let mut by_ns: BTreeMap<Option<&str>, Vec<Entry>> = BTreeMap::new();
    for f in findings {
        let status = match f.action {
            Action::Enforce => "fail",
            Action::Warn | Action::Audit => "warn",
        };
        let e = Entry {
            severity: f.severity,
            status,
            finding: f,
            why: None,
        };
        by_ns
            .entry(f.resource.namespace.as_deref())
            .or_default()
            .push(e);
    }
    for s in suppressed {
        let f = &s.finding;
        let e = Entry {
            severity: f.severity,
            status: "skip",
            finding: f,
            why: Some(s),
        };
        by_ns
            .entry(f.resource.namespace.as_deref())
            .or_default()
            .push(e);
    }
    by_ns
        .into_iter()
        .map(move |(ns, entries)| report(ns, entries, opts))
}

/// One kept result.
fn entry(e: &Entry, opts: &ReportOptions) -> Value {
    let (f, status, why) = (e.finding, e.status, e.why);
    let r = &f.resource;
    let mut resource = Map::new();
    resource.insert("apiVersion".into(), json!(r.api_version));
    resource.insert("kind".into(), json!(r.kind));
    resource.insert("name".into(), json!(r.name));
    if let Some(ns) = &r.namespace {
        resource.insert("namespace".into(), json!(ns));
    }
    let mut properties = Map::new();
    properties.insert("path".into(), json!(f.path));
    properties.insert("action".into(), json!(f.action.as_str()));
    if !f.also.is_empty() {
        let also: Vec<&str> = f.also.iter().map(|a| &**a).collect();
        properties.insert("alsoReportedBy".into(), json!(also.join(",")));
    }
    if let Some(s) = why {
        properties.insert("suppressedBy".into(), json!(s.by));
        properties.insert("suppressionReason".into(), json!(s.reason));
    }
    let policy = f.rule.split('/').next().unwrap_or(&f.rule);
    json!({
        "policy": policy,
        "rule": &*f.rule,
        "result": status,
        "severity": f.severity,
        "message": f.message,
        "source": "palisade",
        "scored": true,
        "timestamp": {"seconds": opts.now.as_second(), "nanos": 0},
        "resources": [resource],
        "properties": properties,
    })
}

fn report(ns: Option<&str>, mut entries: Vec<Entry>, opts: &ReportOptions) -> Value {
    let mut summary = BTreeMap::from([
        ("error", 0),
        ("fail", 0),
        ("pass", 0),
        ("skip", 0),
        ("warn", 0),
    ]);
    for e in &entries {
        *summary.entry(e.status).or_default() += 1;
    }
    // Most severe first, skipped last; stable, so input order within ties.
    entries.sort_by_key(|e| (e.status == "skip", std::cmp::Reverse(e.severity)));
    let omitted = entries.len().saturating_sub(opts.max_results);
    entries.truncate(opts.max_results);
    let mut metadata = json!({
        "name": match ns { Some(ns) => format!("palisade-{ns}"), None => "palisade-cluster".into() },
        "labels": {"app.kubernetes.io/managed-by": "palisade"},
    });
    if let Some(ns) = ns {
        metadata["namespace"] = json!(ns);
    }
    if omitted > 0 {
        metadata["annotations"] = json!({ OMITTED_ANNOTATION: omitted.to_string() });
    }
    let mut out = json!({
        "apiVersion": opts.api.api_version(),
        "kind": opts.api.kind(ns.is_none()),
        "metadata": metadata,
        "summary": summary,
        "results": entries.iter().map(|e| entry(e, opts)).collect::<Vec<_>>(),
    });
    if opts.api == ReportApi::OpenReports {
        out["source"] = json!("palisade");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{ResourceId, Severity};
    use std::sync::Arc;

    fn finding(ns: Option<&str>, severity: Severity, action: Action) -> Finding {
        Finding {
            rule: Arc::from("host-pid"),
            severity,
            message: "m".into(),
            remediation: Arc::from("r"),
            path: "spec.hostPID".into(),
            resource: Arc::new(ResourceId {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: ns.map(str::to_string),
                name: "p".into(),
            }),
            location: None,
            action,
            also: Vec::new(),
            concern: Arc::from("host-pid"),
        }
    }

    #[test]
    fn one_report_per_namespace_capped_with_complete_summaries() {
        let mut findings: Vec<Finding> = (0..5)
            .map(|_| finding(Some("a"), Severity::Low, Action::Warn))
            .collect();
        findings.push(finding(Some("a"), Severity::Critical, Action::Enforce));
        findings.push(finding(Some("b"), Severity::High, Action::Enforce));
        findings.push(finding(None, Severity::Medium, Action::Enforce));
        let opts = ReportOptions {
            api: ReportApi::Wgpolicy,
            max_results: 3,
            now: jiff::Timestamp::UNIX_EPOCH,
        };
        let r = reports(&findings, &[], &opts);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0]["kind"], "ClusterPolicyReport");
        assert_eq!(r[1]["metadata"]["namespace"], "a");
        assert_eq!(r[1]["summary"]["warn"], 5);
        assert_eq!(r[1]["summary"]["fail"], 1);
        assert_eq!(r[1]["results"].as_array().unwrap().len(), 3);
        assert_eq!(
            r[1]["results"][0]["severity"], "critical",
            "most severe kept"
        );
        assert_eq!(r[1]["metadata"]["annotations"][OMITTED_ANNOTATION], "3");
        assert!(r[2]["metadata"].get("annotations").is_none());
        let open = reports(
            &findings,
            &[],
            &ReportOptions {
                api: ReportApi::OpenReports,
                ..opts
            },
        );
        assert_eq!(open[1]["kind"], "Report");
        assert_eq!(open[0]["apiVersion"], "openreports.io/v1alpha1");
    }
}
