//! The result of a scan (or of any command that reports findings), which
//! every output format renders: findings, suppressed findings, input errors,
//! the rules that ran and a summary.

use crate::input::{self, Deferred, InputError, LoadStats};
use palisade_core::policy_set::EXEMPTION_EXPIRED;
use palisade_core::{
    Context, Evaluation, Extensions, Finding, IgnoreAnnotation, Inventory, PolicySet, Resource,
    ResourceId, RuleInfo, Severity, Suppressed,
};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;

/// A rule as reported: its texts and its severity after configuration.
#[derive(Debug, Clone)]
pub struct RuleDescriptor {
    /// ID, title, description, remediation.
    pub info: RuleInfo,
    /// Effective severity.
    pub severity: Severity,
}

/// An object that was evaluated (JUnit lists passing objects too).
#[derive(Debug, Clone)]
pub struct Scanned {
    /// Its identity.
    pub id: ResourceId,
    /// The file it came from, if any.
    pub file: Option<Arc<str>>,
    /// The line where it starts, if known.
    pub line: Option<u32>,
}

/// An object carrying the `palisade.io/ignore` annotation: listed whether
/// or not it hid a finding, so self-granted exemptions stay visible.
#[derive(Debug, Clone)]
pub struct Annotated {
    /// The object.
    pub object: Scanned,
    /// What the annotation says.
    pub annotation: IgnoreAnnotation,
}

/// Everything an output format needs.
#[derive(Debug, Clone)]
pub struct Report {
    /// Reported findings, in input order (file, document, then line).
    pub findings: Vec<Finding>,
    /// Findings hidden by annotations or exemptions, in the same order.
    pub suppressed: Vec<Suppressed>,
    /// Inputs that could not be read or parsed.
    pub errors: Vec<InputError>,
    /// The rules that ran (SARIF and JUnit describe them).
    pub rules: Vec<RuleDescriptor>,
    /// The objects evaluated, in input order.
    pub scanned: Vec<Scanned>,
    /// The objects carrying `palisade.io/ignore`, in input order.
    pub ignore_annotations: Vec<Annotated>,
    /// What was read.
    pub stats: LoadStats,
    /// Lowest severity that fails the run.
    pub fail_on: Severity,
}

/// Per-severity counts of reported findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    /// Critical findings.
    pub critical: usize,
    /// High findings.
    pub high: usize,
    /// Medium findings.
    pub medium: usize,
    /// Low findings.
    pub low: usize,
    /// Info findings.
    pub info: usize,
}

/// The `summary` object of the JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Files (and stdin) read.
    pub files: usize,
    /// Documents parsed, including empty ones.
    pub documents: usize,
    /// Empty documents.
    pub empty: usize,
    /// Documents or List items that are not Kubernetes objects.
    pub skipped: usize,
    /// Objects evaluated.
    pub resources: usize,
    /// Reported findings.
    pub findings: usize,
    /// Suppressed findings.
    pub suppressed: usize,
    /// Input errors.
    pub errors: usize,
    /// Reported findings per severity.
    pub by_severity: SeverityCounts,
    /// Lowest severity that fails the run.
    pub fail_on: Severity,
    /// Whether a finding is at or above `failOn`.
    pub failed: bool,
    /// The process exit code: 0 pass, 1 findings at or above `failOn`, 2 input errors.
    pub exit_code: u8,
}

impl Report {
    /// An empty report failing on `fail_on`.
    pub fn new(fail_on: Severity) -> Self {
        Report {
            findings: Vec::new(),
            suppressed: Vec::new(),
            errors: Vec::new(),
            rules: Vec::new(),
            scanned: Vec::new(),
            ignore_annotations: Vec::new(),
            stats: LoadStats::default(),
            fail_on,
        }
    }

    /// Evaluates every object of `inventory` against `policy` in parallel
    /// (context prepared once over all of them) and adds the findings about
    /// the configuration itself (expired exemptions). The caller owns the
    /// inventory: a short-lived process may leak it instead of freeing
    /// hundreds of megabytes of objects one by one at exit.
    pub fn scan(
        policy: &PolicySet,
        inventory: &Inventory,
        now: jiff::Timestamp,
        fail_on: Severity,
    ) -> Self {
        Self::scan_with_progress(policy, inventory, now, fail_on, &|| {})
    }

    /// [`Report::scan`], calling `progress` once per object evaluated (from
    /// any thread).
    pub fn scan_with_progress(
        policy: &PolicySet,
        inventory: &Inventory,
        now: jiff::Timestamp,
        fail_on: Severity,
        progress: &(dyn Fn() + Sync),
    ) -> Self {
        let ext = policy.prepare(inventory);
        Self::evaluate(policy, inventory, &ext, now, fail_on, progress)
    }

