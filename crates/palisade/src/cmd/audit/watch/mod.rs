//! `palisade audit --watch`: the auditor as a controller. One kube-rs
//! watcher per kind the policy set reads (the list path's discovery and
//! metadata-only choice), the objects kept in memory ([`store`]), changes
//! re-evaluated after a short debounce, a full pass every `--resync`
//! seconds, reports kept current with `--apply` by the replica holding the
//! Lease (`--lease-name`), metrics on `--metrics-addr`.

mod args;
mod metrics;
mod reports;
mod store;

pub use args::WatchArgs;

use super::{coverage, live as audit_live, AuditFacts, AuditFormat};
use anyhow::Context as _;
use metrics::Metrics;
use palisade_audit::live::{self, lease, watch::Target, watch::Update, Options};
use palisade_audit::ReportApi;
use palisade_core::{PolicySet, Severity};
use palisade_rules::cluster::Releases;
use reports::Writer;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio::sync::{mpsc, watch as signal};
use tokio::time::Instant;

/// How long the first full pass waits for kinds that are neither listed
/// nor failed.
const FIRST_PASS_WAIT: Duration = Duration::from_secs(120);

/// What the controller needs besides the command line.
pub struct Setup {
    /// The compiled policy set.
    pub policy: Arc<PolicySet>,
    /// The failure threshold (for `-o` output).
    pub fail_on: Severity,
    /// The release data (for `-o` output).
    pub releases: Arc<Releases>,
    /// The report API.
    pub report_api: ReportApi,
    /// Results per report.
    pub max_results: usize,
    /// `--format` and `-o`: where each full pass's report goes.
    pub output: Option<(AuditFormat, PathBuf)>,
    /// `--apply`.
    pub apply: bool,
}

/// One watched kind's state.
struct KindState {
    target: Target,
    listed: bool,
    failed: Option<String>,
}

