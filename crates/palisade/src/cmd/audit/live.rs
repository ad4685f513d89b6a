//! `palisade audit` without `--snapshot`: the objects of a live cluster,
//! as the snapshot loader would have given them.

use super::coverage::NotAudited;
use super::AuditFacts;
use crate::input::{InputError, LoadStats};
use crate::report::Report;
use palisade_audit::live::{self, Connect, Options, Want};
use palisade_audit::{policy_report, ReportOptions};
use palisade_core::{Keep, PolicySet, Resource};
use std::path::PathBuf;
use std::sync::Arc;

/// Where and how to read the cluster.
#[derive(clap::Args, Debug, Clone)]
pub struct LiveArgs {
    /// The kubeconfig file [default: KUBECONFIG, ~/.kube/config, then the
    /// in-cluster service account].
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context [default: its current context].
    #[arg(long, value_name = "NAME", conflicts_with = "snapshot")]
    pub context: Option<String>,
    /// Objects per list request.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub page_size: u32,
    /// Kinds listed at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// Requests per second to the API server, all together.
    #[arg(long, value_name = "N", default_value_t = 50.0)]
    pub qps: f64,
}

impl LiveArgs {
    /// The reader's options.
    pub fn options(&self) -> Options {
        Options {
            connect: Connect {
                kubeconfig: self.kubeconfig.clone(),
                context: self.context.clone(),
            },
            page_size: self.page_size,
            concurrency: self.concurrency,
            qps: self.qps,
        }
    }
}

/// What a live read gives the audit.
pub struct LiveLoaded {
    /// The objects, the ClusterVersion of `/version` among them.
    pub resources: Vec<Arc<Resource>>,
    /// Objects that are not Kubernetes objects.
    pub errors: Vec<InputError>,
    /// Counts (documents: objects read).
    pub stats: LoadStats,
    /// The kinds that could not be listed, and the server version if unread.
    pub not_read: Vec<NotAudited>,
    /// The kinds listed.
    pub kinds: Vec<live::KindRead>,
}

/// What the policy set wants of `kind`: the kinds some rule, provider or
/// pod-template table reads, whole or metadata only; Namespaces always
/// (their labels set the Pod Security levels).
pub fn want(policy: &PolicySet, kind: &str) -> Want {
    if !policy.reads_kind(kind) && kind != "Namespace" {
        return Want::Nothing;
    }
    match policy.keep(kind) {
        Keep::Whole => Want::Whole,
        // `keep` is never less than metadata; identity comes as metadata
        Keep::Metadata | Keep::Identity => Want::Metadata,
    }
}

/// The runtime of the live paths: two workers.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// Reads the cluster, drawing progress bars when `progress`.
pub fn load(args: &LiveArgs, policy: &PolicySet, progress: bool) -> anyhow::Result<LiveLoaded> {
    let opts = args.options();
    let want = |kind: &str| want(policy, kind);
    let read = if progress {
        let bars = super::progress::Bars::new();
        runtime()?.block_on(live::read_with_progress(&opts, &want, &bars))?
    } else {
        runtime()?.block_on(live::read(&opts, &want))?
    };
    Ok(convert(read))
}

/// `--apply`: writes the reports of `report` to the cluster and removes
/// the stale ones; says what it did on stderr. `false` when a write failed.
pub fn apply(args: &LiveArgs, report: &Report, facts: &AuditFacts) -> anyhow::Result<bool> {
    let opts = ReportOptions {
        api: facts.report_api,
        max_results: facts.max_results,
        now: facts.now,
    };
    let reports = policy_report::reports(&report.findings, &report.suppressed, &opts);
    let outcome = runtime()?.block_on(async {
        let client = args.options().connect.client().await?;
        let limit = live::limit::RateLimit::new(args.qps);
        anyhow::Ok(live::apply::apply_reports(&client, &limit, &reports, facts.report_api).await)
    })?;
    eprintln!(
        "applied {} reports; deleted {} stale reports{}",
        outcome.applied.len(),
        outcome.deleted.len(),
        if outcome.deleted.is_empty() {
            String::new()
        } else {
            format!(" ({})", outcome.deleted.join(", "))
        }
    );
    for f in &outcome.failed {
        eprintln!("error: {f}");
    }
    Ok(outcome.failed.is_empty())
}

/// The read objects as resources.
pub fn convert(read: live::LiveRead) -> LiveLoaded {
    let mut out = LiveLoaded {
        resources: Vec::with_capacity(read.objects.len() + 1),
        errors: Vec::new(),
        stats: LoadStats::default(),
        not_read: read
            .not_read
            .into_iter()
            .map(|n| NotAudited {
                what: n.what,
                why: n.why,
            })
            .collect(),
        kinds: read.kinds,
    };
    let source: Arc<str> = Arc::from("cluster");
    for obj in read.objects {
        out.stats.documents += 1;
        match Resource::from_value(obj) {
            Some(r) => out.resources.push(Arc::new(r)),
            None => {
                out.stats.skipped += 1;
                out.errors.push(InputError::file(
                    source.clone(),
                    "a listed object without apiVersion, kind or name: not audited",
                ));
            }
        }
    }
    if let Some(v) = read.version {
        let doc = serde_json::json!({"serverVersion": v});
        match palisade_audit::cluster_version(&doc, "/version") {
            Ok(Some(r)) => out.resources.push(Arc::new(r)),
            Ok(None) => {}
            Err(e) => out
                .errors
                .push(InputError::file(Arc::from("/version"), e.to_string())),
        }
    }
    out
}
