//! A ValidatingAdmissionPolicy with one of its bindings, run as a Palisade
//! rule.

use super::validator::{Activation, Failure};
use super::vap::{Binding, Policy};
use crate::matching::{is_cluster_scoped, namespace_object};
use crate::rego::review::review;
use palisade_core::{Action, Context, Emitter, FieldPath, Resource, Rule, RuleInfo};
use serde_json::Value;
use std::sync::Arc;

/// One policy under one binding.
pub struct VapRule {
    info: RuleInfo,
    policy: Arc<Policy>,
    binding: Binding,
    /// Objects loaded with the policies, searched for params besides the
    /// inventory.
    params: Arc<Vec<Arc<Resource>>>,
}

/// What evaluating a policy on one object gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The policy or binding does not apply (match or matchConditions).
    NotApplicable,
    /// Every validation held.
    Pass,
    /// Some validations failed.
    Fail(Vec<Failure>),
    /// Evaluation failed (and failurePolicy is Fail) or params are missing.
    Error(String),
}

impl VapRule {
    /// Binds `policy` with `binding`; `params` are extra objects to search
    /// for params.
    pub fn new(policy: Arc<Policy>, binding: Binding, params: Arc<Vec<Arc<Resource>>>) -> Self {
        let info = RuleInfo {
            id: format!("{}/{}", policy.name, binding.name),
            severity: policy.severity,
            family: "policy".into(),
            title: format!("ValidatingAdmissionPolicy {} (binding {})", policy.name, binding.name),
            description: format!(
                "{}\n\nEngine: CEL (ValidatingAdmissionPolicy).\nPolicy {}, binding {}, validationActions {}.",
                policy.description,
                policy.name,
                binding.name,
                binding.actions.join(", ")
            ),
            remediation: format!("Change the object to satisfy ValidatingAdmissionPolicy {}.", policy.name),
        };
        VapRule {
            info,
            policy,
            binding,
            params,
        }
    }

    /// The action of the binding.
    pub fn action(&self) -> Action {
        self.binding.action
    }

    fn find_params<'a>(
        &'a self,
        res: &Resource,
        ctx: &'a Context<'_>,
    ) -> Result<Vec<&'a Value>, String> {
        let Some((api_version, kind)) = &self.policy.param_kind else {
            return Ok(Vec::new());
        };
        let Some(pr) = &self.binding.param_ref else {
            return Err(format!(
                "policy {} has paramKind {kind} but binding {} has no paramRef",
                self.policy.name, self.binding.name
            ));
        };
        let ns = pr.namespace.clone().or_else(|| res.id.namespace.clone());
        let found: Vec<&Value> = ctx
            .inventory
            .iter()
            .chain(self.params.iter())
            .filter(|p| {
                p.id.kind == *kind && (api_version.is_empty() || p.id.api_version == *api_version)
            })
            .filter(|p| is_cluster_scoped(&p.id) || p.id.namespace == ns)
            .filter(|p| match (&pr.name, &pr.selector) {
                (Some(n), _) => p.id.name == *n,
                (None, Some(sel)) => sel.matches_json(p.meta("labels")),
                (None, None) => false,
            })
            .map(|p| &p.value)
            .collect();
        Ok(found)
    }

    /// Evaluates the policy under this binding on `res`.
    pub fn verdict(&self, res: &Resource, ctx: &Context<'_>) -> Verdict {
        if !self.policy.constraints.matches(res, ctx, true)
            || !self
                .binding
                .resources
                .as_ref()
                .is_none_or(|m| m.matches(res, ctx, false))
        {
            return Verdict::NotApplicable;
        }
        let params = match self.find_params(res, ctx) {
            Ok(p) => p,
            Err(e) => return Verdict::Error(e),
        };
        let param_sets: Vec<Option<&Value>> = if self.policy.param_kind.is_none() {
            vec![None]
        } else if params.is_empty() {
            let deny = self
                .binding
                .param_ref
                .as_ref()
                .is_none_or(|p| p.deny_if_missing);
            return if deny {
                Verdict::Error(format!(
                    "no params found for binding {} (parameterNotFoundAction: Deny)",
                    self.binding.name
                ))
            } else {
                Verdict::NotApplicable
            };
        } else {
            params.into_iter().map(Some).collect()
        };
        let rv = review(res, ctx);
        let mut failures = Vec::new();
        let mut matched = false;
        for p in param_sets {
            let act = Activation {
                object: rv.get("object").filter(|o| !o.is_null()),
                old_object: rv.get("oldObject").filter(|o| !o.is_null()),
                request: &rv,
                params: p,
                namespace_object: namespace_object(res, ctx),
                gatekeeper_params: None,
            };
            match self.policy.validator.evaluate_each(&act) {
                Ok(out) if !out.matched => {}
                Ok(out) => {
                    matched = true;
                    let notes: Vec<String> = out
                        .annotations
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    for mut f in out.failures {
                        // an expression that did not evaluate follows the
                        // failure policy: reported (Fail) or ignored (Ignore)
                        if f.error && !self.policy.fail_closed {
                            continue;
                        }
                        if !notes.is_empty() {
                            f.message =
                                format!("{} (auditAnnotations: {})", f.message, notes.join(", "));
                        }
                        failures.push(f);
                    }
                }
                Err(e) if self.policy.fail_closed => return Verdict::Error(e),
                Err(_) => {}
            }
        }
        match (matched, failures.is_empty()) {
            (false, _) => Verdict::NotApplicable,
            (true, true) => Verdict::Pass,
            (true, false) => Verdict::Fail(failures),
        }
    }
}

impl Rule for VapRule {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn check(&self, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
        let root = FieldPath::root();
        match self.verdict(res, ctx) {
            Verdict::NotApplicable | Verdict::Pass => {}
            Verdict::Fail(fs) => {
                for f in fs {
                    let msg = if f.error {
                        format!("policy {} failed to evaluate: {}", self.info.id, f.message)
                    } else if f.reason == "Invalid" {
                        f.message
                    } else {
                        format!("{} ({})", f.message, f.reason)
                    };
                    out.emit(&root, msg).action = self.binding.action;
                }
            }
            Verdict::Error(e) => {
                let msg = format!("policy {} failed to evaluate: {e}", self.info.id);
                out.emit(&root, msg).action = self.binding.action;
            }
        }
    }
}
