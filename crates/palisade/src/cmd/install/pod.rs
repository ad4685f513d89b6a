//! The hardening every Palisade pod shares: non-root user 65532 (the
//! image's), seccomp RuntimeDefault, read-only root filesystem, no
//! capabilities, no privilege escalation, and an API token only where a
//! component talks to the API server, mounted explicitly and short-lived.

use super::Plan;
use serde_json::{json, Value};

/// The image's non-root user and group (`packaging/build-image.sh`).
pub const UID: u32 = 65532;

/// The service account token path kube clients read in-cluster.
const TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The pod-level security context.
pub fn pod_security() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// The container-level security context.
pub fn container_security() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "privileged": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"]},
    })
}

/// A container running `palisade ARGS` with the shared hardening.
pub fn container(plan: &Plan<'_>, name: &str, args: Vec<String>, resources: Value) -> Value {
    json!({
        "name": name,
        "image": plan.image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
        "resources": resources,
        "securityContext": container_security(),
    })
}

/// Requests and limits.
pub fn resources(cpu_req: &str, mem_req: &str, cpu_lim: &str, mem_lim: &str) -> Value {
    json!({
        "requests": {"cpu": cpu_req, "memory": mem_req},
        "limits": {"cpu": cpu_lim, "memory": mem_lim},
    })
}

/// A pod spec for `account` with the shared hardening; the token is never
/// automounted (`api: false`), or mounted explicitly as a projected volume
/// expiring after an hour (`api: true`; the kubelet rotates it).
pub fn spec(account: &str, containers: Vec<Value>, mut volumes: Vec<Value>, api: bool) -> Value {
    let mut containers = containers;
    if api {
        volumes.push(token_volume());
        for c in &mut containers {
            let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
            let mut mounts = mounts;
            mounts.push(json!({"name": "api-token", "mountPath": TOKEN_DIR, "readOnly": true}));
            c["volumeMounts"] = json!(mounts);
        }
    }
    let mut spec = json!({
        "serviceAccountName": account,
        "automountServiceAccountToken": false,
        "enableServiceLinks": false,
        "securityContext": pod_security(),
        "containers": containers,
    });
    if !volumes.is_empty() {
        spec["volumes"] = json!(volumes);
    }
    spec
}

/// The token, the cluster CA and the namespace where client libraries
/// look for them, as the automounted volume has them but bound to an hour.
fn token_volume() -> Value {
    json!({
        "name": "api-token",
        "projected": {
            "defaultMode": 0o440,
            "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
            ],
        },
    })
}

/// A ServiceAccount that does not mount its token by default.
pub fn service_account(plan: &Plan<'_>, name: &str, component: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": super::meta(plan, name, component),
        "automountServiceAccountToken": false,
    })
}
