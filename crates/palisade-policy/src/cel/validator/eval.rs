//! Evaluation of compiled validations: variables bound once, each
//! validation judged on its own under the cost budget.

use super::{Activation, Failure, Outcome, Validator};
use crate::cel::budget;
use crate::cel::convert::{to_text, to_val};
use cel::common::types::{CelMap, CelMapKey, CelNull};
use cel::common::value::Val;
use cel::parser::Expression;
use cel::Context;
use serde_json::Value;
use std::collections::HashMap;

fn val(v: Option<&Value>) -> Box<dyn Val + '_> {
    match v {
        Some(v) => to_val(v),
        None => Box::new(CelNull),
    }
}

/// Binds variable `name` as `variables.<name>` (and in the `variables` map
/// when `whole`).
fn bind<'v>(
    scope: &mut Context<'_, 'v>,
    map: &mut HashMap<CelMapKey<'v>, Box<dyn Val + 'v>>,
    whole: bool,
    name: &str,
    v: Box<dyn Val + 'v>,
) {
    if whole {
        map.insert(CelMapKey::from(name.to_string()), v.clone());
        scope.add_variable_as_val("variables", Box::new(CelMap::from(map.clone())));
    }
    scope.add_variable_as_val(format!("variables.{name}"), v);
}

impl Validator {
    /// Evaluates the validations; `Err` if any expression fails to
    /// evaluate (Gatekeeper's CEL engine fails the whole constraint).
    pub fn evaluate(&self, act: &Activation<'_>) -> Result<Outcome, String> {
        let out = self.evaluate_each(act)?;
        match out.failures.iter().find(|f| f.error) {
            Some(f) => Err(f.message.clone()),
            None => Ok(out),
        }
    }

    /// Evaluates each validation on its own, as the API server does: one
    /// that fails to evaluate gives a [`Failure`] with `error` set and does
    /// not hide the others. `Err` when nothing could be judged (a
    /// matchCondition failed to evaluate).
    pub fn evaluate_each(&self, act: &Activation<'_>) -> Result<Outcome, String> {
        budget::metered(self.limits, || self.evaluate_within(act))
    }

    fn evaluate_within(&self, act: &Activation<'_>) -> Result<Outcome, String> {
        let mut ctx = Context::with_env(self.env.clone());
        ctx.add_variable_as_val("object", val(act.object));
        ctx.add_variable_as_val("oldObject", val(act.old_object));
        ctx.add_variable_as_val("request", to_val(act.request));
        ctx.add_variable_as_val("params", val(act.params));
        ctx.add_variable_as_val("namespaceObject", val(act.namespace_object));
        // Each variable is bound under its qualified name (`variables.x`),
        // which CEL resolves before looking into a `variables` map: no copies.
        // The map itself is built only for expressions that need it whole.
        let mut scope = ctx.new_inner_scope();
        let mut map: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> = HashMap::new();
        let whole = self.needs_map;
        if self.gatekeeper {
            let any = val(act.object.or(act.old_object));
            bind(&mut scope, &mut map, whole, "anyObject", any);
            let params = val(act.gatekeeper_params);
            bind(&mut scope, &mut map, whole, "params", params);
        }
        let mut var_errors: Vec<(String, String)> = Vec::new();
        for (name, prog) in &self.variables {
            budget::next_expression();
            match cel::Value::resolve_val(prog, &scope).map(|v| v.into_owned()) {
                Ok(v) => bind(&mut scope, &mut map, whole, name, v),
                Err(e) => var_errors.push((name.clone(), e.to_string())),
            }
        }
        let explain = |what: &str, e: cel::ExecutionError| -> String {
            let msg = e.to_string();
            // A variable that failed is unbound: its use fails to resolve.
            let failed = var_errors
                .iter()
                .find(|(n, _)| msg.contains(n.as_str()))
                .or_else(|| var_errors.first().filter(|_| msg.contains("'variables'")));
            match failed {
                Some((n, ve)) => format!("{what}: variable `{n}` failed: {ve}"),
                None => format!("{what}: {msg}"),
            }
        };
        let run = |prog: &Expression| {
            budget::next_expression();
            cel::Value::resolve(prog, &scope)
        };
        for (name, prog) in &self.match_conditions {
            match run(prog) {
                Ok(cel::Value::Bool(true)) => {}
                Ok(cel::Value::Bool(false)) => return Ok(Outcome::default()),
                Ok(other) => {
                    return Err(format!(
                        "matchCondition `{name}` returned {other:?}, not a bool"
                    ))
                }
                Err(e) => return Err(explain(&format!("matchCondition `{name}`"), e)),
            }
        }
        let mut out = Outcome {
            matched: true,
            ..Outcome::default()
        };
        for v in &self.validations {
            let error = |message: String| Failure {
                message,
                reason: v.reason.clone(),
                error: true,
            };
            match run(&v.program) {
                Ok(cel::Value::Bool(true)) => {}
                Ok(cel::Value::Bool(false)) => {
                    let from_expr = v.message_program.as_ref().and_then(|p| match run(p) {
                        Ok(cel::Value::String(s)) if !s.trim().is_empty() => Some(s.to_string()),
                        _ => None,
                    });
                    let message = from_expr
                        .or_else(|| v.message.clone())
                        .unwrap_or_else(|| format!("failed expression: {}", v.expression));
                    out.failures.push(Failure {
                        message,
                        reason: v.reason.clone(),
                        error: false,
                    });
                }
                Ok(other) => out.failures.push(error(format!(
                    "expression `{}` returned {other:?}, not a bool",
                    v.expression
                ))),
                Err(e) => out
                    .failures
                    .push(error(explain(&format!("expression `{}`", v.expression), e))),
            }
        }
        for (key, prog) in &self.audit_annotations {
            match run(prog) {
                Ok(cel::Value::Null) => {}
                Ok(v) => out.annotations.push((key.clone(), to_text(&v))),
                Err(e) => return Err(explain(&format!("auditAnnotation `{key}`"), e)),
            }
        }
        out.cost = budget::spent();
        Ok(out)
    }
}