    /// Evaluates every object of `inventory` with `ext` (what
    /// [`PolicySet::prepare`] derived, plus anything a front door adds, such
    /// as the RBAC directory), calling `progress` once per object.
    pub fn evaluate(
        policy: &PolicySet,
        inventory: &Inventory,
        ext: &Extensions,
        now: jiff::Timestamp,
        fail_on: Severity,
        progress: &(dyn Fn() + Sync),
    ) -> Self {
        Self::evaluate_deferred(policy, inventory, ext, now, fail_on, &|_| progress(), &[])
    }

    /// [`Report::evaluate`] for a scan with sources read twice: the objects
    /// of a [`Deferred`] source in the inventory are its context objects
    /// only; the source is read again and every object of it evaluated and
    /// dropped one at a time, its results taking the source's place.
    /// `seen` is called with every object evaluated (from any thread), for
    /// progress or for what a front door learns from the objects that the
    /// context does not keep.
    pub fn evaluate_deferred(
        policy: &PolicySet,
        inventory: &Inventory,
        ext: &Extensions,
        now: jiff::Timestamp,
        fail_on: Severity,
        seen: &(dyn Fn(&Resource) + Sync),
        deferred: &[Deferred],
    ) -> Self {
        let mut report = Report::new(fail_on);
        report.rules = descriptors(policy);
        let ctx = Context::new(inventory, ext, now);
        let in_deferred = |i: usize| {
            deferred
                .iter()
                .any(|d| (d.start..d.start + d.count).contains(&i))
        };
        let items: Vec<_> = inventory.iter().enumerate().collect();
        // Findings are sorted and the scanned objects described on the
        // worker threads; the merge below only moves them.
        let evaluations: Vec<Option<Evaluated>> = items
            .par_iter()
            .map(|(i, res)| {
                if in_deferred(*i) {
                    return None;
                }
                seen(res);
                Some(evaluate_one(policy, &ctx, res))
            })
            .collect();
        let second: Vec<Vec<Evaluated>> = deferred
            .iter()
            .map(|d| second_read(policy, &ctx, seen, &d.source))
            .collect();
        let mut second = deferred.iter().map(|d| d.start).zip(second).peekable();
        for (i, eval) in evaluations.into_iter().enumerate() {
            while let Some((_, evals)) = second.next_if(|(start, _)| *start <= i) {
                report.add(evals);
            }
            report.add(eval);
        }
        for (_, evals) in second {
            report.add(evals);
        }
        report.findings.extend(policy.config_findings(now));
        report
    }

    /// The report of evaluations kept from earlier (`audit --watch`'s
    /// store), in the given order, plus the findings about the configuration.
    pub fn from_evaluated<'a>(
        policy: &PolicySet,
        evals: impl IntoIterator<Item = &'a Evaluated>,
        now: jiff::Timestamp,
        fail_on: Severity,
    ) -> Self {
        let mut report = Report::new(fail_on);
        report.rules = descriptors(policy);
        report.add(evals.into_iter().map(|(eval, scanned, annotation)| {
            let copy = Evaluation {
                findings: eval.findings.clone(),
                suppressed: eval.suppressed.clone(),
                ..Evaluation::default()
            };
            (copy, scanned.clone(), annotation.clone())
        }));
        report.stats.documents = report.scanned.len();
        report.findings.extend(policy.config_findings(now));
        report
    }

    fn add(&mut self, evals: impl IntoIterator<Item = Evaluated>) {
        for (eval, scanned, annotation) in evals {
            self.findings.extend(eval.findings);
            self.suppressed.extend(eval.suppressed);
            if let Some(annotation) = annotation {
                self.ignore_annotations.push(Annotated {
                    object: scanned.clone(),
                    annotation,
                });
            }
            self.scanned.push(scanned);
        }
    }

    /// Adds what the loader read: its errors and counts.
    pub fn with_input(mut self, errors: Vec<InputError>, stats: LoadStats) -> Self {
        self.errors = errors;
        self.stats = stats;
        self
    }

    /// Whether a reported finding is at or above the threshold.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.severity >= self.fail_on)
    }

    /// 2 when there are input errors, else 1 when the run failed, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.errors.is_empty() {
            2
        } else if self.failed() {
            1
        } else {
            0
        }
    }

    /// The counts.
    pub fn summary(&self) -> Summary {
        let mut by = SeverityCounts::default();
        for f in &self.findings {
            match f.severity {
                Severity::Critical => by.critical += 1,
                Severity::High => by.high += 1,
                Severity::Medium => by.medium += 1,
                Severity::Low => by.low += 1,
                Severity::Info => by.info += 1,
            }
        }
        Summary {
            files: self.stats.files,
            documents: self.stats.documents,
            empty: self.stats.empty,
            skipped: self.stats.skipped,
            resources: self.scanned.len(),
            findings: self.findings.len(),
            suppressed: self.suppressed.len(),
            errors: self.errors.len(),
            by_severity: by,
            fail_on: self.fail_on,
            failed: self.failed(),
            exit_code: self.exit_code(),
        }
    }

    /// The descriptor of rule `id`, if it ran.
    pub fn rule(&self, id: &str) -> Option<&RuleDescriptor> {
        self.rules.iter().find(|r| r.info.id == id)
    }
}

