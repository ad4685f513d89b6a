//! A Gatekeeper constraint with its template, run as a Palisade rule.

use super::constraint::Constraint;
use super::program::Violation;
use super::review::{input, review, RegoInventory};
use super::template::Template;
use crate::cel::validator::Activation;
use crate::PolicyEngine;
use palisade_core::{Context, Emitter, FieldPath, Resource, Rule, RuleInfo, Scope};
use serde_json::Value;
use std::sync::Arc;

/// One constraint bound to its compiled template.
pub struct ConstraintRule {
    info: RuleInfo,
    template: Arc<Template>,
    constraint: Constraint,
    /// The constraint object itself (CEL's `params`).
    object: Value,
    engine: PolicyEngine,
}

impl ConstraintRule {
    /// Binds `constraint` (parsed from `object`) to `template`, running
    /// `engine` (Rego unless the template has only CEL, or CEL is preferred
    /// and present).
    pub fn new(
        template: Arc<Template>,
        constraint: Constraint,
        object: Value,
        prefer: PolicyEngine,
    ) -> Self {
        let engine = match prefer {
            PolicyEngine::Cel if template.cel.is_some() => PolicyEngine::Cel,
            _ if template.rego.is_some() => PolicyEngine::Rego,
            _ => PolicyEngine::Cel,
        };
        let other = match (engine, template.rego.is_some(), template.cel.is_some()) {
            (PolicyEngine::Rego, _, true) => {
                " The template also has CEL (K8sNativeValidation) code."
            }
            (PolicyEngine::Cel, true, _) => " The template also has Rego code.",
            _ => "",
        };
        let info = RuleInfo {
            id: format!("{}/{}", template.name, constraint.name),
            severity: constraint.severity,
            family: "policy".into(),
            title: format!("{} (Gatekeeper constraint {} {})", template.title, constraint.kind, constraint.name),
            description: format!(
                "{}\n\nEngine: {}.\nGatekeeper ConstraintTemplate {}, enforcementAction {}.{other}",
                if template.description.is_empty() { &template.title } else { &template.description },
                engine.describe(),
                template.name,
                constraint.enforcement_action,
            ),
            remediation: format!(
                "Change the object to satisfy constraint {} {}, or exclude it in the constraint's match.",
                constraint.kind, constraint.name
            ),
        };
        ConstraintRule {
            info,
            template,
            constraint,
            object,
            engine,
        }
    }

    /// The engine this rule runs.
    pub fn engine(&self) -> PolicyEngine {
        self.engine
    }

    /// Whether the constraint's match applies to `res`.
    pub fn matches(&self, res: &Resource, ctx: &Context<'_>) -> bool {
        self.constraint.matcher.matches(res, ctx)
    }

    /// The violations of `res` (which must match), or the evaluation error.
    pub fn violations(&self, res: &Resource, ctx: &Context<'_>) -> Result<Vec<Violation>, String> {
        match (self.engine, &self.template.rego, &self.template.cel) {
            (PolicyEngine::Rego, Some(prog), _) => {
                let built;
                let data = if prog.uses_inventory() {
                    match ctx.extensions.get::<RegoInventory>() {
                        Some(d) => Some(&d.0),
                        None => {
                            built = RegoInventory::build(ctx.inventory);
                            Some(&built.0)
                        }
                    }
                } else {
                    None
                };
                prog.evaluate(input(res, ctx, &self.constraint.parameters), data)
            }
            (_, _, Some(cel)) => {
                let rv = review(res, ctx);
                let act = Activation {
                    object: rv.get("object").filter(|o| !o.is_null()),
                    old_object: rv.get("oldObject").filter(|o| !o.is_null()),
                    request: &rv,
                    params: Some(&self.object),
                    namespace_object: crate::matching::namespace_object(res, ctx),
                    gatekeeper_params: Some(&self.constraint.parameters),
                };
                let out = cel.evaluate(&act)?;
                Ok(out
                    .failures
                    .into_iter()
                    .map(|f| Violation {
                        msg: f.message,
                        details: Value::Null,
                    })
                    .collect())
            }
            _ => Err("template has no code for the selected engine".into()),
        }
    }
}

impl Rule for ConstraintRule {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn scope(&self) -> Scope {
        self.constraint
            .matcher
            .kind_names()
            .map_or_else(Scope::all, Scope::kinds_owned)
    }

    fn reads_inventory(&self) -> Scope {
        match (self.engine, &self.template.rego) {
            (PolicyEngine::Rego, Some(prog)) if prog.uses_inventory() => Scope::all(),
            // namespaceSelector and CEL's namespaceObject read the Namespace
            _ => Scope::kinds(&["Namespace"]),
        }
    }

    fn check(&self, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
        if !self.matches(res, ctx) {
            return;
        }
        let root = FieldPath::root();
        match self.violations(res, ctx) {
            Ok(vs) => {
                for v in vs {
                    out.emit(&root, v.msg).action = self.constraint.action;
                }
            }
            Err(e) => {
                let msg = format!("policy {} failed to evaluate: {e}", self.info.id);
                out.emit(&root, msg).action = self.constraint.action;
            }
        }
    }
}
