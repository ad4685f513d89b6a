//! The rule interface shared by built-in (Rust), CEL and Rego rules.

use crate::context::Context;
use crate::finding::{Action, Finding, Location};
use crate::path::FieldPath;
use crate::resource::{Resource, ResourceId};
use crate::scope::Scope;
use crate::severity::Severity;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// What a rule is: its stable ID and the text users read.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// Stable kebab-case ID, e.g. `host-network`.
    pub id: String,
    /// Default severity.
    pub severity: Severity,
    /// Family: `workload`, `pss`, `rbac`, `policy`, ...
    pub family: String,
    /// One line: what it checks.
    pub title: String,
    /// Why it matters (for `palisade explain`).
    pub description: String,
    /// How to fix it.
    pub remediation: String,
}

/// One atomic check over one object.
///
/// Rules are compiled once and shared read-only between threads; `check`
/// must not panic on any input.
pub trait Rule: Send + Sync {
    /// The rule's ID and texts.
    fn info(&self) -> &RuleInfo;

    /// Checks `res` and reports problems through `out`.
    fn check(&self, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>);

    /// The kinds this rule checks and how much of them it reads: the engine
    /// calls [`Rule::check`] only on objects of these kinds, and the loader
    /// builds of each object only what some rule reads. Default: every kind,
    /// whole.
    fn scope(&self) -> Scope {
        Scope::all()
    }

    /// The other objects this rule looks up in the [`Context`]'s inventory
    /// (a pod's ServiceAccount, a namespace's labels), so that the loader
    /// keeps them. Default: every kind, whole.
    fn reads_inventory(&self) -> Scope {
        Scope::all()
    }

    /// Whether the rule checks pods through the pod spec the [`Context`]
    /// gives ([`Context::pod_spec_of`], `workload::with_pod_spec`), so the
    /// engine may run it on each pod template inside a custom resource
    /// (see [`PodTemplates`](crate::pod_templates::PodTemplates)). Default:
    /// no (a rule that reads the object itself would misread those).
    fn checks_pod_templates(&self) -> bool {
        false
    }
}

/// Collects the findings of one rule on one object, filling in the rule's
/// ID, configured severity and action, remediation, identity and position.
pub struct Emitter<'a> {
    info: &'a RuleInfo,
    texts: Cow<'a, FindingTexts>,
    severity: Severity,
    action: Action,
    res: &'a Resource,
    /// The object's ID for its findings, made at the first finding.
    id: Cow<'a, OnceLock<Arc<ResourceId>>>,
    out: &'a mut Vec<Finding>,
}

/// A rule's ID and remediation as its findings carry them: made once per
/// rule (a [`PolicySet`](crate::PolicySet) keeps them with its rules), so a
/// finding shares them instead of copying the texts.
#[derive(Debug, Clone)]
pub struct FindingTexts {
    id: Arc<str>,
    remediation: Arc<str>,
}

impl FindingTexts {
    /// The texts of `info`.
    pub fn of(info: &RuleInfo) -> Self {
        FindingTexts {
            id: Arc::from(info.id.as_str()),
            remediation: Arc::from(info.remediation.as_str()),
        }
    }
}

impl<'a> Emitter<'a> {
    /// An emitter for `info` on `res` writing into `out`.
    pub fn new(
        info: &'a RuleInfo,
        severity: Severity,
        action: Action,
        res: &'a Resource,
        out: &'a mut Vec<Finding>,
    ) -> Self {
        Emitter {
            info,
            texts: Cow::Owned(FindingTexts::of(info)),
            severity,
            action,
            res,
            id: Cow::Owned(OnceLock::new()),
            out,
        }
    }

    /// Like [`Emitter::new`], with the rule's `texts` made beforehand and the
    /// object's ID in `id`, shared by every rule run on the object.
    pub fn shared(
        info: &'a RuleInfo,
        texts: &'a FindingTexts,
        severity: Severity,
        action: Action,
        res: &'a Resource,
        id: &'a OnceLock<Arc<ResourceId>>,
        out: &'a mut Vec<Finding>,
    ) -> Self {
        Emitter {
            info,
            texts: Cow::Borrowed(texts),
            severity,
            action,
            res,
            id: Cow::Borrowed(id),
            out,
        }
    }

    /// Reports a problem at `path` and returns it for adjustment (severity,
    /// remediation, concern).
    pub fn emit(&mut self, path: &FieldPath, message: impl Into<String>) -> &mut Finding {
        let location = match (&self.res.source, self.res.locate(path)) {
            (Some(src), Some(pos)) => Some(Location {
                file: src.file.clone(),
                line: pos.line,
                column: pos.column,
            }),
            _ => None,
        };
        let texts = &*self.texts;
        let resource = self
            .id
            .get_or_init(|| Arc::new(self.res.id.clone()))
            .clone();
        self.out.push(Finding {
            rule: texts.id.clone(),
            severity: self.severity,
            message: message.into(),
            remediation: texts.remediation.clone(),
            path: path.render(),
            resource,
            location,
            action: self.action,
            also: Vec::new(),
            concern: texts.id.clone(),
        });
        let last = self.out.len() - 1;
        &mut self.out[last]
    }

    /// The rule being run.
    pub fn info(&self) -> &RuleInfo {
        self.info
    }
}
