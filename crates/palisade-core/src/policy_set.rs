//! The compiled set of active rules with their configuration.
//!
//! Built once (rules compiled, config validated), then shared read-only by
//! every evaluation; a reload builds a new set and swaps it.

use crate::config::{Config, ConfigError};
use crate::context::{Context, Extensions, Inventory, Memo};
use crate::exemption::{check_admission, CompiledExemption, IgnoreAnnotation, Trust};
use crate::finding::{Action, Finding, Location};
use crate::merge::dedupe;
use crate::path::FieldPath;
use crate::pod_templates::PodTemplates;
use crate::resource::{Resource, ResourceId};
use crate::rule::{Emitter, FindingTexts, Rule, RuleInfo};
use crate::scope::{Keep, Scope};
use crate::severity::Severity;
use crate::workload::{pod_spec_path_ref, PodSpec};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

pub use crate::exemption::{IGNORE_ANNOTATION, IGNORE_REASON_ANNOTATION};
/// Rule ID reported for an exemption past its expiry.
pub const EXEMPTION_EXPIRED: &str = "exemption-expired";

/// Derives shared data from the inventory once per evaluation, e.g. the RBAC
/// graph, and stores it in the [`Extensions`] that rules read.
pub trait ContextProvider: Send + Sync {
    /// Adds what this provider derives from `inventory` to `ext`.
    fn provide(&self, inventory: &Inventory, ext: &mut Extensions);

    /// The objects this provider reads from the inventory, so that the loader
    /// keeps them. Default: every kind, whole.
    fn reads(&self) -> Scope {
        Scope::all()
    }
}

struct ActiveRule {
    rule: Arc<dyn Rule>,
    severity: Severity,
    action: Action,
    /// The rule's ID and remediation as every finding of it carries them.
    texts: FindingTexts,
}

/// A finding that was not reported, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    /// The finding.
    pub finding: Finding,
    /// The reason given by the annotation or exemption.
    pub reason: String,
    /// `annotation` or `exemptions[N]`.
    pub by: String,
}

/// The result of evaluating one object.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Reported findings, de-duplicated.
    pub findings: Vec<Finding>,
    /// Findings hidden by annotations or exemptions.
    pub suppressed: Vec<Suppressed>,
    /// Whether the evaluation stopped early because the context's cancel
    /// flag was set (the findings are then incomplete).
    pub cancelled: bool,
}

/// Builds a [`PolicySet`].
pub struct PolicySetBuilder {
    config: Config,
    rules: Vec<Arc<dyn Rule>>,
    optional: Vec<Arc<dyn Rule>>,
    known: HashSet<String>,
    providers: Vec<Arc<dyn ContextProvider>>,
    default_actions: HashMap<String, Action>,
}

impl PolicySetBuilder {
    /// Sets the action of rule `id` when the config's `rules.ID.action` does
    /// not (the action of a profile that includes it), instead of the one
    /// its severity gives (`enforceAt`).
    pub fn default_action(mut self, id: impl Into<String>, action: Action) -> Self {
        self.default_actions.insert(id.into(), action);
        self
    }

    /// Adds a rule that runs unless the config disables it.
    pub fn rule(mut self, rule: Arc<dyn Rule>) -> Self {
        self.known.insert(rule.info().id.clone());
        self.rules.push(rule);
        self
    }

    /// Adds rules that run unless the config disables them.
    pub fn rules(mut self, rules: impl IntoIterator<Item = Arc<dyn Rule>>) -> Self {
        for r in rules {
            self = self.rule(r);
        }
        self
    }

    /// Adds a rule that runs only when the config enables it
    /// (`rules: {ID: {enabled: true}}`).
    pub fn optional_rule(mut self, rule: Arc<dyn Rule>) -> Self {
        self.known.insert(rule.info().id.clone());
        self.optional.push(rule);
        self
    }

    /// Declares rule IDs the config may name although they are not in this set
    /// (rules of other profiles).
    pub fn known_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.known.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Adds a context provider.
    pub fn provider(mut self, p: Arc<dyn ContextProvider>) -> Self {
        self.providers.push(p);
        self
    }

