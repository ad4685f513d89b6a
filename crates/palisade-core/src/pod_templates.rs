//! Pod templates inside custom resources: where controllers other than the
//! built-in ones (Argo Rollouts, JobSet, Kubeflow, Knative, Argo Workflows,
//! Tekton, and whatever the configuration's `podTemplates` adds) keep the
//! pods they will create, so the pod rules check them like a Deployment's.
//!
//! A location is a path pattern: keys separated by `.`, `[]` after a key for
//! every item of its list (`spec.replicatedJobs[].template`), `*` for every
//! key of a mapping and `prefix*`/`*suffix` for the keys that start or end
//! so (`spec.*ReplicaSpecs.*.template`). What it points at is either a
//! PodTemplateSpec (`metadata` and `spec`; `paths` in the configuration) or
//! an object holding pod-level fields with containers at further patterns
//! (`pods`: Argo Workflows' templates, Tekton's steps).

use crate::config::{Config, ConfigError};
use crate::path::FieldPath;
use crate::resource::Resource;
use crate::value::Field;
use crate::workload::{Container, PodSpec};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;

/// The shipped table of built-in locations, in the configuration's format.
const BUILTIN: &str = include_str!("../data/pod-templates.yaml");
/// The name errors in [`BUILTIN`] are reported under.
const BUILTIN_FILE: &str = "palisade-core/data/pod-templates.yaml";

/// One step of a [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A key.
    Key(String),
    /// Every key starting with the first part and ending with the second.
    Glob(String, String),
    /// Every item of a list.
    Each,
}

/// A path pattern (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    steps: Vec<Step>,
}

impl Pattern {
    /// Parses `text`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let mut steps = Vec::new();
        if text.trim().is_empty() {
            return Err("a path must not be empty".into());
        }
        for part in text.split('.') {
            let (key, lists) = match part.find("[]") {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() || key.contains(['[', ']']) || !lists.replace("[]", "").is_empty() {
                return Err(format!(
                    "`{text}`: each step is a key, optionally followed by `[]` (got `{part}`)"
                ));
            }
            steps.push(match key.split_once('*') {
                None => Step::Key(key.to_string()),
                Some((pre, post)) if !post.contains('*') => {
                    Step::Glob(pre.to_string(), post.to_string())
                }
                Some(_) => return Err(format!("`{text}`: at most one `*` per key")),
            });
            steps.extend(std::iter::repeat_n(Step::Each, lists.len() / 2));
        }
        Ok(Pattern {
            text: text.to_string(),
            steps,
        })
    }

    /// Every value the pattern reaches under `value` (at `base`), in
    /// document order, with its path.
    pub fn find<'v>(&self, value: &'v Value, base: &FieldPath) -> Vec<(FieldPath, &'v Value)> {
        let mut found = vec![(base.clone(), value)];
        for step in &self.steps {
            let mut next = Vec::new();
            for (path, v) in found {
                match (step, v) {
                    (Step::Key(k), _) => {
                        if let Some(child) = v.field(k).filter(|c| !c.is_null()) {
                            next.push((path.key(k), child));
                        }
                    }
                    (Step::Glob(pre, post), Value::Object(map)) => {
                        for (k, child) in map {
                            let fits = k.len() >= pre.len() + post.len()
                                && k.starts_with(pre.as_str())
                                && k.ends_with(post.as_str());
                            if fits && !child.is_null() {
                                next.push((path.key(k), child));
                            }
                        }
                    }
                    (Step::Each, Value::Array(items)) => {
                        for (i, child) in items.iter().enumerate() {
                            next.push((path.index(i), child));
                        }
                    }
                    _ => {}
                }
            }
            found = next;
        }
        found
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the last key is `initContainers` (its containers run first).
    fn is_init(&self) -> bool {
        self.steps
            .iter()
            .rev()
            .find_map(|s| match s {
                Step::Key(k) => Some(k == "initContainers"),
                _ => None,
            })
            .unwrap_or(false)
    }
}

/// What a location points at.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A PodTemplateSpec: `metadata` and `spec` (a pod spec).
    Template,
    /// An object with pod-level fields (`securityContext`, `volumes`,
    /// `hostNetwork`, ...) whose containers are at these patterns, relative
    /// to it.
    Containers(Vec<Pattern>),
}

/// One place of pods in objects of a kind.
#[derive(Debug, Clone)]
pub struct Location {
    /// Where the template or pod-level object is.
    pub at: Pattern,
    /// What it is.
    pub shape: Shape,
}

