//! A rule written as a Rust function plus its texts.

use palisade_core::workload::POD_KINDS;
use palisade_core::{Context, Emitter, Resource, Rule, RuleInfo, Scope, Severity};
use std::sync::Arc;

/// The check of a [`BuiltinRule`].
pub type CheckFn = fn(&Resource, &Context<'_>, &mut Emitter<'_>);

/// A built-in rule: its [`RuleInfo`] and the function that checks one object.
pub struct BuiltinRule {
    info: RuleInfo,
    check: CheckFn,
    scope: Scope,
    inventory: Scope,
}

/// The texts of a built-in rule of the `workload` family.
pub struct Texts {
    /// Stable kebab-case ID.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what it checks.
    pub title: &'static str,
    /// Why it matters.
    pub description: &'static str,
    /// How to fix it.
    pub remediation: &'static str,
}

impl BuiltinRule {
    /// A shareable rule of the `workload` family from its texts and check,
    /// checking the pod-creating kinds and reading nothing else.
    pub fn workload(t: Texts, check: CheckFn) -> Arc<dyn Rule> {
        Self::scoped(t, check, Scope::kinds(&POD_KINDS), Scope::none())
    }

    /// A rule of the `workload` family checking the objects of `scope` and
    /// looking up those of `inventory`.
    pub fn scoped(t: Texts, check: CheckFn, scope: Scope, inventory: Scope) -> Arc<dyn Rule> {
        Arc::new(BuiltinRule {
            info: RuleInfo {
                id: t.id.to_string(),
                severity: t.severity,
                family: "workload".to_string(),
                title: t.title.to_string(),
                description: t.description.to_string(),
                remediation: t.remediation.to_string(),
            },
            check,
            scope,
            inventory,
        })
    }
}

impl Rule for BuiltinRule {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn check(&self, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
        (self.check)(res, ctx, out)
    }

    fn scope(&self) -> Scope {
        self.scope.clone()
    }

    fn reads_inventory(&self) -> Scope {
        self.inventory.clone()
    }

    /// The rules that check the pod kinds read the pod through
    /// `with_pod_spec`, so they check pod templates in custom resources too.
    fn checks_pod_templates(&self) -> bool {
        self.scope.kinds.is_some() && self.scope.matches("Pod")
    }
}
