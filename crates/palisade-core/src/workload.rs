//! Where pod specs live in workload objects, and their containers.

use crate::path::FieldPath;
use crate::resource::Resource;
use serde_json::Value;
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

/// A pod spec found in a resource, with its path.
#[derive(Debug, Clone, Copy)]
pub struct PodSpec<'a> {
    /// The spec object.
    pub spec: &'a Value,
    /// Path of the spec in the resource.
    pub path: &'a FieldPath,
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

/// Calls `f` with the pod spec of `res` when it has one.
pub fn with_pod_spec<R>(res: &Resource, f: impl FnOnce(PodSpec<'_>) -> R) -> Option<R> {
    let path = pod_spec_path_ref(&res.id.kind)?;
    let spec = path.get(&res.value)?;
    if !spec.is_object() {
        return None;
    }
    Some(f(PodSpec { spec, path }))
}

impl<'a> PodSpec<'a> {
    /// Every container of every list, in order.
    pub fn containers(&self) -> Vec<Container<'a>> {
        let mut out = Vec::new();
        for list in CONTAINER_LISTS {
            if let Some(Value::Array(items)) = self.spec.get(list) {
                for (i, c) in items.iter().enumerate() {
                    out.push(Container {
                        value: c,
                        path: self.path.key(list).index(i),
                        list,
                        name: c.get("name").and_then(Value::as_str).unwrap_or(""),
                    });
                }
            }
        }
        out
    }

    /// A field of the spec.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.spec.get(key)
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