/// A custom resource kind that holds pod templates.
#[derive(Debug, Clone)]
pub struct TemplateKind {
    /// The API group.
    pub group: String,
    /// The version, or `None` for every version (`group/*`).
    pub version: Option<String>,
    /// The kind.
    pub kind: String,
    /// The resource (plural) name, for admission webhook rules.
    pub resource: String,
    /// Where its pods are.
    pub locations: Vec<Location>,
}

impl TemplateKind {
    fn matches(&self, api_version: &str) -> bool {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        group == self.group && self.version.as_deref().is_none_or(|v| v == version)
    }

    /// `group/version` or `group/*`, as configured.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version.as_deref().unwrap_or("*"))
    }
}

/// One entry of `podTemplates:` (and of the shipped table).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Entry {
    api_version: String,
    kind: String,
    /// The resource name; default: guessed from the kind as Kubernetes does.
    resource: Option<String>,
    /// Paths of PodTemplateSpecs.
    #[serde(default)]
    paths: Vec<String>,
    /// Pod-level objects with their containers.
    #[serde(default)]
    pods: Vec<PodEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PodEntry {
    spec: String,
    containers: Vec<String>,
}

/// Every kind with pod templates the engine knows: the built-in table and
/// the configuration's `podTemplates`.
#[derive(Debug, Clone, Default)]
pub struct PodTemplates {
    kinds: Vec<TemplateKind>,
    by_kind: HashMap<String, Vec<usize>>,
}

impl PodTemplates {
    /// The built-in kinds (Argo Rollouts, JobSet, Kubeflow, Knative, Argo
    /// Workflows, Tekton) plus those of `config`'s `podTemplates`; errors
    /// name the file, line and key.
    pub fn from_config(config: &Config) -> Result<PodTemplates, ConfigError> {
        let mut kinds = builtin()?;
        kinds.extend(configured(config)?);
        Ok(PodTemplates::new(kinds))
    }

    fn new(kinds: Vec<TemplateKind>) -> PodTemplates {
        let mut by_kind: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, k) in kinds.iter().enumerate() {
            by_kind.entry(k.kind.clone()).or_default().push(i);
        }
        PodTemplates { kinds, by_kind }
    }

    /// Every known kind with pod templates, built-in first: what an
    /// admission webhook's configuration must route to the webhook.
    pub fn kinds(&self) -> &[TemplateKind] {
        &self.kinds
    }

    /// Whether some known kind is called `kind` (in any group).
    pub fn has_kind(&self, kind: &str) -> bool {
        self.by_kind.contains_key(kind)
    }

    /// The kind names, for the loader to keep such objects whole.
    pub fn kind_names(&self) -> impl Iterator<Item = &str> {
        self.by_kind.keys().map(String::as_str)
    }

    /// The pods inside `res` when it is of a known kind, in document order
    /// of each location.
    pub fn pods_of<'a>(&self, res: &'a Resource) -> Vec<PodSpec<'a>> {
        let Some(indices) = self.by_kind.get(&res.id.kind) else {
            return Vec::new();
        };
        let mut pods = Vec::new();
        for &i in indices {
            let k = &self.kinds[i];
            if !k.matches(&res.id.api_version) {
                continue;
            }
            for loc in &k.locations {
                for (path, v) in loc.at.find(&res.value, &FieldPath::root()) {
                    pods.extend(pod_at(loc, path, v));
                }
            }
        }
        pods
    }
}

/// The pod at one match of a location.
fn pod_at<'a>(loc: &Location, path: FieldPath, v: &'a Value) -> Option<PodSpec<'a>> {
    match &loc.shape {
        Shape::Template => {
            // a spec that is not a mapping is kept: the Pod Security
            // invalid-field check reports it, the other rules skip it
            let spec = v.field("spec").filter(|s| !s.is_null())?;
            Some(PodSpec::at(
                spec,
                Cow::Owned(path.key("spec")),
                v.field("metadata").filter(|m| !m.is_null()),
                Cow::Owned(path.key("metadata")),
            ))
        }
        Shape::Containers(patterns) => {
            if !v.is_object() {
                return None;
            }
            let mut containers = Vec::new();
            for p in patterns {
                let list = if p.is_init() {
                    "initContainers"
                } else {
                    "containers"
                };
                for (cpath, c) in p.find(v, &path) {
                    containers.push(Container {
                        value: c,
                        path: cpath,
                        list,
                        name: c.field("name").and_then(Value::as_str).unwrap_or(""),
                    });
                }
            }
            let meta_path = path.key("metadata");
            Some(PodSpec::with_containers(
                v,
                Cow::Owned(path),
                Cow::Owned(meta_path),
                containers,
            ))
        }
    }
}