/// Runs until SIGTERM or Ctrl-C.
pub fn run(
    live_args: &audit_live::LiveArgs,
    args: &WatchArgs,
    setup: Setup,
) -> anyhow::Result<ExitCode> {
    let rt = audit_live::runtime()?;
    rt.block_on(async {
        let mut c = Controller::start(live_args.options(), args, setup).await?;
        c.run(args).await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

struct Controller {
    opts: Options,
    client: kube::Client,
    setup: Setup,
    metrics: Arc<Metrics>,
    kinds: Vec<KindState>,
    not_read: Vec<coverage::NotAudited>,
    store: Option<Store>,
    updates: mpsc::Receiver<Update>,
    watchers: Vec<tokio::task::JoinHandle<()>>,
    leading: signal::Receiver<bool>,
    stop: signal::Sender<bool>,
    elector: Option<tokio::task::JoinHandle<()>>,
    writer: Option<Writer>,
    reported: Vec<String>,
}

impl Controller {
    async fn start(opts: Options, args: &WatchArgs, setup: Setup) -> anyhow::Result<Controller> {
        let client = opts.connect.client().await?;
        let metrics = Arc::new(Metrics::new());
        if let Some(addr) = args.metrics_addr {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (--metrics-addr)"))?;
            eprintln!("metrics on http://{}/metrics", listener.local_addr()?);
            tokio::spawn(metrics::serve(listener, metrics.clone()));
        }
        let mut not_read = Vec::new();
        let policy = setup.policy.clone();
        let want = move |kind: &str| audit_live::want(&policy, kind);
        let targets = live::targets(&client, &opts, &want, "watch", &mut not_read).await?;
        let targets: Vec<Target> = targets
            .into_iter()
            .map(|(ar, metadata_only)| Target { ar, metadata_only })
            .collect();
        let not_read: Vec<coverage::NotAudited> = not_read
            .into_iter()
            .map(|n| coverage::NotAudited {
                what: n.what,
                why: n.why,
            })
            .collect();
        for n in &not_read {
            eprintln!("not audited: {}: {}", n.what, n.why);
        }
        let (tx, updates) = mpsc::channel(1024);
        let watch_opts = live::watch::WatchOptions {
            page_size: opts.page_size,
            timeout: args.watch_timeout,
        };
        let watchers = live::watch::spawn(&client, &targets, watch_opts, tx);
        let (lead_tx, leading) = signal::channel(args.lease_name.is_none());
        let (stop, stop_rx) = signal::channel(false);
        let elector = args.lease(&client).map(|elector| {
            let m = metrics.clone();
            tokio::spawn(lease::run(elector, lead_tx, stop_rx, move |round| {
                m.set_leader(matches!(round, lease::Round::Leading));
                eprintln!("lease: {}", describe(round));
            }))
        });
        metrics.set_leader(*leading.borrow());
        let writer = setup.apply.then(|| {
            Writer::new(
                client.clone(),
                opts.qps,
                setup.report_api,
                setup.max_results,
            )
        });
        let kinds = targets
            .into_iter()
            .map(|target| KindState {
                target,
                listed: false,
                failed: None,
            })
            .collect();
        Ok(Controller {
            opts,
            client,
            setup,
            metrics,
            kinds,
            not_read,
            store: Some(Store::default()),
            updates,
            watchers,
            leading,
            stop,
            elector,
            writer,
            reported: Vec::new(),
        })
    }

    async fn run(&mut self, args: &WatchArgs) {
        let started = Instant::now();
        let debounce = Duration::from_millis(args.debounce_ms);
        let resync = Duration::from_secs(args.resync.max(1));
        let mut first_done = false;
        let mut due: Option<Instant> = None;
        let mut next_full = Instant::now() + resync;
        let mut shutdown = std::pin::pin!(shutdown_signal());
        loop {
            if !first_done
                && (self.kinds.iter().all(|k| k.listed || k.failed.is_some())
                    || started.elapsed() > FIRST_PASS_WAIT)
            {
                self.pass(true).await;
                first_done = true;
                next_full = Instant::now() + resync;
                due = None;
            }
            let wake = due.unwrap_or(next_full).min(next_full);
            tokio::select! {
                _ = &mut shutdown => break,
                update = self.updates.recv() => match update {
                    Some(u) => {
                        self.update(u);
                        if first_done && due.is_none() && self.pending() {
                            due = Some(Instant::now() + debounce);
                        }
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(wake), if first_done => {
                    let full = Instant::now() >= next_full;
                    self.pass(full).await;
                    due = None;
                    if full {
                        next_full = Instant::now() + resync;
                    }
                }
                changed = self.leading.changed(), if self.elector.is_some() => {
                    if changed.is_err() {
                        // the election ended (it only does at shutdown)
                        self.elector = None;
                        continue;
                    }
                    let leading = *self.leading.borrow();
                    self.metrics.set_leader(leading);
                    if !leading {
                        if let Some(w) = &mut self.writer {
                            w.forget();
                        }
                    } else if first_done {
                        self.pass(false).await;
                    }
                }
            }
        }
        self.shutdown().await;
    }

    fn pending(&self) -> bool {
        self.store.as_ref().is_some_and(Store::pending)
    }

    /// Applies one watcher update to the store.
    fn update(&mut self, u: Update) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let policy = &self.setup.policy;
        let k = match &u {
            Update::Listed { kind, .. }
            | Update::Applied { kind, .. }
            | Update::Deleted { kind, .. }
            | Update::Failed { kind, .. } => *kind,
        };
        let Some(state) = self.kinds.get_mut(k) else {
            return;
        };
        let kind = state.target.ar.kind.clone();
        match u {
            Update::Listed { objects, .. } => {
                self.metrics.event(&kind, "listed");
                let bad = store.listed(policy, &state.target.ar.api_version, &kind, objects);
                if bad > 0 {
                    eprintln!("error: {bad} listed {kind} objects without apiVersion, kind or name: not audited");
                }
                if state.failed.take().is_some() || !state.listed {
                    eprintln!("watching {kind} ({})", state.target.ar.api_version);
                }
                state.listed = true;
                self.metrics.set_not_audited(&kind, false);
            }
            Update::Applied { object, .. } => {
                self.metrics.event(&kind, "applied");
                store.applied(policy, object);
            }
            Update::Deleted { object, .. } => {
                self.metrics.event(&kind, "deleted");
                store.deleted(policy, &object);
            }
            Update::Failed { error, status, .. } => {
                self.metrics.restart(&kind);
                let path = live::list::collection_path(&state.target.ar);
                let code = status.map(|c| format!(" (HTTP {c})")).unwrap_or_default();
                eprintln!("error: watch {path}: {error}{code}; backing off, then listing again");
                if !state.listed || status == Some(403) {
                    self.metrics.set_not_audited(&kind, true);
                }
                state.failed = Some(format!("cannot list or watch {path}: {error}"));
            }
        }
    }

    /// Evaluates what changed (everything when `full`), then writes the
    /// reports when leading.
    async fn pass(&mut self, full: bool) {
        let Some(mut store) = self.store.take() else {
            return;
        };
        if full {
            self.refresh_version(&mut store).await;
        }
        let policy = self.setup.policy.clone();
        let fail_on = self.setup.fail_on;
        let now = jiff::Timestamp::now();
        let t = std::time::Instant::now();
        let joined = tokio::task::spawn_blocking(move || {
            let pass = store.pass(&policy, now, fail_on, full);
            (store, pass)
        })
        .await;
        let Ok((store, pass)) = joined else {
            eprintln!("error: the evaluation stopped; starting again with an empty store");
            self.store = Some(Store::default());
            return;
        };
        self.store = Some(store);
        self.metrics.set_findings(&pass.report.findings);
        self.metrics.set_objects(pass.objects);
        if full {
            self.metrics.full_pass(t.elapsed().as_secs_f64());
        }
        eprintln!(
            "{} pass: {} objects, {} evaluated, {} findings ({:.2}s)",
            if full { "full" } else { "incremental" },
            pass.objects,
            pass.evaluated,
            pass.report.findings.len(),
            t.elapsed().as_secs_f64()
        );
        let not_audited = self.not_audited(&pass.not_audited);
        if full {
            self.write_output(&pass.report, not_audited, now);
        }
        self.write_reports(&pass.report, now).await;
    }

    /// What is not audited now: kinds not listed, coverage gaps. Logged
    /// when it changes.
    fn not_audited(&mut self, coverage: &[coverage::NotAudited]) -> Vec<coverage::NotAudited> {
        let mut all = self.not_read.clone();
        for k in &self.kinds {
            if let (false, Some(why)) = (k.listed, &k.failed) {
                all.push(coverage::NotAudited {
                    what: format!("{} ({})", k.target.ar.kind, k.target.ar.api_version),
                    why: why.clone(),
                });
            }
        }
        all.extend(coverage.iter().cloned());
        let lines: Vec<String> = all
            .iter()
            .map(|n| format!("{}: {}", n.what, n.why))
            .collect();
        if lines != self.reported {
            for l in lines.iter().filter(|l| !self.reported.contains(l)) {
                eprintln!("not audited: {l}");
            }
            self.reported = lines;
        }
        all
    }

    /// `-o FILE`: the report of a full pass, replaced atomically.
    fn write_output(
        &self,
        report: &crate::report::Report,
        not_audited: Vec<coverage::NotAudited>,
        now: jiff::Timestamp,
    ) {
        let Some((format, path)) = &self.setup.output else {
            return;
        };
        let facts = AuditFacts {
            releases: self.setup.releases.clone(),
            not_audited,
            now,
            report_api: self.setup.report_api,
            max_results: self.setup.max_results,
            listed: None,
        };
        let tmp = path.with_extension("tmp");
        let written = super::output::emit(report, &facts, *format, Some(&tmp))
            .and_then(|()| std::fs::rename(&tmp, path).map_err(anyhow::Error::from));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e:#}", path.display());
        }
    }

    async fn write_reports(&mut self, report: &crate::report::Report, now: jiff::Timestamp) {
        let leading = *self.leading.borrow();
        let Some(writer) = self.writer.as_mut().filter(|_| leading) else {
            return;
        };
        let out = writer
            .write(&report.findings, &report.suppressed, now)
            .await;
        self.metrics
            .wrote(out.applied.len(), out.deleted.len(), out.failed.len());
        if !out.applied.is_empty() || !out.deleted.is_empty() {
            eprintln!(
                "applied {} reports; deleted {} reports{}",
                out.applied.len(),
                out.deleted.len(),
                if out.deleted.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", out.deleted.join(", "))
                }
            );
        }
        for f in &out.failed {
            eprintln!("error: {f}");
        }
    }

    /// Reads `/version` again (the ClusterVersion the version rules check).
    async fn refresh_version(&self, store: &mut Store) {
        let limit = live::limit::RateLimit::new(self.opts.qps);
        match live::server_version(&self.client, &limit).await {
            Ok(v) => {
                let doc = serde_json::json!({"serverVersion": v});
                match palisade_audit::cluster_version(&doc, "/version") {
                    Ok(Some(r)) => store.put_resource(&self.setup.policy, r),
                    Ok(None) => {}
                    Err(e) => eprintln!("error: /version: {e}"),
                }
            }
            Err(e) => eprintln!("error: {e}"),
        }
    }

    async fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(e) = self.elector.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), e).await;
        }
        for w in &self.watchers {
            w.abort();
        }
        eprintln!("stopped");
    }
}

fn describe(round: &lease::Round) -> String {
    match round {
        lease::Round::Leading => "leading: this replica writes the reports".into(),
        lease::Round::Following(h) if h.is_empty() => "following".into(),
        lease::Round::Following(h) => format!("following {h}"),
        lease::Round::Failed(why) => format!("error: {why}"),
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
