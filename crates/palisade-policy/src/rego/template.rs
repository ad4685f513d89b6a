//! Gatekeeper ConstraintTemplates (`templates.gatekeeper.sh`): the kind they
//! define and their code, Rego and optionally CEL (`K8sNativeValidation`).

use super::program::RegoProgram;
use crate::cel::validator::{Validator, ValidatorSpec};
use crate::error::PolicyError;
use crate::matching::strings;
use palisade_core::{FieldPath, Resource};
use serde_json::Value;
use std::time::Duration;

/// The Gatekeeper admission target.
const TARGET: &str = "admission.k8s.gatekeeper.sh";

/// A compiled ConstraintTemplate.
pub struct Template {
    /// `metadata.name`.
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    /// `metadata.gatekeeper.sh/title`, or the kind.
    pub title: String,
    /// The `description` annotation, if any.
    pub description: String,
    /// The Rego code, when the template has some.
    pub rego: Option<RegoProgram>,
    /// The CEL code (`K8sNativeValidation`), when the template has some.
    pub cel: Option<Validator>,
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

impl Template {
    /// Compiles a ConstraintTemplate object.
    pub fn compile(res: &Resource, limit: Duration) -> Result<Template, Vec<PolicyError>> {
        let v = &res.value;
        let name = res.id.name.clone();
        let label = format!("ConstraintTemplate {name}");
        let err = |path: &str, msg: String| {
            PolicyError::invalid(res, &label, &FieldPath::parse(path), msg)
        };
        let kind = text(v, "/spec/crd/spec/names/kind")
            .ok_or_else(|| {
                vec![err(
                    "spec.crd.spec.names.kind",
                    "missing: the constraint kind this template defines".into(),
                )]
            })?
            .to_string();
        let targets = v
            .pointer("/spec/targets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(ti) = targets
            .iter()
            .position(|t| text(t, "/target") == Some(TARGET))
        else {
            return Err(vec![err("spec.targets", format!("no target `{TARGET}`"))]);
        };
        let target = &targets[ti];
        let base = format!("spec.targets[{ti}]");
        let mut rego_src: Option<(String, Vec<String>, String)> = None;
        let mut cel_src: Option<(Value, String)> = None;
        if let Some(r) = target.get("rego").and_then(Value::as_str) {
            rego_src = Some((
                r.to_string(),
                strings(target.get("libs")),
                format!("{base}.rego"),
            ));
        }
        for (ci, code) in target
            .get("code")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let path = format!("{base}.code[{ci}]");
            match text(code, "/engine") {
                Some("Rego") => {
                    let src = code.get("source").cloned().unwrap_or(Value::Null);
                    let r = src
                        .get("rego")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    rego_src = Some((r, strings(src.get("libs")), format!("{path}.source.rego")));
                }
                Some("K8sNativeValidation") => {
                    cel_src = Some((
                        code.get("source").cloned().unwrap_or(Value::Null),
                        format!("{path}.source"),
                    ))
                }
                other => {
                    return Err(vec![err(
                        &format!("{path}.engine"),
                        format!("unknown engine {other:?} (expected Rego or K8sNativeValidation)"),
                    )])
                }
            }
        }
        let mut errors = Vec::new();
        let rego = match rego_src {
            Some((src, libs, path)) => match RegoProgram::compile(&name, &src, &libs, limit) {
                Ok(p) => Some(p),
                Err(m) => {
                    errors.push(err(&path, format!("Rego does not compile: {m}")));
                    None
                }
            },
            None => None,
        };
        let cel = match cel_src {
            Some((src, path)) => {
                let spec = ValidatorSpec::gatekeeper(&src);
                match Validator::compile(&spec, res, &label, &FieldPath::parse(&path), limit) {
                    Ok(c) => Some(c),
                    Err(mut e) => {
                        errors.append(&mut e);
                        None
                    }
                }
            }
            None => None,
        };
        if rego.is_none() && cel.is_none() && errors.is_empty() {
            errors.push(err(&base, "no Rego or K8sNativeValidation code".into()));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Template {
            title: res
                .annotation("metadata.gatekeeper.sh/title")
                .unwrap_or(&kind)
                .to_string(),
            description: res
                .annotation("description")
                .unwrap_or_default()
                .trim()
                .to_string(),
            name,
            kind,
            rego,
            cel,
        })
    }
}
