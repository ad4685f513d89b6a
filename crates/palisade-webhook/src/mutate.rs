//! Opt-in hardening patches (`webhook.mutate: true`).
//!
//! For every pod spec (Pods, workload templates) the mutation:
//! - sets `automountServiceAccountToken: false` when the pod spec does not
//!   set it and the workload does not need the API: it runs as the `default`
//!   service account (or none) and does not carry the annotation
//!   `palisade.io/needs-api-token: "true"`;
//! - sets the pod's `securityContext.seccompProfile` to `RuntimeDefault`
//!   when neither the pod nor the container sets one (not for Windows pods);
//! - adds `ALL` to each container's `securityContext.capabilities.drop`
//!   (capabilities it adds explicitly stay);
//! - sets `allowPrivilegeEscalation: false` where it is unset and the
//!   container is neither privileged nor adds `SYS_ADMIN` (the API server
//!   rejects that combination).
//!
//! Windows pods (`spec.os.name: windows`) get neither of the container
//! fields nor the seccomp profile: the API server rejects them for Windows
//! pods, and Pod Security's restricted level exempts Windows pods from the
//! same three checks. They still get `automountServiceAccountToken: false`.
//!
//! Values set explicitly are never overwritten, so a mutated object yields
//! no patch: the mutation is idempotent. Pods are only mutated on CREATE
//! (a pod's spec cannot change later) and, on the `ephemeralcontainers`
//! subresource, only their ephemeral containers.

use palisade_core::workload::{pod_meta_path, pod_spec_path};
use palisade_core::Field;
use palisade_core::{FieldPath, Operation};
use serde_json::{json, Map, Value};

/// Annotation (on the object or its pod template) saying the workload talks
/// to the API and keeps its token.
pub const NEEDS_API_ANNOTATION: &str = "palisade.io/needs-api-token";

/// The JSON patch (RFC 6902) hardening `obj`, or `None` when nothing changes.
pub fn patch_for(
    obj: &Value,
    operation: Operation,
    sub_resource: Option<&str>,
) -> Option<json_patch::Patch> {
    let kind = obj.field("kind").and_then(Value::as_str)?;
    let is_pod = kind == "Pod";
    let only_ephemeral = match (is_pod, operation, sub_resource) {
        (true, Operation::Update, Some("ephemeralcontainers")) => true,
        (true, Operation::Create, None) => false,
        (false, Operation::Create | Operation::Update, None) => false,
        _ => return None,
    };
    let spec_path = pod_spec_path(kind)?;
    let meta_path = pod_meta_path(kind)?;
    let mut new = obj.clone();
    let needs_api = [&meta_path, &FieldPath::root().key("metadata")]
        .iter()
        .any(|p| {
            p.get(obj)
                .and_then(|m| {
                    m.pointer(&format!(
                        "/annotations/{}",
                        NEEDS_API_ANNOTATION.replace('/', "~1")
                    ))
                })
                .and_then(Value::as_str)
                == Some("true")
        });
    let spec = pointer_mut(&mut new, &spec_path)?.as_object_mut()?;
    let windows = is_windows(spec);
    if !only_ephemeral {
        harden_pod(spec, needs_api, windows);
    }
    // capabilities and allowPrivilegeEscalation are forbidden in Windows pods
    let lists: &[&str] = if windows {
        &[]
    } else if only_ephemeral {
        &["ephemeralContainers"]
    } else {
        &["containers", "initContainers", "ephemeralContainers"]
    };
    for list in lists {
        if let Some(Value::Array(cs)) = spec.get_mut(*list) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                harden_container(c);
            }
        }
    }
    let p = json_patch::diff(obj, &new);
    (!p.0.is_empty()).then_some(p)
}

