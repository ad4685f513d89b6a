//! `palisade audit`: judge what already runs, in a live cluster (kube-rs:
//! kubeconfig, `--context`, in-cluster) or from a cluster snapshot.
//!
//! The live cluster is listed kind by kind (only the kinds the policy set
//! reads); the snapshot is read as `scan` reads manifests (files, directories,
//! Lists, JSON or YAML); a `kubectl version -o json` output in it gives the
//! API server's version. The same engine, profiles, configuration, user
//! policies and RBAC graph as `scan` evaluate it; namespace labels come from
//! its Namespaces.

mod coverage;
pub mod live;
mod output;
mod progress;
mod snapshot;
pub mod watch;

use crate::engine::{self, EngineArgs};
use crate::input;
use crate::report::Report;
use anyhow::Context as _;
use palisade_audit::ReportApi;
use palisade_core::{ContextProvider, Inventory, Severity};
use palisade_rules::cluster::{Releases, ReleasesProvider};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

pub use output::AuditFormat;

/// The report API, as named on the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportApiArg {
    /// PolicyReport / ClusterPolicyReport, wgpolicyk8s.io/v1alpha2.
    #[default]
    #[value(name = "wgpolicyk8s.io/v1alpha2")]
    Wgpolicy,
    /// Report / ClusterReport, openreports.io/v1alpha1.
    #[value(name = "openreports.io/v1alpha1")]
    OpenReports,
}

/// Arguments of `palisade audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// A cluster snapshot: files or directories of `kubectl get ... -A -o
    /// yaml|json` output (Lists or objects) and `kubectl version -o json`
    /// output; repeat for several. Without it the live cluster is read.
    #[arg(long, value_name = "FILE|DIR")]
    pub snapshot: Vec<PathBuf>,
    /// The live cluster (when no `--snapshot` is given).
    #[command(flatten)]
    pub live: live::LiveArgs,
    /// Controller mode (`--watch`).
    #[command(flatten)]
    pub watch: watch::WatchArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The API of `--format policyreport`.
    #[arg(long, value_enum, default_value_t = ReportApiArg::Wgpolicy)]
    pub report_api: ReportApiArg,
    /// Results kept per PolicyReport (the summary counts all of them).
    #[arg(long, value_name = "N", default_value_t = palisade_audit::policy_report::DEFAULT_MAX_RESULTS)]
    pub max_results: usize,
    /// Kubernetes release data replacing the shipped data (the JSON shape
    /// of crates/palisade-rules/data/k8s-releases.json).
    #[arg(long, value_name = "FILE")]
    pub releases: Option<PathBuf>,
    /// Write the PolicyReports (of `--report-api`) to the live cluster by
    /// server-side apply (field manager `palisade`) and delete the reports
    /// Palisade wrote for namespaces that have no findings any more.
    #[arg(long, conflicts_with = "snapshot")]
    pub apply: bool,
    /// Lowest severity that fails the audit with exit code 1 [default: the
    /// config's failOn, else low].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Configuration, profiles and profile options.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// What the audit read besides the report: release data and coverage.
pub struct AuditFacts {
    /// The release data the version rules used.
    pub releases: Arc<Releases>,
    /// What was not audited, and why.
    pub not_audited: Vec<coverage::NotAudited>,
    /// When the audit ran.
    pub now: jiff::Timestamp,
    /// The report API and cap for `policyreport`.
    pub report_api: ReportApi,
    /// Results per report.
    pub max_results: usize,
    /// The kinds listed, when a live cluster was read.
    pub listed: Option<Vec<palisade_audit::live::KindRead>>,
}

/// Runs the audit; exit codes as `scan`'s.
pub fn run(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    crate::memory::compact();
    let releases = match &args.releases {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read release data {}", path.display()))?;
            Arc::new(Releases::parse(&text, &path.display().to_string())?)
        }
        None => palisade_rules::cluster::releases::shipped(),
    };
    let extra: Vec<Arc<dyn ContextProvider>> = match args.releases {
        Some(_) => vec![Arc::new(ReleasesProvider(releases.clone()))],
        None => Vec::new(),
    };
    let config = engine::load_config(args.engine.config.as_deref())?;
    let policy = engine::build_with_providers(config, &args.engine, extra)?;
    let fail_on = args
        .fail_on
        .or(policy.config().spec.fail_on)
        .unwrap_or(Severity::Low);
    let report_api = match args.report_api {
        ReportApiArg::Wgpolicy => ReportApi::Wgpolicy,
        ReportApiArg::OpenReports => ReportApi::OpenReports,
    };
    if args.watch.watch {
        let setup = watch::Setup {
            policy: Arc::new(policy),
            fail_on,
            releases,
            report_api,
            max_results: args.max_results,
            output: args.output.clone().map(|o| (args.format, o)),
            apply: args.apply,
        };
        return watch::run(&args.live, &args.watch, setup);
    }
    let now = jiff::Timestamp::now();
    let (report, mut not_audited, listed, seen, source) = if args.snapshot.is_empty() {
        let l = live::load(&args.live, &policy, progress::wanted(args.format))?;
        let inventory = Inventory::new(l.resources);
        let report = Report::scan(&policy, &inventory, now, fail_on).with_input(l.errors, l.stats);
        let seen = coverage::Seen::of(&inventory);
        (report, l.not_read, Some(l.kinds), seen, "the cluster")
    } else {
        let (report, seen) = audit_snapshot(args, &policy, now, fail_on);
        (report, Vec::new(), None, seen, "the snapshot")
    };
    let facts = AuditFacts {
        releases,
        not_audited: {
            not_audited.extend(coverage::not_audited(&policy, &seen, source));
            not_audited
        },
        now,
        report_api,
        max_results: args.max_results,
        listed,
    };
    output::emit(&report, &facts, args.format, args.output.as_ref())?;
    if args.apply && !live::apply(&args.live, &report, &facts)? {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// Audits the snapshot as `scan` reads a cluster export: every source is
/// read twice (`input::stream`), the first read keeping only what the
/// context needs, the second evaluating objects one at a time, so memory
/// grows with the context, not with the snapshot. The version files are
/// added to the context.
fn audit_snapshot(
    args: &AuditArgs,
    policy: &palisade_core::PolicySet,
    now: jiff::Timestamp,
    fail_on: Severity,
) -> (Report, coverage::Seen) {
    let mut loaded = input::discover_and_load_streaming(
        &args.snapshot,
        input::read_stdin,
        &|kind| policy.keep(kind),
        (&|kind| policy.context_keep(kind), 0),
        &|| {},
        &|| {},
    );
    let (versions, version_errors) = snapshot::extra_objects(&args.snapshot);
    loaded.errors.extend(version_errors);
    loaded.resources.extend(versions.into_iter().map(Arc::new));
    let deferred = std::mem::take(&mut loaded.deferred);
    let inventory = Inventory::new(loaded.resources);
    let ext = policy.prepare(&inventory);
    let seen = coverage::Seen::default();
    let report = Report::evaluate_deferred(
        policy,
        &inventory,
        &ext,
        now,
        fail_on,
        &|r| seen.observe(r),
        &deferred,
    )
    .with_input(loaded.errors, loaded.stats);
    // The process ends soon: leave the context to the exit.
    std::mem::forget(inventory);
    (report, seen)
}