/// The shipped table: a configuration document of `podTemplates` only,
/// read and checked by the same code as the user's.
fn builtin() -> Result<Vec<TemplateKind>, ConfigError> {
    let table = Config::parse(BUILTIN, BUILTIN_FILE)?;
    configured(&table)
}

/// The kinds of `config`'s `podTemplates` section.
fn configured(config: &Config) -> Result<Vec<TemplateKind>, ConfigError> {
    let Some(entries) = config.section::<Vec<Entry>>("podTemplates")? else {
        return Ok(Vec::new());
    };
    let base = FieldPath::root().key("podTemplates");
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| compile(e, &base.index(i)).map_err(|(p, m)| config.error_at(&p, m)))
        .collect()
}

/// Checks and compiles one entry found at `at`; errors give the key's path.
fn compile(e: &Entry, at: &FieldPath) -> Result<TemplateKind, (FieldPath, String)> {
    let (group, version) = match e.api_version.split_once('/') {
        Some((g, v)) if !g.is_empty() && !v.is_empty() && !v.contains('/') => (g, v),
        _ => {
            return Err((
                at.key("apiVersion"),
                format!(
                    "`{}` is not `group/version` or `group/*` (pod templates of the built-in \
                     kinds are known already)",
                    e.api_version
                ),
            ))
        }
    };
    if e.kind.trim().is_empty() {
        return Err((at.key("kind"), "a kind is required".into()));
    }
    if e.paths.is_empty() && e.pods.is_empty() {
        return Err((
            at.key("paths"),
            "give at least one path of a pod template (e.g. spec.template)".into(),
        ));
    }
    let mut locations = Vec::new();
    for (j, p) in e.paths.iter().enumerate() {
        let pattern = Pattern::parse(p).map_err(|m| (at.key("paths").index(j), m))?;
        locations.push(Location {
            at: pattern,
            shape: Shape::Template,
        });
    }
    for (j, pod) in e.pods.iter().enumerate() {
        let base = at.key("pods").index(j);
        let spec = Pattern::parse(&pod.spec).map_err(|m| (base.key("spec"), m))?;
        if pod.containers.is_empty() {
            return Err((base.key("containers"), "give at least one path".into()));
        }
        let mut containers = Vec::new();
        for (k, c) in pod.containers.iter().enumerate() {
            containers.push(Pattern::parse(c).map_err(|m| (base.key("containers").index(k), m))?);
        }
        locations.push(Location {
            at: spec,
            shape: Shape::Containers(containers),
        });
    }
    Ok(TemplateKind {
        group: group.to_string(),
        version: (version != "*").then(|| version.to_string()),
        kind: e.kind.clone(),
        resource: e
            .resource
            .clone()
            .unwrap_or_else(|| guess_resource(&e.kind)),
        locations,
    })
}