    /// Validates the config against the rules and compiles the set.
    pub fn build(self) -> Result<PolicySet, ConfigError> {
        let spec = &self.config.spec;
        for id in spec.rules.keys() {
            if !self.known.contains(id) {
                return Err(self.config.error_at(
                    &FieldPath::root().key("rules").key(id),
                    format!("unknown rule `{id}` (see `palisade rules`)"),
                ));
            }
        }
        let enforce_at = spec.enforce_at.unwrap_or(Severity::High);
        let mut seen = HashSet::new();
        let mut active = Vec::new();
        let candidates = self
            .rules
            .iter()
            .map(|r| (r, true))
            .chain(self.optional.iter().map(|r| (r, false)));
        for (rule, on_by_default) in candidates {
            let info = rule.info();
            if !seen.insert(info.id.clone()) {
                continue; // one rule runs once, however many profiles include it
            }
            let setting = spec.rules.get(&info.id).cloned().unwrap_or_default();
            if !setting.enabled.unwrap_or(on_by_default) {
                continue;
            }
            let severity = setting.severity.unwrap_or(info.severity);
            let by_severity = if severity >= enforce_at {
                Action::Enforce
            } else {
                Action::Warn
            };
            let action = setting
                .action
                .or_else(|| self.default_actions.get(&info.id).copied())
                .unwrap_or(by_severity);
            active.push(ActiveRule {
                texts: FindingTexts::of(info),
                rule: rule.clone(),
                severity,
                action,
            });
        }
        let exemptions = spec
            .exemptions
            .iter()
            .enumerate()
            .map(|(i, ex)| CompiledExemption::compile(&self.config, ex, i, &self.known))
            .collect::<Result<Vec<_>, _>>()?;
        let templates = PodTemplates::from_config(&self.config)?;
        let template_rules: Vec<usize> = (0..active.len())
            .filter(|&i| active[i].rule.checks_pod_templates())
            .collect();
        let scopes: Vec<Scope> = active.iter().map(|a| a.rule.scope()).collect();
        let dispatch = Dispatch::new(&scopes);
        let context: Vec<Scope> = active
            .iter()
            .map(|a| a.rule.reads_inventory())
            .chain(self.providers.iter().map(|p| p.reads()))
            .collect();
        let context_kinds = ContextKinds::new(&context);
        let context_keep = KeepTable::new(&context, Keep::Identity);
        let mut reads: Vec<Scope> = context.into_iter().chain(scopes).collect();
        if !template_rules.is_empty() {
            reads.push(Scope::kinds_owned(templates.kind_names().map(String::from)));
        }
        Ok(PolicySet {
            rules: active,
            dispatch,
            templates,
            template_rules,
            keep: KeepTable::new(&reads, Keep::Metadata),
            context_kinds,
            context_keep,
            exemptions,
            trust: Trust::Everything,
            providers: self.providers,
            config: self.config,
        })
    }
}

/// Which active rules run on an object of a given kind, in rule order.
struct Dispatch {
    /// Rules that check every kind.
    any: Vec<usize>,
    /// For each kind some rule names: the rules of `any` plus those naming it.
    by_kind: HashMap<String, Vec<usize>>,
}

impl Dispatch {
    /// From the scope of each active rule, in rule order.
    fn new(scopes: &[Scope]) -> Dispatch {
        let any: Vec<usize> = (0..scopes.len())
            .filter(|&i| scopes[i].kinds.is_none())
            .collect();
        let mut by_kind = HashMap::new();
        for kind in scopes.iter().filter_map(|s| s.kinds.as_ref()).flatten() {
            by_kind.entry(kind.to_string()).or_insert_with(|| {
                (0..scopes.len())
                    .filter(|&i| scopes[i].matches(kind))
                    .collect::<Vec<_>>()
            });
        }
        Dispatch { any, by_kind }
    }

    fn rules_for(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).unwrap_or(&self.any)
    }
}

/// How much of an object of each kind some rule or provider reads, worked
/// out once from their scopes.
struct KeepTable {
    /// For kinds no scope names: what the every-kind scopes read.
    any: Keep,
    /// For each kind some scope names.
    by_kind: HashMap<String, Keep>,
}

impl KeepTable {
    /// The most any of `reads` reads of each kind, and never less than `floor`.
    fn new(reads: &[Scope], floor: Keep) -> KeepTable {
        let at_least = |kind: &str| {
            reads
                .iter()
                .filter_map(|s| s.keep(kind))
                .max()
                .unwrap_or(floor)
                .max(floor)
        };
        let by_kind = reads
            .iter()
            .filter_map(|s| s.kinds.as_ref())
            .flatten()
            .map(|k| (k.to_string(), at_least(k)))
            .collect();
        let any = reads
            .iter()
            .filter(|s| s.kinds.is_none())
            .map(|s| s.reads)
            .max()
            .unwrap_or(floor)
            .max(floor);
        KeepTable { any, by_kind }
    }
}

/// The kinds some rule or provider reads from the inventory (`None`: all).
struct ContextKinds(Option<HashSet<String>>);

impl ContextKinds {
    fn new(reads: &[Scope]) -> ContextKinds {
        let mut kinds = HashSet::new();
        for s in reads {
            match &s.kinds {
                None => return ContextKinds(None),
                Some(list) => kinds.extend(list.iter().map(|k| k.to_string())),
            }
        }
        ContextKinds(Some(kinds))
    }
}