/// One evaluated object: its evaluation, its description and its
/// `palisade.io/ignore` annotation if it carries one (listed in the report).
/// One object's evaluation, description and ignore annotation.
pub type Evaluated = (Evaluation, Scanned, Option<IgnoreAnnotation>);

/// Evaluates one object: its findings in source order, its description and
/// its ignore annotation.
/// Objects parsed in the second read are evaluated in batches of this many.
const BATCH: usize = 256;

/// What the parser of a second read hands to the evaluation.
enum Read {
    /// Objects to evaluate, in source order.
    Batch(Vec<Resource>),
    /// Forget what was evaluated: it comes again ([`input::each_object`]).
    Restart,
}

/// Reads the deferred source `src` again and evaluates every object: one
/// thread parses and hands batches of objects to the pool, which evaluates
/// each batch in parallel while the next is parsed, so a single large
/// source (a cluster export) uses every core. At most a few batches wait.
fn second_read(
    policy: &PolicySet,
    ctx: &Context<'_>,
    seen: &(dyn Fn(&Resource) + Sync),
    src: &input::Source,
) -> Vec<Evaluated> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Read>(4);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let read = input::each_object(src, &|k| policy.keep(k), &mut |r| match r {
                Some(res) => {
                    batch.push(res);
                    if batch.len() == BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        let _ = tx.send(Read::Batch(full));
                    }
                }
                None => {
                    batch.clear();
                    let _ = tx.send(Read::Restart);
                }
            });
            let _ = tx.send(Read::Batch(batch));
            if let Err(e) = read {
                report_read_error(src, &e);
            }
        });
        let mut out = Vec::new();
        for read in rx {
            match read {
                Read::Restart => out.clear(),
                Read::Batch(batch) => out.par_extend(batch.par_iter().map(|res| {
                    seen(res);
                    evaluate_one(policy, ctx, res)
                })),
            }
        }
        out
    })
}

/// Evaluates one object: its findings in source order, its description
/// and its ignore annotation.
pub fn evaluate_one(policy: &PolicySet, ctx: &Context<'_>, res: &Resource) -> Evaluated {
    let mut eval = policy.evaluate(res, ctx);
    eval.findings.sort_by(by_place);
    eval.suppressed
        .sort_by(|a, b| by_place(&a.finding, &b.finding));
    let scanned = Scanned {
        id: res.id.clone(),
        file: res.source.as_ref().map(|s| s.file.clone()),
        line: res.positions.as_ref().map(|p| p.start().line),
    };
    (eval, scanned, IgnoreAnnotation::of(res))
}

/// A source that could be read once and not twice (it changed or went
/// away in between): said, since its objects are then not all evaluated.
fn report_read_error(src: &input::Source, e: &std::io::Error) {
    eprintln!("error: {}: cannot read the file again: {e}", src.name());
}

/// Findings of one object in source order (line, column), then by rule.
fn by_place(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    let place = |f: &Finding| f.location.as_ref().map_or((0, 0), |l| (l.line, l.column));
    place(a).cmp(&place(b)).then_with(|| a.rule.cmp(&b.rule))
}

/// The descriptors of the active rules of `policy`, plus `exemption-expired`.
pub fn descriptors(policy: &PolicySet) -> Vec<RuleDescriptor> {
    let mut out: Vec<RuleDescriptor> = policy
        .active_rules()
        .map(|(info, severity, _)| RuleDescriptor {
            info: info.clone(),
            severity,
        })
        .collect();
    out.push(RuleDescriptor {
        info: RuleInfo {
            id: EXEMPTION_EXPIRED.into(),
            severity: Severity::Low,
            family: "config".into(),
            title: "An exemption in the configuration is past its expiry date".into(),
            description: "Exemptions are time-bound so that accepted risks are reviewed. Once expired, the exemption no longer hides findings and is itself reported so the owner renews or removes it.".into(),
            remediation: "Fix the exempted objects, or renew the exemption with a new expiry date and reason.".into(),
        },
        severity: Severity::Low,
    });
    out
}