/// The resource name Kubernetes guesses for a kind (apimachinery's
/// `UnsafeGuessKindToResource`): lower case, plural by English rules.
pub fn guess_resource(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower.is_empty() {
        return lower;
    }
    if lower.ends_with('s') {
        return format!("{lower}es");
    }
    if let Some(stem) = lower.strip_suffix('y') {
        return format!("{stem}ies");
    }
    format!("{lower}s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shipped_table_loads_every_documented_kind() {
        let t = PodTemplates::from_config(&Config::default()).expect("built-in table");
        let kinds: Vec<String> = t
            .kinds()
            .iter()
            .map(|k| format!("{} {} {}", k.api_version(), k.kind, k.resource))
            .collect();
        for want in [
            "argoproj.io/* Rollout rollouts",
            "jobset.x-k8s.io/* JobSet jobsets",
            "kubeflow.org/* MPIJob mpijobs",
            "kubeflow.org/* PyTorchJob pytorchjobs",
            "kubeflow.org/* TFJob tfjobs",
            "kubeflow.org/* XGBoostJob xgboostjobs",
            "kubeflow.org/* PaddleJob paddlejobs",
            "serving.knative.dev/* Service services",
            "serving.knative.dev/* Configuration configurations",
            "argoproj.io/* Workflow workflows",
            "argoproj.io/* CronWorkflow cronworkflows",
            "argoproj.io/* WorkflowTemplate workflowtemplates",
            "tekton.dev/* Task tasks",
            "tekton.dev/* Pipeline pipelines",
        ] {
            assert!(
                kinds.iter().any(|k| k == want),
                "{want} missing in {kinds:?}"
            );
        }
    }

    #[test]
    fn patterns_reach_list_items_and_glob_keys() {
        let v = json!({"spec": {
            "mpiReplicaSpecs": {"Launcher": {"template": 1}, "Worker": {"template": 2}},
            "other": {"X": {"template": 3}},
            "jobs": [{"t": 4}, {"t": null}, {"t": 5}],
        }});
        let got = |p: &str| -> Vec<String> {
            Pattern::parse(p)
                .expect("pattern")
                .find(&v, &FieldPath::root())
                .into_iter()
                .map(|(path, v)| format!("{path}={v}"))
                .collect()
        };
        assert_eq!(
            got("spec.*ReplicaSpecs.*.template"),
            [
                "spec.mpiReplicaSpecs.Launcher.template=1",
                "spec.mpiReplicaSpecs.Worker.template=2"
            ]
        );
        assert_eq!(
            got("spec.jobs[].t"),
            ["spec.jobs[0].t=4", "spec.jobs[2].t=5"]
        );
        assert!(got("spec.missing[].t").is_empty());
        assert!(got("spec.other[]").is_empty(), "not a list");
        for bad in ["", "spec..template", "spec.a[0]", "spec.*a*", "spec.[]"] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn configured_kinds_are_validated_with_file_line_and_key() {
        let err = |text: &str| {
            let c = Config::parse(text, "p.yaml").expect("config parses");
            PodTemplates::from_config(&c).expect_err("invalid")
        };
        let e = err("podTemplates:\n- apiVersion: v1\n  kind: Foo\n  paths: [spec.template]\n");
        assert_eq!(
            (e.key.as_str(), e.pos.map(|p| p.line)),
            ("podTemplates[0].apiVersion", Some(2))
        );
        assert!(e.to_string().starts_with("p.yaml:2:"), "{e}");
        let e = err("podTemplates:\n- apiVersion: a.io/v1\n  kind: Foo\n");
        assert_eq!(e.key, "podTemplates[0].paths", "{e}");
        let e = err("podTemplates:\n- apiVersion: a.io/v1\n  kind: Foo\n  paths:\n  - spec.template\n  - spec..x\n");
        assert_eq!(
            (e.key.as_str(), e.pos.map(|p| p.line)),
            ("podTemplates[0].paths[1]", Some(6))
        );
        let e = err("podTemplates:\n- apiVersion: a.io/v1\n  kind: Foo\n  path: [spec.template]\n");
        assert_eq!(
            (e.key.as_str(), e.pos.map(|p| p.line)),
            ("podTemplates[0].path", Some(4)),
            "{e}"
        );
        let e = err("podTemplates:\n- apiVersion: a.io/v1\n  kind: ''\n  paths: [spec.template]\n");
        assert_eq!(e.key, "podTemplates[0].kind");
        let e = err("podTemplates: {kind: Foo}\n");
        assert_eq!(e.key, "podTemplates", "{e}");
        let c = Config::parse(
            "podTemplates:\n- {apiVersion: a.io/*, kind: Policy, paths: [spec.template]}\n",
            "p.yaml",
        )
        .expect("config");
        let t = PodTemplates::from_config(&c).expect("valid");
        let k = t.kinds().last().expect("configured kind");
        assert_eq!(
            (k.api_version(), k.resource.as_str()),
            ("a.io/*".to_string(), "policies")
        );
    }

    #[test]
    fn resources_are_guessed_as_kubernetes_guesses_them() {
        for (kind, resource) in [
            ("Foo", "foos"),
            ("Policy", "policies"),
            ("Ingress", "ingresses"),
            ("MPIJob", "mpijobs"),
        ] {
            assert_eq!(guess_resource(kind), resource);
        }
    }

    #[test]
    fn pods_are_found_only_in_the_named_group() {
        let t = PodTemplates::from_config(&Config::default()).expect("built-in");
        let rollout = |api: &str| {
            Resource::from_value(json!({"apiVersion": api, "kind": "Rollout",
                "metadata": {"name": "r"},
                "spec": {"template": {"metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]}}}}))
            .expect("object")
        };
        let argo = rollout("argoproj.io/v1alpha1");
        let pods = t.pods_of(&argo);
        assert_eq!(pods.len(), 1);
        assert_eq!(pods[0].path.to_string(), "spec.template.spec");
        assert_eq!(pods[0].meta_path.to_string(), "spec.template.metadata");
        assert!(pods[0].meta.is_some() && !pods[0].is_partial());
        assert_eq!(
            pods[0].containers()[0].path.to_string(),
            "spec.template.spec.containers[0]"
        );
        assert!(t.pods_of(&rollout("example.com/v1")).is_empty());
    }
}
