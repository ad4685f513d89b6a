//! Compiled CEL validations in the shape ValidatingAdmissionPolicy and
//! Gatekeeper's `K8sNativeValidation` share: variables, matchConditions,
//! validations and auditAnnotations. Compiled once; evaluated per object.

use super::budget::{self, Limits};
use super::check::{check_and_plan, Scope};
use super::types::Ty;
use super::CelOptions;
use crate::error::PolicyError;
use cel::parser::Expression;
use cel::Env;
use palisade_core::{FieldPath, Resource};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

mod eval;

/// The top-level variables of the Kubernetes CEL environment.
const VARS: &[&str] = &[
    "object",
    "oldObject",
    "request",
    "params",
    "namespaceObject",
    "variables",
];

/// One validation as written.
#[derive(Debug, Clone, Default)]
pub struct ValidationSpec {
    expression: String,
    message: Option<String>,
    message_expression: Option<String>,
    reason: Option<String>,
}

/// The CEL parts of a policy as written, before compilation.
#[derive(Debug, Clone, Default)]
pub struct ValidatorSpec {
    variables: Vec<(String, String)>,
    match_conditions: Vec<(String, String)>,
    validations: Vec<ValidationSpec>,
    audit_annotations: Vec<(String, String)>,
    gatekeeper: bool,
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn list<'a>(v: &'a Value, k: &str) -> impl Iterator<Item = &'a Value> {
    v.get(k).and_then(Value::as_array).into_iter().flatten()
}

fn named(v: &Value, list_key: &str, name_key: &str, expr_key: &str) -> Vec<(String, String)> {
    list(v, list_key)
        .map(|e| {
            (
                text(e, name_key).unwrap_or_default(),
                text(e, expr_key).unwrap_or_default(),
            )
        })
        .collect()
}

impl ValidatorSpec {
    /// Reads a ValidatingAdmissionPolicy `spec` (or a Gatekeeper `source`).
    pub fn from_spec(spec: &Value) -> ValidatorSpec {
        ValidatorSpec {
            variables: named(spec, "variables", "name", "expression"),
            match_conditions: named(spec, "matchConditions", "name", "expression"),
            validations: list(spec, "validations")
                .map(|v| ValidationSpec {
                    expression: text(v, "expression").unwrap_or_default(),
                    message: text(v, "message"),
                    message_expression: text(v, "messageExpression"),
                    reason: text(v, "reason"),
                })
                .collect(),
            audit_annotations: named(spec, "auditAnnotations", "key", "valueExpression"),
            gatekeeper: false,
        }
    }

    /// Reads a Gatekeeper `K8sNativeValidation` source: as a policy spec,
    /// with Gatekeeper's `variables.anyObject` and `variables.params`.
    pub fn gatekeeper(source: &Value) -> ValidatorSpec {
        ValidatorSpec {
            gatekeeper: true,
            ..ValidatorSpec::from_spec(source)
        }
    }
}

struct Validation {
    expression: String,
    program: Expression,
    message: Option<String>,
    message_program: Option<Expression>,
    reason: String,
}

/// Compiled CEL validations.
pub struct Validator {
    env: Arc<Env>,
    variables: Vec<(String, Expression)>,
    match_conditions: Vec<(String, Expression)>,
    validations: Vec<Validation>,
    audit_annotations: Vec<(String, Expression)>,
    gatekeeper: bool,
    /// The time and cost limits of one evaluation.
    limits: Limits,
    /// Some expression reads `variables` as a whole (`has(variables.x)`,
    /// `variables['x']`), so the map is built besides the qualified names.
    needs_map: bool,
}

/// What an evaluation sees.
pub struct Activation<'a> {
    /// `object` (absent for DELETE).
    pub object: Option<&'a Value>,
    /// `oldObject` (UPDATE and DELETE).
    pub old_object: Option<&'a Value>,
    /// `request`.
    pub request: &'a Value,
    /// `params`.
    pub params: Option<&'a Value>,
    /// `namespaceObject`.
    pub namespace_object: Option<&'a Value>,
    /// Gatekeeper's constraint parameters (`variables.params`).
    pub gatekeeper_params: Option<&'a Value>,
}

