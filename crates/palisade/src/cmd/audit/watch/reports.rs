//! Keeping the cluster's reports current from `audit --watch`: the first
//! write after becoming leader applies every report and deletes the stale
//! ones Palisade owns (as `audit --apply` does); later writes apply only
//! the reports whose content changed since this replica wrote them and
//! delete the reports of namespaces left without findings.

use palisade_audit::live::apply::{self, ObjectRef, Outcome};
use palisade_audit::live::limit::RateLimit;
use palisade_audit::{policy_report, ReportApi, ReportOptions};
use palisade_core::{Finding, Suppressed};
use serde_json::Value;
use std::collections::BTreeMap;

/// What this replica wrote, by report path: the address and the content
/// (timestamps aside).
type Written = BTreeMap<String, (ObjectRef, String)>;

/// The report writer of one replica.
pub struct Writer {
    client: kube::Client,
    limit: RateLimit,
    api: ReportApi,
    max_results: usize,
    written: Option<Written>,
}

impl Writer {
    /// A writer of `api` reports capped at `max_results` results.
    pub fn new(client: kube::Client, qps: f64, api: ReportApi, max_results: usize) -> Writer {
        Writer {
            client,
            limit: RateLimit::new(qps),
            api,
            max_results,
            written: None,
        }
    }

    /// Forgets what was written (leadership was lost): the next write is
    /// a full one.
    pub fn forget(&mut self) {
        self.written = None;
    }

    /// Writes the reports of these findings.
    pub async fn write(
        &mut self,
        findings: &[Finding],
        suppressed: &[Suppressed],
        now: jiff::Timestamp,
    ) -> Outcome {
        let opts = |now| ReportOptions {
            api: self.api,
            max_results: self.max_results,
            now,
        };
        let reports = policy_report::reports(findings, suppressed, &opts(now));
        // the same reports at a fixed time: what tells a changed report
        let stable =
            policy_report::reports(findings, suppressed, &opts(jiff::Timestamp::UNIX_EPOCH));
        let mut current: Written = BTreeMap::new();
        for (report, key) in reports.iter().zip(&stable) {
            if let Some(r) = apply::report_ref(report) {
                current.insert(r.path(), (r, key.to_string()));
            }
        }
        match self.written.take() {
            None => {
                let out = apply::apply_reports(&self.client, &self.limit, &reports, self.api).await;
                if out.failed.is_empty() {
                    self.written = Some(current);
                }
                out
            }
            Some(written) => {
                let (out, written) = self.update(written, &reports, current).await;
                self.written = Some(written);
                out
            }
        }
    }

    /// Applies the changed reports and deletes the ones gone; returns what
    /// is written afterwards.
    async fn update(
        &self,
        mut written: Written,
        reports: &[Value],
        current: Written,
    ) -> (Outcome, Written) {
        let mut out = Outcome::default();
        for report in reports {
            let Some(r) = apply::report_ref(report) else {
                continue;
            };
            let path = r.path();
            let Some((_, key)) = current.get(&path) else {
                continue;
            };
            if written.get(&path).is_some_and(|(_, k)| k == key) {
                continue;
            }
            self.limit.wait().await;
            match apply::server_side_apply(&self.client, &r, report).await {
                Ok(()) => {
                    out.applied.push(r.label());
                    written.insert(path, (r, key.clone()));
                }
                Err(e) => out.failed.push(format!("apply {path}: {e}")),
            }
        }
        let gone: Vec<String> = written
            .keys()
            .filter(|p| !current.contains_key(*p))
            .cloned()
            .collect();
        for path in gone {
            let Some((r, _)) = written.get(&path) else {
                continue;
            };
            self.limit.wait().await;
            match apply::delete(&self.client, r, None).await {
                Ok(()) => {
                    out.deleted.push(r.label());
                    written.remove(&path);
                }
                Err(e) => out.failed.push(format!("delete {path}: {e}")),
            }
        }
        (out, written)
    }
}