/// The compiled, immutable set of rules and settings that every front door
/// evaluates objects against.
pub struct PolicySet {
    rules: Vec<ActiveRule>,
    dispatch: Dispatch,
    /// Custom resource kinds with pod templates.
    templates: PodTemplates,
    /// The rules run on each pod template of such a resource.
    template_rules: Vec<usize>,
    keep: KeepTable,
    context_kinds: ContextKinds,
    /// What the context reads of each kind (less than `keep` can be).
    context_keep: KeepTable,
    exemptions: Vec<CompiledExemption>,
    trust: Trust,
    providers: Vec<Arc<dyn ContextProvider>>,
    config: Config,
}

impl PolicySet {
    /// Starts a set with `config`.
    pub fn builder(config: Config) -> PolicySetBuilder {
        PolicySetBuilder {
            config,
            rules: Vec::new(),
            optional: Vec::new(),
            known: HashSet::from([EXEMPTION_EXPIRED.to_string()]),
            providers: Vec::new(),
            default_actions: HashMap::new(),
        }
    }

    /// The set as the admission webhook uses it ([`Trust::Admission`]):
    /// the `palisade.io/ignore` annotation hides only `annotation_rules`
    /// (read from the config key at `at`), and a self-grantable exemption
    /// (by name or label selector, without namespaces or requesters) is
    /// refused with its file, line and the reason.
    pub fn for_admission(
        mut self,
        annotation_rules: &[String],
        at: &FieldPath,
    ) -> Result<PolicySet, ConfigError> {
        check_admission(&self.config, &self.exemptions, annotation_rules, at, |id| {
            self.rules
                .iter()
                .find(|r| r.rule.info().id == id)
                .map(|r| r.severity)
        })?;
        self.trust = Trust::Admission {
            annotation_rules: annotation_rules.iter().cloned().collect(),
        };
        Ok(self)
    }

    /// What this set lets hide findings.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The configuration the set was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The active rules with their effective severity and action.
    pub fn active_rules(&self) -> impl Iterator<Item = (&RuleInfo, Severity, Action)> {
        self.rules
            .iter()
            .map(|r| (r.rule.info(), r.severity, r.action))
    }

    /// How much of an object of `kind` some rule or provider reads: what the
    /// loader must build. Never less than [`Keep::Metadata`] (identity,
    /// labels and annotations are read by the engine itself).
    pub fn keep(&self, kind: &str) -> Keep {
        self.keep
            .by_kind
            .get(kind)
            .copied()
            .unwrap_or(self.keep.any)
    }

    /// Whether any active rule runs on objects of `kind`, some rule or
    /// provider reads them from the inventory, or they hold pod templates
    /// the pod rules check: the kinds a live audit must list (the others
    /// would only be read to be dropped).
    pub fn reads_kind(&self, kind: &str) -> bool {
        !self.dispatch.rules_for(kind).is_empty()
            || self.keeps_in_context(kind)
            || self.templates.kinds().iter().any(|t| t.kind == kind)
    }

    /// Whether some rule or provider reads objects of `kind` from the
    /// inventory (a pod's ServiceAccount, the RBAC kinds, Namespaces): the
    /// objects a scan must hold until every object is evaluated. The others
    /// can be evaluated and dropped one at a time.
    pub fn keeps_in_context(&self, kind: &str) -> bool {
        self.context_kinds
            .0
            .as_ref()
            .is_none_or(|kinds| kinds.contains(kind))
    }

    /// How much of an object of `kind` the context reads (the rules'
    /// `reads_inventory` and the providers' `reads`), or `None` when it reads
    /// none: what a copy held only for the context needs. Can be less than
    /// [`PolicySet::keep`] (down to [`Keep::Identity`]), since the object
    /// itself is evaluated from another copy.
    pub fn context_keep(&self, kind: &str) -> Option<Keep> {
        self.keeps_in_context(kind).then(|| {
            self.context_keep
                .by_kind
                .get(kind)
                .copied()
                .unwrap_or(self.context_keep.any)
        })
    }

    /// Derives the shared data every rule reads for this inventory.
    pub fn prepare(&self, inventory: &Inventory) -> Extensions {
        let mut ext = Extensions::default();
        for p in &self.providers {
            p.provide(inventory, &mut ext);
        }
        ext
    }