/// One failed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The message (messageExpression, message, or the expression).
    pub message: String,
    /// The reason (default `Invalid`).
    pub reason: String,
    /// The validation did not evaluate (`message` says why); the failure
    /// policy decides what that means.
    pub error: bool,
}

/// The result of an evaluation.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// False when a matchCondition excluded the object.
    pub matched: bool,
    /// Validations that failed.
    pub failures: Vec<Failure>,
    /// auditAnnotations that produced a value.
    pub annotations: Vec<(String, String)>,
    /// The cost the evaluation spent (see [`super::budget`]).
    pub cost: u64,
}

/// Parses, checks and instruments one expression; its type, or why it is
/// refused.
fn compile_one(
    env: &Env,
    src: &str,
    want: Option<Ty>,
    types: &HashMap<String, Ty>,
    opts: &CelOptions,
) -> Result<(Expression, Ty), String> {
    if src.trim().is_empty() {
        return Err("expression is empty".into());
    }
    let program = env
        .compile(src)
        .map_err(|e| format!("does not compile: {e}"))?;
    let scope = Scope {
        vars: VARS,
        variables: types,
        version: opts.version,
    };
    let (t, rewrites) = check_and_plan(program.expression(), &scope)?;
    if let Some(w) = want {
        if !t.fits(&w) {
            return Err(format!("must evaluate to {w}, but its type is {t}"));
        }
    }
    let mut e = program.expression().clone();
    let cost = budget::estimate(&e);
    if cost > opts.per_call_limit {
        return Err(format!(
            "estimated cost {cost} exceeds the per-expression limit of {} (whatever the object holds)",
            opts.per_call_limit
        ));
    }
    super::lib::typed::apply(&mut e, &rewrites);
    super::lib::regex::use_cache(&mut e);
    budget::instrument(&mut e);
    Ok((e, t))
}

impl Validator {
    /// Compiles `spec` (of the policy `label` in `res`, fields under `base`)
    /// for the latest Kubernetes version, with `limit` on evaluation time.
    pub fn compile(
        spec: &ValidatorSpec,
        res: &Resource,
        label: &str,
        base: &FieldPath,
        limit: Duration,
    ) -> Result<Validator, Vec<PolicyError>> {
        let opts = CelOptions {
            limit,
            ..CelOptions::default()
        };
        Validator::compile_with(spec, res, label, base, &opts)
    }

