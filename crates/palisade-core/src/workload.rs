//! Where pod specs live in workload objects, and their containers.

use crate::context::Context;
use crate::path::FieldPath;
use crate::resource::Resource;
use crate::value::Field;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::OnceLock;

/// The three container lists of a pod spec.
pub const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// Every kind that creates pods (has a pod spec): what workload rules check.
pub const POD_KINDS: [&str; 9] = [
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ReplicationController",
    "CronJob",
    "PodTemplate",
];

/// The path of the pod spec in an object of `kind`, for every kind that
/// creates pods: Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
/// CronJob, ReplicationController and PodTemplate.
pub fn pod_spec_path(kind: &str) -> Option<FieldPath> {
    pod_spec_path_ref(kind).cloned()
}

/// The path of the pod metadata (labels, annotations) in an object of `kind`.
pub fn pod_meta_path(kind: &str) -> Option<FieldPath> {
    pod_meta_path_ref(kind).cloned()
}

/// Like [`pod_spec_path`], without allocating: the paths are parsed once.
pub fn pod_spec_path_ref(kind: &str) -> Option<&'static FieldPath> {
    static PATHS: OnceLock<[FieldPath; 4]> = OnceLock::new();
    let paths = PATHS.get_or_init(|| {
        [
            "spec",
            "spec.template.spec",
            "spec.jobTemplate.spec.template.spec",
            "template.spec",
        ]
        .map(FieldPath::parse)
    });
    Some(&paths[template_depth(kind)?])
}

/// Like [`pod_meta_path`], without allocating: the paths are parsed once.
pub fn pod_meta_path_ref(kind: &str) -> Option<&'static FieldPath> {
    static PATHS: OnceLock<[FieldPath; 4]> = OnceLock::new();
    let paths = PATHS.get_or_init(|| {
        [
            "metadata",
            "spec.template.metadata",
            "spec.jobTemplate.spec.template.metadata",
            "template.metadata",
        ]
        .map(FieldPath::parse)
    });
    Some(&paths[template_depth(kind)?])
}

/// Which of the four pod locations an object of `kind` uses.
fn template_depth(kind: &str) -> Option<usize> {
    Some(match kind {
        "Pod" => 0,
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => 1,
        "CronJob" => 2,
        "PodTemplate" => 3,
        _ => return None,
    })
}

/// The pod spec of a resource whose kind creates pods, with its path, the
/// pod metadata and the containers: found once per evaluated object (see
/// [`Context::pod_spec_of`](crate::Context::pod_spec_of)) and read by every
/// pod rule.
#[derive(Debug, Clone)]
pub struct PodSpec<'a> {
    /// The spec object.
    pub spec: &'a Value,
    /// Path of the spec in the resource.
    pub path: Cow<'static, FieldPath>,
    /// The pod metadata, when present.
    pub meta: Option<&'a Value>,
    /// Path of the pod metadata in the resource.
    pub meta_path: Cow<'static, FieldPath>,
    containers: Vec<Container<'a>>,
    /// Whether the containers come from elsewhere than the spec's
    /// container lists (Argo Workflows' templates, Tekton's steps): the
    /// object holding the pod-level fields is then not a whole pod spec.
    partial: bool,
}

/// One container of a pod spec.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// The container object.
    pub value: &'a Value,
    /// Its path in the resource, e.g. `spec.template.spec.initContainers[1]`.
    pub path: FieldPath,
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub list: &'static str,
    /// Its `name` (empty when missing).
    pub name: &'a str,
}

/// Calls `f` with the pod spec of `res` when it has one (a mapping): the
/// one `ctx` found for the object it evaluates, else found now.
pub fn with_pod_spec<R>(
    res: &Resource,
    ctx: &Context<'_>,
    f: impl FnOnce(&PodSpec<'_>) -> R,
) -> Option<R> {
    match ctx.pod_spec_of(res) {
        Some(known) => known.filter(|p| p.spec.is_object()).map(f),
        None => PodSpec::of(res).as_ref().map(f),
    }
}

impl<'a> PodSpec<'a> {
    /// The pod spec of `res`: `None` when its kind creates no pods or the
    /// spec is missing or not a mapping.
    pub fn of(res: &'a Resource) -> Option<PodSpec<'a>> {
        let path = pod_spec_path_ref(&res.id.kind)?;
        let meta_path = pod_meta_path_ref(&res.id.kind)?;
        let spec = path.get(&res.value).filter(|s| s.is_object())?;
        Some(PodSpec::at(
            spec,
            Cow::Borrowed(path),
            meta_path.get(&res.value),
            Cow::Borrowed(meta_path),
        ))
    }

    /// The pod spec `spec` at `path` with its metadata `meta` at
    /// `meta_path`, its containers found in its container lists.
    pub fn at(
        spec: &'a Value,
        path: Cow<'static, FieldPath>,
        meta: Option<&'a Value>,
        meta_path: Cow<'static, FieldPath>,
    ) -> PodSpec<'a> {
        let mut containers = Vec::new();
        for list in CONTAINER_LISTS {
            if let Some(Value::Array(items)) = spec.field(list) {
                for (i, c) in items.iter().enumerate() {
                    containers.push(Container {
                        value: c,
                        path: path.key(list).with_index(i),
                        list,
                        name: c.field("name").and_then(Value::as_str).unwrap_or(""),
                    });
                }
            }
        }
        PodSpec {
            spec,
            path,
            meta,
            meta_path,
            containers,
            partial: false,
        }
    }

    /// An object `spec` with pod-level fields at `path` whose containers
    /// are elsewhere (see [`PodSpec::is_partial`]).
    pub fn with_containers(
        spec: &'a Value,
        path: Cow<'static, FieldPath>,
        meta_path: Cow<'static, FieldPath>,
        containers: Vec<Container<'a>>,
    ) -> PodSpec<'a> {
        PodSpec {
            spec,
            meta: None,
            path,
            meta_path,
            containers,
            partial: true,
        }
    }

    /// Whether this is not a whole pod spec but an object holding some
    /// pod-level fields, with containers found elsewhere (Argo Workflows'
    /// templates, Tekton's steps): rules that report a pod-level field for
    /// being absent (the service account) skip it, since the controller
    /// sets it from elsewhere.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// Every container of every list, in order.
    pub fn containers(&self) -> &[Container<'a>] {
        &self.containers
    }

    /// A field of the spec.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.spec.field(key)
    }

    /// Path of a field of the spec.
    pub fn field(&self, key: &str) -> FieldPath {
        self.path.key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_per_kind() {
        let cases = [
            ("Pod", "spec", "metadata"),
            ("Deployment", "spec.template.spec", "spec.template.metadata"),
            (
                "ReplicationController",
                "spec.template.spec",
                "spec.template.metadata",
            ),
            (
                "CronJob",
                "spec.jobTemplate.spec.template.spec",
                "spec.jobTemplate.spec.template.metadata",
            ),
            ("PodTemplate", "template.spec", "template.metadata"),
        ];
        for (kind, spec, meta) in cases {
            assert_eq!(
                pod_spec_path_ref(kind).map(|p| p.to_string()).as_deref(),
                Some(spec)
            );
            assert_eq!(
                pod_meta_path_ref(kind).map(|p| p.to_string()).as_deref(),
                Some(meta)
            );
            assert_eq!(pod_spec_path(kind).as_ref(), pod_spec_path_ref(kind));
        }
        assert!(pod_spec_path_ref("Service").is_none());
        assert!(pod_meta_path("ConfigMap").is_none());
    }
}
