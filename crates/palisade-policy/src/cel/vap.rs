//! ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding objects
//! (`admissionregistration.k8s.io/v1`), compiled.

use super::resources::MatchResources;
use super::validator::{Validator, ValidatorSpec};
use super::CelOptions;
use crate::error::PolicyError;
use palisade_core::{Action, FieldPath, LabelSelector, Resource, Severity};
use serde_json::Value;
use std::time::Duration;

/// A compiled ValidatingAdmissionPolicy.
pub struct Policy {
    /// `metadata.name`.
    pub name: String,
    /// The compiled CEL.
    pub validator: Validator,
    /// `spec.matchConstraints`.
    pub constraints: MatchResources,
    /// `spec.paramKind` as (apiVersion, kind).
    pub param_kind: Option<(String, String)>,
    /// `spec.failurePolicy` is `Fail` (the default).
    pub fail_closed: bool,
    /// From the `palisade.io/severity` annotation, default high.
    pub severity: Severity,
    /// The `description` annotation or a summary of the validations.
    pub description: String,
}

/// How a binding finds its params.
#[derive(Debug, Clone)]
pub struct ParamRef {
    /// A single object by name.
    pub name: Option<String>,
    /// Its namespace (default: the namespace of the object under review).
    pub namespace: Option<String>,
    /// Or every object matching a selector.
    pub selector: Option<LabelSelector>,
    /// `parameterNotFoundAction` is `Deny` (the default).
    pub deny_if_missing: bool,
}

/// A parsed ValidatingAdmissionPolicyBinding.
#[derive(Debug, Clone)]
pub struct Binding {
    /// `metadata.name`.
    pub name: String,
    /// `spec.policyName`.
    pub policy: String,
    /// `spec.matchResources`.
    pub resources: Option<MatchResources>,
    /// `spec.paramRef`.
    pub param_ref: Option<ParamRef>,
    /// The strictest of `spec.validationActions`.
    pub action: Action,
    /// `spec.validationActions` as written.
    pub actions: Vec<String>,
}

fn text<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p).and_then(Value::as_str)
}

fn severity(res: &Resource, label: &str) -> Result<Severity, PolicyError> {
    match res.annotation("palisade.io/severity") {
        Some(s) => s
            .parse()
            .map_err(|e: palisade_core::severity::UnknownSeverity| {
                PolicyError::invalid(
                    res,
                    label,
                    &FieldPath::parse("metadata.annotations"),
                    e.to_string(),
                )
            }),
        None => Ok(Severity::High),
    }
}

impl Policy {
    /// Compiles a ValidatingAdmissionPolicy for the latest Kubernetes
    /// version, with `limit` on evaluation time.
    pub fn compile(res: &Resource, limit: Duration) -> Result<Policy, Vec<PolicyError>> {
        let opts = CelOptions {
            limit,
            ..CelOptions::default()
        };
        Policy::compile_with(res, &opts)
    }

    /// Compiles a ValidatingAdmissionPolicy with `opts`.
    pub fn compile_with(res: &Resource, opts: &CelOptions) -> Result<Policy, Vec<PolicyError>> {
        let label = format!("ValidatingAdmissionPolicy {}", res.id.name);
        let err =
            |p: &str, m: String| vec![PolicyError::invalid(res, &label, &FieldPath::parse(p), m)];
        let spec = res.value.get("spec").cloned().unwrap_or(Value::Null);
        let fail_closed = match text(&spec, "/failurePolicy").unwrap_or("Fail") {
            "Fail" => true,
            "Ignore" => false,
            other => {
                return Err(err(
                    "spec.failurePolicy",
                    format!("unknown failurePolicy `{other}` (expected Fail or Ignore)"),
                ))
            }
        };
        let constraints = match spec.get("matchConstraints") {
            Some(m) => MatchResources::parse(m)
                .map_err(|(k, m)| err(&format!("spec.matchConstraints.{k}"), m))?,
            None => {
                return Err(err(
                    "spec.matchConstraints",
                    "missing: the policy would match nothing".into(),
                ))
            }
        };
        let param_kind = match spec.get("paramKind") {
            Some(pk) => Some((
                text(pk, "/apiVersion").unwrap_or_default().to_string(),
                text(pk, "/kind")
                    .ok_or_else(|| err("spec.paramKind.kind", "missing".into()))?
                    .to_string(),
            )),
            None => None,
        };
        let vspec = ValidatorSpec::from_spec(&spec);
        let validator =
            Validator::compile_with(&vspec, res, &label, &FieldPath::root().key("spec"), opts)?;
        let count = spec
            .get("validations")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        Ok(Policy {
            name: res.id.name.clone(),
            validator,
            constraints,
            param_kind,
            fail_closed,
            severity: severity(res, &label).map_err(|e| vec![e])?,
            description: res
                .annotation("description")
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "ValidatingAdmissionPolicy {} with {count} validation(s).",
                        res.id.name
                    )
                }),
        })
    }
}

impl Binding {
    /// Parses a ValidatingAdmissionPolicyBinding.
    pub fn parse(res: &Resource) -> Result<Binding, PolicyError> {
        let label = format!("ValidatingAdmissionPolicyBinding {}", res.id.name);
        let err = |p: &str, m: String| PolicyError::invalid(res, &label, &FieldPath::parse(p), m);
        let spec = res.value.get("spec").cloned().unwrap_or(Value::Null);
        let policy = text(&spec, "/policyName")
            .ok_or_else(|| err("spec.policyName", "missing".into()))?
            .to_string();
        let actions: Vec<String> = spec
            .get("validationActions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        let mut action = None;
        for (i, a) in actions.iter().enumerate() {
            let x = match a.as_str() {
                "Deny" => Action::Enforce,
                "Warn" => Action::Warn,
                "Audit" => Action::Audit,
                other => {
                    return Err(err(
                        &format!("spec.validationActions[{i}]"),
                        format!("unknown action `{other}` (expected Deny, Warn or Audit)"),
                    ))
                }
            };
            action = action.max(Some(x));
        }
        let action = action.ok_or_else(|| {
            err(
                "spec.validationActions",
                "missing: at least one of Deny, Warn, Audit".into(),
            )
        })?;
        let resources = match spec.get("matchResources") {
            Some(m) => Some(
                MatchResources::parse(m)
                    .map_err(|(k, m)| err(&format!("spec.matchResources.{k}"), m))?,
            ),
            None => None,
        };
        let param_ref = match spec.get("paramRef") {
            Some(p) => Some(ParamRef {
                name: text(p, "/name").map(str::to_string),
                namespace: text(p, "/namespace").map(str::to_string),
                selector: match p.get("selector") {
                    Some(s) => Some(
                        LabelSelector::from_value(s)
                            .map_err(|e| err("spec.paramRef.selector", e))?,
                    ),
                    None => None,
                },
                deny_if_missing: match text(p, "/parameterNotFoundAction").unwrap_or("Deny") {
                    "Deny" => true,
                    "Allow" => false,
                    o => {
                        return Err(err(
                            "spec.paramRef.parameterNotFoundAction",
                            format!("unknown action `{o}` (expected Allow or Deny)"),
                        ))
                    }
                },
            }),
            None => None,
        };
        Ok(Binding {
            name: res.id.name.clone(),
            policy,
            resources,
            param_ref,
            action,
            actions,
        })
    }
}