    /// Compiles `spec` as [`Validator::compile`] does, with `opts`.
    pub fn compile_with(
        spec: &ValidatorSpec,
        res: &Resource,
        label: &str,
        base: &FieldPath,
        opts: &CelOptions,
    ) -> Result<Validator, Vec<PolicyError>> {
        let env = super::env::env().map_err(|e| vec![PolicyError::invalid(res, label, base, e)])?;
        let mut errors = Vec::new();
        let mut types: HashMap<String, Ty> = HashMap::new();
        if spec.gatekeeper {
            types.insert("anyObject".into(), Ty::Dyn);
            types.insert("params".into(), Ty::Dyn);
        }
        let mut compile = |path: FieldPath,
                           src: &str,
                           want: Option<Ty>,
                           types: &HashMap<String, Ty>|
         -> Option<(Expression, Ty)> {
            let fail = |m: String| PolicyError::expression(res, label, &path, src, m);
            match compile_one(&env, src, want, types, opts) {
                Ok(p) => Some(p),
                Err(m) => {
                    errors.push(fail(m));
                    None
                }
            }
        };
        let mut variables = Vec::new();
        for (i, (name, src)) in spec.variables.iter().enumerate() {
            let p = base.key("variables").index(i).key("expression");
            let (prog, t) = match compile(p, src, None, &types) {
                Some(x) => x,
                None => (Expression::default(), Ty::Dyn),
            };
            types.insert(name.clone(), t);
            variables.push((name.clone(), prog));
        }
        let mut match_conditions = Vec::new();
        for (i, (name, src)) in spec.match_conditions.iter().enumerate() {
            let p = base.key("matchConditions").index(i).key("expression");
            if let Some((prog, _)) = compile(p, src, Some(Ty::Bool), &types) {
                match_conditions.push((name.clone(), prog));
            }
        }
        let mut validations = Vec::new();
        for (i, v) in spec.validations.iter().enumerate() {
            let p = base.key("validations").index(i);
            let program =
                compile(p.key("expression"), &v.expression, Some(Ty::Bool), &types).map(|(e, _)| e);
            let message_program = match &v.message_expression {
                Some(m) => {
                    compile(p.key("messageExpression"), m, Some(Ty::String), &types).map(|(e, _)| e)
                }
                None => None,
            };
            if let Some(program) = program {
                validations.push(Validation {
                    expression: v.expression.trim().to_string(),
                    program,
                    message: v.message.clone(),
                    message_program,
                    reason: v.reason.clone().unwrap_or_else(|| "Invalid".into()),
                });
            }
        }
        let mut audit_annotations = Vec::new();
        for (i, (key, src)) in spec.audit_annotations.iter().enumerate() {
            let p = base.key("auditAnnotations").index(i).key("valueExpression");
            if let Some((prog, _)) = compile(p, src, None, &types) {
                audit_annotations.push((key.clone(), prog));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let whole = regex::Regex::new(r"has\(\s*variables\.\w+\s*\)|variables\s*(\[|\)|,|\]|$)")
            .map_err(|e| vec![PolicyError::invalid(res, label, base, e.to_string())])?;
        let needs_map = spec
            .variables
            .iter()
            .map(|(_, e)| e.as_str())
            .chain(spec.match_conditions.iter().map(|(_, e)| e.as_str()))
            .chain(
                spec.validations
                    .iter()
                    .flat_map(|v| [Some(v.expression.as_str()), v.message_expression.as_deref()])
                    .flatten(),
            )
            .chain(spec.audit_annotations.iter().map(|(_, e)| e.as_str()))
            .any(|e| whole.is_match(e));
        Ok(Validator {
            limits: Limits {
                time: opts.limit,
                per_call: opts.per_call_limit,
                budget: opts.budget,
            },
            needs_map,
            env,
            variables,
            match_conditions,
            validations,
            audit_annotations,
            gatekeeper: spec.gatekeeper,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validator(spec: Value) -> Validator {
        let res = Resource::from_value(
            json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x"}}),
        )
        .unwrap();
        Validator::compile(
            &ValidatorSpec::gatekeeper(&spec),
            &res,
            "test",
            &FieldPath::root(),
            Duration::from_secs(1),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn null_fields_are_absent_and_variables_chain() {
        let v = validator(json!({
            "variables": [
                {"name": "vols", "expression": "!has(variables.anyObject.spec.volumes) ? [] : variables.anyObject.spec.volumes"},
                {"name": "n", "expression": "size(variables.vols) + variables.params.extra"}
            ],
            "validations": [{"expression": "variables.n == 1", "messageExpression": "'n is ' + string(variables.n)"}]
        }));
        let obj = json!({"spec": {"volumes": null}});
        let params = json!({"extra": 1});
        let req = json!({});
        let act = Activation {
            object: Some(&obj),
            old_object: None,
            request: &req,
            params: None,
            namespace_object: None,
            gatekeeper_params: Some(&params),
        };
        let out = v.evaluate(&act).unwrap();
        assert!(out.matched && out.failures.is_empty(), "{out:?}");
        let obj = json!({"spec": {"volumes": [1, 2]}});
        let act = Activation {
            object: Some(&obj),
            ..act
        };
        assert_eq!(v.evaluate(&act).unwrap().failures[0].message, "n is 3");
    }
}