fn pointer_mut<'v>(v: &'v mut Value, path: &FieldPath) -> Option<&'v mut Value> {
    let mut cur = v;
    for seg in path.segments() {
        cur = match seg {
            palisade_core::Seg::Key(k) => cur.get_mut(k.as_str())?,
            palisade_core::Seg::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// Whether the pod spec declares a Windows pod (`os.name: windows`).
fn is_windows(spec: &Map<String, Value>) -> bool {
    spec.field("os")
        .and_then(|o| o.field("name"))
        .and_then(Value::as_str)
        == Some("windows")
}

fn harden_pod(spec: &mut Map<String, Value>, needs_api: bool, windows: bool) {
    let sa = spec
        .field("serviceAccountName")
        .or_else(|| spec.field("serviceAccount"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !needs_api
        && (sa.is_empty() || sa == "default")
        && !spec.contains_key("automountServiceAccountToken")
    {
        spec.insert("automountServiceAccountToken".into(), Value::Bool(false));
    }
    if windows {
        return;
    }
    let containers_set_seccomp = ["containers", "initContainers"].iter().all(|l| {
        spec.get(*l).and_then(Value::as_array).is_some_and(|cs| {
            !cs.is_empty()
                && cs.iter().all(|c| {
                    c.field("securityContext")
                        .and_then(|s| s.field("seccompProfile"))
                        .is_some()
                })
        })
    });
    if containers_set_seccomp
        || spec
            .field("securityContext")
            .and_then(|c| c.field("seccompProfile"))
            .is_some()
    {
        return;
    }
    if let Some(sc) = object_entry(spec, "securityContext") {
        sc.insert("seccompProfile".into(), json!({"type": "RuntimeDefault"}));
    }
}

fn harden_container(c: &mut Map<String, Value>) {
    let Some(sc) = object_entry(c, "securityContext") else {
        return;
    };
    let privileged = sc.field("privileged").and_then(Value::as_bool) == Some(true);
    let Some(caps) = object_entry(sc, "capabilities") else {
        return;
    };
    let adds_sys_admin = caps
        .field("add")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|c| matches!(c.as_str(), Some("SYS_ADMIN" | "CAP_SYS_ADMIN")))
        });
    match caps.get_mut("drop") {
        Some(Value::Array(d)) => {
            if !d.iter().any(|c| c.as_str() == Some("ALL")) {
                d.push(Value::String("ALL".into()));
            }
        }
        Some(_) => {} // not a list: left for the validating rules to report
        None => {
            caps.insert("drop".into(), json!(["ALL"]));
        }
    }
    if !privileged && !adds_sys_admin && !sc.contains_key("allowPrivilegeEscalation") {
        sc.insert("allowPrivilegeEscalation".into(), Value::Bool(false));
    }
}

/// The object at `key` of `m`, created when absent (or null); `None` when
/// it holds something else (left as it is).
fn object_entry<'m>(
    m: &'m mut Map<String, Value>,
    key: &str,
) -> Option<&'m mut Map<String, Value>> {
    let e = m.entry(key.to_string()).or_insert_with(|| json!({}));
    if e.is_null() {
        *e = json!({});
    }
    e.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(obj: &Value, p: &json_patch::Patch) -> Value {
        let mut v = obj.clone();
        json_patch::patch(&mut v, p).unwrap();
        v
    }

    #[test]
    fn hardens_and_is_idempotent() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "x"},
                {"name": "b", "image": "y", "securityContext": {"privileged": true, "capabilities": {"add": ["NET_ADMIN"], "drop": ["KILL"]}}}]}});
        let p = patch_for(&pod, Operation::Create, None).unwrap();
        let out = apply(&pod, &p);
        assert_eq!(out["spec"]["automountServiceAccountToken"], false);
        assert_eq!(
            out["spec"]["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(
            out["spec"]["containers"][0]["securityContext"]["capabilities"]["drop"],
            json!(["ALL"])
        );
        assert_eq!(
            out["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"],
            false
        );
        let b = &out["spec"]["containers"][1]["securityContext"];
        assert_eq!(b["capabilities"]["drop"], json!(["KILL", "ALL"]));
        assert_eq!(b["capabilities"]["add"], json!(["NET_ADMIN"]));
        assert!(
            b.get("allowPrivilegeEscalation").is_none(),
            "privileged keeps escalation unset"
        );
        assert!(
            patch_for(&out, Operation::Create, None).is_none(),
            "second pass must be a no-op"
        );
    }

    #[test]
    fn respects_explicit_values_and_api_needs() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"metadata": {"annotations": {NEEDS_API_ANNOTATION: "true"}},
              "spec": {"containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": true}}]}}}});
        let out = apply(&d, &patch_for(&d, Operation::Update, None).unwrap());
        let spec = &out["spec"]["template"]["spec"];
        assert!(spec.get("automountServiceAccountToken").is_none());
        assert_eq!(
            spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"],
            true
        );
        let sa = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"serviceAccountName": "operator", "containers": [{"name": "a"}]}});
        let out = apply(&sa, &patch_for(&sa, Operation::Create, None).unwrap());
        assert!(out["spec"].get("automountServiceAccountToken").is_none());
    }

    #[test]
    fn windows_pods_get_no_linux_only_container_fields() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w"},
            "spec": {"os": {"name": "windows"},
              "containers": [{"name": "a", "image": "x"}],
              "initContainers": [{"name": "i", "image": "x", "securityContext": {}}],
              "ephemeralContainers": [{"name": "debug"}]}});
        let out = apply(&pod, &patch_for(&pod, Operation::Create, None).unwrap());
        assert_eq!(out["spec"]["automountServiceAccountToken"], false);
        assert!(out["spec"].get("securityContext").is_none(), "{out}");
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            assert_eq!(out["spec"][list], pod["spec"][list], "{list} untouched");
        }
        // the same pod as a Deployment template, and its ephemeral containers
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": pod["spec"].clone()}}});
        let out = apply(&d, &patch_for(&d, Operation::Create, None).unwrap());
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            pod["spec"]["containers"]
        );
        assert!(patch_for(&pod, Operation::Update, Some("ephemeralcontainers")).is_none());
        // a Linux pod (os.name: linux) is hardened as before
        let mut linux = pod.clone();
        linux["spec"]["os"]["name"] = json!("linux");
        let out = apply(&linux, &patch_for(&linux, Operation::Create, None).unwrap());
        assert_eq!(
            out["spec"]["containers"][0]["securityContext"],
            json!({"capabilities": {"drop": ["ALL"]}, "allowPrivilegeEscalation": false})
        );
    }

    #[test]
    fn pods_are_mutated_on_create_and_ephemeral_containers_only() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}], "ephemeralContainers": [{"name": "debug"}]}});
        assert!(patch_for(&pod, Operation::Update, None).is_none());
        assert!(patch_for(&pod, Operation::Delete, None).is_none());
        let p = patch_for(&pod, Operation::Update, Some("ephemeralcontainers")).unwrap();
        let out = apply(&pod, &p);
        assert!(out["spec"]["containers"][0]
            .get("securityContext")
            .is_none());
        assert_eq!(
            out["spec"]["ephemeralContainers"][0]["securityContext"]["capabilities"]["drop"],
            json!(["ALL"])
        );
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert!(patch_for(&cm, Operation::Create, None).is_none());
    }
}
