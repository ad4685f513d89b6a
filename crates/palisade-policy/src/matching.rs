//! Matching helpers shared by both policy languages: scope, resource names,
//! namespace globs and the namespace an object lives in.

use palisade_core::{Context, Resource, ResourceId};
use serde_json::Value;

/// Kinds that are cluster-scoped in Kubernetes and common extensions.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "CustomResourceDefinition",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "APIService",
    "CSIDriver",
    "CSINode",
    "RuntimeClass",
    "IngressClass",
    "PodSecurityPolicy",
    "VolumeAttachment",
    "CertificateSigningRequest",
    "ComponentStatus",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "ConstraintTemplate",
    "ClusterIssuer",
    "ClusterPolicy",
    "IPAddress",
    "ServiceCIDR",
];

/// The strings of a JSON array field (other items and other types ignored).
pub fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// Whether `id` names a cluster-scoped object. Well-known kinds decide by
/// kind; other kinds (custom resources) by whether a namespace is set.
pub fn is_cluster_scoped(id: &ResourceId) -> bool {
    if CLUSTER_SCOPED.contains(&id.kind.as_str()) || id.group() == "constraints.gatekeeper.sh" {
        return true;
    }
    match id.kind.as_str() {
        "Pod" | "Deployment" | "Service" | "ConfigMap" | "Secret" | "Role" | "RoleBinding" => false,
        _ => id.namespace.is_none() && !is_known_namespaced(&id.kind),
    }
}

fn is_known_namespaced(kind: &str) -> bool {
    matches!(
        kind,
        "ReplicaSet"
            | "StatefulSet"
            | "DaemonSet"
            | "Job"
            | "CronJob"
            | "ReplicationController"
            | "PodTemplate"
            | "ServiceAccount"
            | "Ingress"
            | "NetworkPolicy"
            | "PersistentVolumeClaim"
            | "HorizontalPodAutoscaler"
            | "PodDisruptionBudget"
            | "Endpoints"
            | "EndpointSlice"
            | "LimitRange"
            | "ResourceQuota"
            | "Event"
            | "Lease"
    )
}

/// The namespace an object is in, for namespace matching: its own name for
/// a Namespace, its `metadata.namespace` otherwise.
pub fn namespace_name(id: &ResourceId) -> Option<&str> {
    if id.kind == "Namespace" && id.group().is_empty() {
        Some(id.name.as_str())
    } else {
        id.namespace.as_deref()
    }
}

/// The Namespace object `res` lives in (or `res` itself for a Namespace),
/// looked up in the inventory.
pub fn namespace_object<'a>(res: &'a Resource, ctx: &Context<'a>) -> Option<&'a Value> {
    if res.id.kind == "Namespace" && res.id.group().is_empty() {
        return Some(&res.value);
    }
    let ns = res.id.namespace.as_deref()?;
    ctx.inventory.namespace(ns).map(|n| &n.value)
}

/// Gatekeeper's namespace glob: exact, `prefix*` or `*suffix`.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        _ if pattern == "*" => true,
        (Some(suffix), _) if !suffix.contains('*') => s.ends_with(suffix),
        (_, Some(prefix)) if !prefix.contains('*') => s.starts_with(prefix),
        _ => pattern == s,
    }
}

/// The lowercase plural resource name of a kind (`Ingress` -> `ingresses`,
/// `NetworkPolicy` -> `networkpolicies`), as used in `resourceRules`.
pub fn resource_name(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// The API version part of an apiVersion (`apps/v1` -> `v1`).
pub fn version_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map(|(_, v)| v)
        .unwrap_or(api_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_globs() {
        assert_eq!(resource_name("Ingress"), "ingresses");
        assert_eq!(resource_name("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_name("Gateway"), "gateways");
        assert_eq!(resource_name("Pod"), "pods");
        assert!(glob_match("kube-*", "kube-system"));
        assert!(glob_match("*-system", "kube-system"));
        assert!(!glob_match("kube-*", "default"));
        assert!(glob_match("default", "default"));
    }
}
