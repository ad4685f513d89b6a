//! The pod a resource creates, as the checks read it: the pod spec and pod
//! metadata of any workload kind, its containers in the built-in
//! controller's visiting order, and field access that treats `null` as unset.

use palisade_core::workload::{pod_meta_path_ref, pod_spec_path_ref, Container};
use palisade_core::Field;
use palisade_core::{Context, FieldPath, Resource};
use serde_json::Value;

/// The container lists in the order the built-in controller visits them.
pub const VISIT_ORDER: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// A pod (or pod template) found in a resource.
pub struct Pod<'a> {
    /// The pod spec (any JSON value; the checks read only mappings).
    pub spec: &'a Value,
    /// The pod metadata, when present.
    pub meta: Option<&'a Value>,
    /// Path of the pod spec in the resource.
    pub spec_path: &'a FieldPath,
    /// Path of the pod metadata in the resource.
    pub meta_path: &'a FieldPath,
    /// The containers, when they are not in the spec's container lists (a
    /// pod in an Argo Workflow or a Tekton Task, see
    /// [`PodSpec::is_partial`](palisade_core::workload::PodSpec::is_partial)).
    pub elsewhere: Option<&'a [Container<'a>]>,
}

/// One container of the pod.
#[derive(Clone, Copy)]
pub struct Ctr<'a> {
    /// The container object (any JSON value).
    pub value: &'a Value,
    /// `initContainers`, `containers` or `ephemeralContainers`.
    pub list: &'static str,
    /// Index in its list.
    pub index: usize,
    /// Its name (empty when missing or not a string).
    pub name: &'a str,
    /// Its path, when it is not `<spec>.<list>[<index>]`.
    pub path: Option<&'a FieldPath>,
}

impl<'a> Ctr<'a> {
    /// A field under the container, `null` meaning unset.
    pub fn get(&self, keys: &[&str]) -> Option<&'a Value> {
        get(self.value, keys)
    }

    /// A field of the container's `securityContext`.
    pub fn sc(&self, key: &str) -> Option<&'a Value> {
        get(self.value, &["securityContext", key])
    }
}

/// How the resource relates to pods.
pub enum Found<'a> {
    /// The kind creates no pods, or the object has no pod spec (a partial
    /// object such as a Kustomize patch; the API server would reject a
    /// whole object without one).
    NotAWorkload,
    /// The pod spec is there but is not a mapping.
    Malformed(FieldPath, &'a Value),
    /// The pod.
    Pod(Pod<'a>),
}

impl<'a> Pod<'a> {
    /// The pod of `res`, from the pod spec `ctx` found for it when `ctx`
    /// evaluates `res`.
    pub fn of(res: &'a Resource, ctx: &'a Context<'_>) -> Found<'a> {
        if let Some(Some(p)) = ctx.pod_spec_of(res) {
            if !p.spec.is_object() {
                // a pod template in a custom resource whose spec is not a mapping
                return Found::Malformed(p.path.clone().into_owned(), p.spec);
            }
            return Found::Pod(Pod {
                spec: p.spec,
                meta: p.meta,
                spec_path: &p.path,
                meta_path: &p.meta_path,
                elsewhere: p.is_partial().then(|| p.containers()),
            });
        }
        let (Some(spec_path), Some(meta_path)) = (
            pod_spec_path_ref(&res.id.kind),
            pod_meta_path_ref(&res.id.kind),
        ) else {
            return Found::NotAWorkload;
        };
        match spec_path.get(&res.value) {
            Some(spec) if spec.is_object() => Found::Pod(Pod {
                spec,
                meta: meta_path.get(&res.value),
                spec_path,
                meta_path,
                elsewhere: None,
            }),
            Some(Value::Null) | None => Found::NotAWorkload,
            Some(other) => Found::Malformed(spec_path.clone(), other),
        }
    }

    /// A field under the pod spec, `null` meaning unset.
    pub fn get(&self, keys: &[&str]) -> Option<&'a Value> {
        get(self.spec, keys)
    }

    /// A field of the pod's `securityContext`.
    pub fn sc(&self, key: &str) -> Option<&'a Value> {
        get(self.spec, &["securityContext", key])
    }

    /// The path of a field under the pod spec.
    pub fn path(&self, keys: &[&str]) -> FieldPath {
        keys.iter()
            .fold(self.spec_path.clone(), |p, k| p.with_key(k))
    }

    /// The path of a field under a container.
    pub fn ctr_path(&self, c: &Ctr<'_>, keys: &[&str]) -> FieldPath {
        let base = match c.path {
            Some(p) => p.clone(),
            None => self.spec_path.key(c.list).with_index(c.index),
        };
        keys.iter().fold(base, |p, k| p.with_key(k))
    }

    /// The path of an annotation.
    pub fn annotation_path(&self, key: &str) -> FieldPath {
        self.meta_path.key("annotations").with_key(key)
    }

    /// Every container, in the built-in controller's order.
    pub fn containers(&self) -> impl Iterator<Item = Ctr<'a>> + 'a {
        // The spec's lists, or (for a pod whose containers are elsewhere)
        // the containers found for it.
        let spec = if self.elsewhere.is_some() {
            &Value::Null
        } else {
            self.spec
        };
        let in_spec = VISIT_ORDER.into_iter().flat_map(move |list| {
            let items = spec
                .field(list)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            items.iter().enumerate().map(move |(index, value)| Ctr {
                value,
                list,
                index,
                name: value.field("name").and_then(Value::as_str).unwrap_or(""),
                path: None,
            })
        });
        let elsewhere = self
            .elsewhere
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(index, c)| Ctr {
                value: c.value,
                list: c.list,
                index,
                name: c.name,
                path: Some(&c.path),
            });
        in_spec.chain(elsewhere)
    }

    /// The pod annotations that are strings.
    pub fn annotations(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.meta
            .and_then(|m| m.field("annotations"))
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
    }

    /// One annotation, when it is a string.
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.meta?.field("annotations")?.field(key)?.as_str()
    }

    /// Whether `spec.os.name` is `windows` (exempts the pod from some
    /// restricted checks from v1.25).
    pub fn is_windows(&self) -> bool {
        self.get(&["os", "name"]).and_then(Value::as_str) == Some("windows")
    }

    /// Whether the pod runs in a user namespace (`hostUsers: false`).
    pub fn in_user_namespace(&self) -> bool {
        self.get(&["hostUsers"]) == Some(&Value::Bool(false))
    }

    /// `spec.runtimeClassName`.
    pub fn runtime_class(&self) -> Option<&'a str> {
        self.get(&["runtimeClassName"]).and_then(Value::as_str)
    }
}

/// The field at `keys` under `v`; `None` when missing, `null`, or when a
/// step is not a mapping.
pub fn get<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in keys {
        cur = cur.field(k)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// `"a", "b"` as the built-in controller quotes lists.
pub fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("{:?}", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The container's name for a message: `container "app"`.
pub fn ctr_label(c: &Ctr<'_>) -> String {
    format!("container {:?}", c.name)
}