    /// Evaluates one object: runs every active rule, merges findings that are
    /// the same problem on the same field, and applies suppressions.
    pub fn evaluate(&self, res: &Resource, ctx: &Context<'_>) -> Evaluation {
        let mut raw = Vec::new();
        let id = OnceLock::new(); // the object's ID, shared by its findings
        let mut eval = Evaluation::default();
        let finished = {
            let memo = Memo::default(); // values the rules derive from `res`, shared
            let pod = PodSpec::of(res); // found once for every pod rule
            let ctx = &ctx.for_object(res, pod.as_ref(), &memo);
            self.run(
                self.dispatch.rules_for(&res.id.kind),
                res,
                ctx,
                &id,
                &mut raw,
            )
        };
        if !finished {
            eval.cancelled = true;
            return eval;
        }
        if !self.template_rules.is_empty() && pod_spec_path_ref(&res.id.kind).is_none() {
            // each pod template of a custom resource, as the pod it creates
            for pod in self.templates.pods_of(res) {
                let memo = Memo::default();
                let ctx = &ctx.for_object(res, Some(&pod), &memo);
                if !self.run(&self.template_rules, res, ctx, &id, &mut raw) {
                    eval.cancelled = true;
                    return eval;
                }
            }
        }
        let findings = dedupe(raw);
        let ignored = IgnoreAnnotation::of(res);
        for f in findings {
            if let Some(ann) = ignored.as_ref().filter(|a| a.hides(&f, &self.trust)) {
                eval.suppressed.push(Suppressed {
                    finding: f,
                    reason: ann.reason.clone(),
                    by: "annotation".into(),
                });
                continue;
            }
            match self.exemption_for(&f, res, ctx) {
                Some(ex) => eval.suppressed.push(Suppressed {
                    finding: f,
                    reason: ex.spec.reason.clone(),
                    by: format!("exemptions[{}]", ex.index),
                }),
                None => eval.findings.push(f),
            }
        }
        eval
    }

    /// Runs the active rules `indices` on `res`, adding their findings to
    /// `raw`; false when the caller went away (the context was cancelled)
    /// before they all ran.
    fn run(
        &self,
        indices: &[usize],
        res: &Resource,
        ctx: &Context<'_>,
        id: &OnceLock<Arc<ResourceId>>,
        raw: &mut Vec<Finding>,
    ) -> bool {
        for &i in indices {
            if ctx.is_cancelled() {
                return false;
            }
            let active = &self.rules[i];
            let mut out = Emitter::shared(
                active.rule.info(),
                &active.texts,
                active.severity,
                active.action,
                res,
                id,
                raw,
            );
            active.rule.check(res, ctx, &mut out);
        }
        true
    }

    /// The custom resource kinds whose pod templates the pod rules check
    /// (built in and from the configuration's `podTemplates`): what an
    /// admission webhook's configuration must send to the webhook beside
    /// the built-in pod kinds.
    pub fn pod_templates(&self) -> &PodTemplates {
        &self.templates
    }

    fn exemption_for(
        &self,
        f: &Finding,
        res: &Resource,
        ctx: &Context<'_>,
    ) -> Option<&CompiledExemption> {
        self.exemptions
            .iter()
            .find(|ex| ex.hides(f, res, ctx.now, ctx.request))
    }

    /// Evaluates every object of `inventory` in order (context prepared once).
    /// Front doors that want parallelism call [`PolicySet::prepare`] and
    /// [`PolicySet::evaluate`] themselves.
    pub fn evaluate_inventory(
        &self,
        inventory: &Inventory,
        now: jiff::Timestamp,
    ) -> Vec<Evaluation> {
        let ext = self.prepare(inventory);
        let ctx = Context::new(inventory, &ext, now);
        inventory.iter().map(|r| self.evaluate(r, &ctx)).collect()
    }

    /// Findings about the configuration itself: exemptions past their expiry.
    pub fn config_findings(&self, now: jiff::Timestamp) -> Vec<Finding> {
        let file: Arc<str> = self
            .config
            .file
            .clone()
            .unwrap_or_else(|| Arc::from("palisade.yaml"));
        self.exemptions
            .iter()
            .filter(|ex| ex.expires.is_some_and(|t| now >= t))
            .map(|ex| {
                let path = FieldPath::root().key("exemptions").index(ex.index).key("expires");
                let location = self.config.position(&path).map(|p| Location {
                    file: file.clone(),
                    line: p.line,
                    column: p.column,
                });
                Finding {
                    rule: EXEMPTION_EXPIRED.into(),
                    severity: Severity::Low,
                    message: format!(
                        "exemption for {} expired on {} and no longer applies (reason was: {})",
                        ex.spec.rules.join(", "),
                        ex.spec.expires.as_deref().unwrap_or(""),
                        ex.spec.reason
                    ),
                    remediation: Arc::from("Fix the exempted objects, or renew the exemption with a new expiry date and reason."),
                    path: path.to_string(),
                    resource: Arc::new(ResourceId {
                        api_version: "palisade.io/v1".into(),
                        kind: "Config".into(),
                        namespace: None,
                        name: file.to_string(),
                    }),
                    location,
                    action: Action::Warn,
                    also: Vec::new(),
                    concern: EXEMPTION_EXPIRED.into(),
                }
            })
            .collect()
    }
}
