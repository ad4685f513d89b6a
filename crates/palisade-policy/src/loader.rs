//! Turning policy objects into rules: templates with their constraints,
//! policies with their bindings; everything else is kept as params.

use crate::cel::{Binding, Policy, VapRule};
use crate::error::{Place, PolicyError};
use crate::files::{policy_files, read_resources};
use crate::rego::{Constraint, ConstraintRule, RegoInventoryProvider, Template};
use crate::PolicyEngine;
use palisade_core::{ContextProvider, FieldPath, Resource, Rule};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How to load policies.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Which engine runs templates that have both Rego and CEL.
    pub engine: PolicyEngine,
    /// The longest one evaluation of one policy may run.
    pub limit: Duration,
    /// The Kubernetes version whose CEL environment policies are checked
    /// against (latest by default).
    pub kubernetes_version: crate::cel::KubeVersion,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            engine: PolicyEngine::Rego,
            limit: Duration::from_secs(1),
            kubernetes_version: crate::cel::KubeVersion::LATEST,
        }
    }
}

/// Compiled user policies, ready to add to a `PolicySet`.
#[derive(Default)]
pub struct LoadedPolicies {
    /// One rule per (template, constraint) and per (policy, binding).
    pub rules: Vec<Arc<dyn Rule>>,
    /// Providers the set must include (`data.inventory` for Rego).
    pub providers: Vec<Arc<dyn ContextProvider>>,
    /// Things that load but do nothing (a policy without binding, a
    /// template without constraint).
    pub warnings: Vec<String>,
}

/// Whether `res` is a policy object (template, constraint, policy, binding).
fn is_policy(r: &Resource) -> bool {
    is(r, "templates.gatekeeper.sh", "")
        || is(r, "constraints.gatekeeper.sh", "")
        || is(
            r,
            "admissionregistration.k8s.io",
            "ValidatingAdmissionPolicy",
        )
        || is(
            r,
            "admissionregistration.k8s.io",
            "ValidatingAdmissionPolicyBinding",
        )
}

/// Policy objects of the same kind and name after the first: Kubernetes
/// would keep only one, so the others are errors rather than silently lost.
fn duplicates(resources: &[Resource]) -> Vec<PolicyError> {
    let mut first: HashMap<(&str, &str), &Resource> = HashMap::new();
    let mut errors = Vec::new();
    for r in resources.iter().filter(|r| is_policy(r)) {
        match first.get(&(r.id.kind.as_str(), r.id.name.as_str())) {
            None => {
                first.insert((&r.id.kind, &r.id.name), r);
            }
            Some(f) => errors.push(PolicyError::invalid(
                r,
                &format!("{} {}", r.id.kind, r.id.name),
                &FieldPath::parse("metadata.name"),
                format!(
                    "duplicate: {} {} is already defined at {}",
                    r.id.kind,
                    r.id.name,
                    crate::Place::of(f, &FieldPath::root())
                        .to_string()
                        .trim_end_matches(": ")
                ),
            )),
        }
    }
    errors
}

fn is(res: &Resource, group: &str, kind: &str) -> bool {
    res.id.group() == group && (kind.is_empty() || res.id.kind == kind)
}

/// Compiles every policy among `resources`: what loads is returned with
/// the errors of what does not.
pub fn load_lenient(
    resources: &[Resource],
    opts: LoadOptions,
) -> (LoadedPolicies, Vec<PolicyError>) {
    let mut out = LoadedPolicies::default();
    let mut errors = duplicates(resources);
    let resources: Vec<&Resource> = {
        // The first of duplicates is kept; the others are errors.
        let mut seen = std::collections::HashSet::new();
        resources
            .iter()
            .filter(|r| !is_policy(r) || seen.insert((r.id.kind.clone(), r.id.name.clone())))
            .collect()
    };
    let resources = resources.as_slice();
    let params: Arc<Vec<Arc<Resource>>> = Arc::new(
        resources
            .iter()
            .filter(|r| !is_policy(r))
            .map(|r| Arc::new((*r).clone()))
            .collect(),
    );
    let mut templates: HashMap<String, Arc<Template>> = HashMap::new();
    // Kinds and policy names whose definition failed: their constraints and
    // bindings are not reported again.
    let mut broken = std::collections::HashSet::new();
    for r in resources
        .iter()
        .filter(|r| is(r, "templates.gatekeeper.sh", "ConstraintTemplate"))
    {
        match Template::compile(r, opts.limit) {
            Ok(t) => {
                templates.insert(t.kind.clone(), Arc::new(t));
            }
            Err(mut e) => {
                let kind = r
                    .value
                    .pointer("/spec/crd/spec/names/kind")
                    .and_then(|k| k.as_str());
                broken.extend(kind.map(str::to_string));
                errors.append(&mut e)
            }
        }
    }
    let mut used = std::collections::HashSet::new();
    for r in resources
        .iter()
        .filter(|r| is(r, "constraints.gatekeeper.sh", ""))
    {
        let Some(t) = templates.get(&r.id.kind) else {
            if broken.contains(&r.id.kind) {
                continue;
            }
            errors.push(PolicyError::invalid(
                r,
                &format!("{} {}", r.id.kind, r.id.name),
                &FieldPath::parse("kind"),
                format!("no ConstraintTemplate defines kind `{}`", r.id.kind),
            ));
            continue;
        };
        match Constraint::parse(r) {
            Ok(c) => {
                used.insert(r.id.kind.clone());
                out.rules.push(Arc::new(ConstraintRule::new(
                    t.clone(),
                    c,
                    r.value.clone(),
                    opts.engine,
                )));
            }
            Err(e) => errors.push(e),
        }
    }
    for t in templates.values().filter(|t| !used.contains(&t.kind)) {
        out.warnings.push(format!(
            "ConstraintTemplate {} has no constraint of kind {}; it checks nothing",
            t.name, t.kind
        ));
    }
    let mut policies: HashMap<String, Arc<Policy>> = HashMap::new();
    for r in resources.iter().filter(|r| {
        is(
            r,
            "admissionregistration.k8s.io",
            "ValidatingAdmissionPolicy",
        )
    }) {
        let cel = crate::cel::CelOptions {
            limit: opts.limit,
            version: opts.kubernetes_version,
            ..crate::cel::CelOptions::default()
        };
        match Policy::compile_with(r, &cel) {
            Ok(p) => {
                policies.insert(p.name.clone(), Arc::new(p));
            }
            Err(mut e) => {
                broken.insert(r.id.name.clone());
                errors.append(&mut e)
            }
        }
    }
    let mut bound = std::collections::HashSet::new();
    for r in resources.iter().filter(|r| {
        is(
            r,
            "admissionregistration.k8s.io",
            "ValidatingAdmissionPolicyBinding",
        )
    }) {
        match Binding::parse(r) {
            Ok(b) => match policies.get(&b.policy) {
                Some(p) => {
                    if p.param_kind.is_some() && b.param_ref.is_none() {
                        errors.push(PolicyError::invalid(
                            r,
                            &format!("ValidatingAdmissionPolicyBinding {}", b.name),
                            &FieldPath::parse("spec.paramRef"),
                            format!("missing: policy {} has a paramKind", p.name),
                        ));
                        continue;
                    }
                    bound.insert(b.policy.clone());
                    out.rules
                        .push(Arc::new(VapRule::new(p.clone(), b, params.clone())));
                }
                None if broken.contains(&b.policy) => {}
                None => errors.push(PolicyError::invalid(
                    r,
                    &format!("ValidatingAdmissionPolicyBinding {}", b.name),
                    &FieldPath::parse("spec.policyName"),
                    format!("no ValidatingAdmissionPolicy named `{}`", b.policy),
                )),
            },
            Err(e) => errors.push(e),
        }
    }
    for p in policies.values().filter(|p| !bound.contains(&p.name)) {
        out.warnings.push(format!(
            "ValidatingAdmissionPolicy {} has no binding; it checks nothing",
            p.name
        ));
    }
    // `data.inventory` is built once per evaluation, only if some Rego reads it.
    let reads_inventory = templates
        .values()
        .any(|t| used.contains(&t.kind) && t.rego.as_ref().is_some_and(|r| r.uses_inventory()));
    if reads_inventory {
        out.providers.push(Arc::new(RegoInventoryProvider));
    }
    out.warnings.sort();
    (out, errors)
}

/// Compiles every policy among `resources`; any error fails the whole set
/// (what a webhook wants at start).
pub fn load(resources: &[Resource], opts: LoadOptions) -> Result<LoadedPolicies, Vec<PolicyError>> {
    match load_lenient(resources, opts) {
        (loaded, errors) if errors.is_empty() => Ok(loaded),
        (_, errors) => Err(errors),
    }
}

/// Reads policy files and directories (recursively: `.yaml`, `.yml`,
/// `.json`) and compiles them leniently.
pub fn load_files<P: AsRef<Path>>(
    paths: &[P],
    opts: LoadOptions,
) -> (LoadedPolicies, Vec<PolicyError>) {
    let mut resources = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let (files, mut unreadable) = policy_files(p.as_ref());
        let all_readable = unreadable.is_empty();
        errors.append(&mut unreadable);
        if files.is_empty() && all_readable {
            errors.push(PolicyError::Read {
                place: Place::file(&p.as_ref().display().to_string()),
                message: "no .yaml, .yml or .json files".into(),
            });
        }
        for f in files {
            match read_resources(&f) {
                Ok(mut r) => resources.append(&mut r),
                Err(e) => errors.push(e),
            }
        }
    }
    let (loaded, mut more) = load_lenient(&resources, opts);
    errors.append(&mut more);
    (loaded, errors)
}
