//! Naming resources on the command line as kubectl does: `pods`,
//! `deployments.apps`, `pods/exec`, or a non-resource URL such as `/healthz`.
//! A resource without a group is looked up among the well-known built-in
//! resources (as kubectl asks discovery); unknown ones are taken as core.

use crate::matching::Request;

/// Built-in resources outside the core group, with their group.
const GROUPS: &[(&str, &str)] = &[
    ("deployments", "apps"),
    ("replicasets", "apps"),
    ("statefulsets", "apps"),
    ("daemonsets", "apps"),
    ("controllerrevisions", "apps"),
    ("jobs", "batch"),
    ("cronjobs", "batch"),
    ("roles", "rbac.authorization.k8s.io"),
    ("rolebindings", "rbac.authorization.k8s.io"),
    ("clusterroles", "rbac.authorization.k8s.io"),
    ("clusterrolebindings", "rbac.authorization.k8s.io"),
    ("ingresses", "networking.k8s.io"),
    ("ingressclasses", "networking.k8s.io"),
    ("networkpolicies", "networking.k8s.io"),
    ("horizontalpodautoscalers", "autoscaling"),
    ("poddisruptionbudgets", "policy"),
    ("certificatesigningrequests", "certificates.k8s.io"),
    ("leases", "coordination.k8s.io"),
    ("endpointslices", "discovery.k8s.io"),
    ("storageclasses", "storage.k8s.io"),
    ("volumeattachments", "storage.k8s.io"),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingadmissionpolicies",
        "admissionregistration.k8s.io",
    ),
    ("priorityclasses", "scheduling.k8s.io"),
    ("tokenreviews", "authentication.k8s.io"),
    ("subjectaccessreviews", "authorization.k8s.io"),
    ("localsubjectaccessreviews", "authorization.k8s.io"),
    ("selfsubjectaccessreviews", "authorization.k8s.io"),
];

/// Built-in cluster-scoped resources (group, resource): RoleBindings never
/// grant them, and a request for them carries no namespace.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "nodes"),
    ("", "namespaces"),
    ("", "persistentvolumes"),
    ("", "componentstatuses"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "volumeattachments"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csinodes"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("apiregistration.k8s.io", "apiservices"),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("certificates.k8s.io", "signers"),
    ("scheduling.k8s.io", "priorityclasses"),
    ("networking.k8s.io", "ingressclasses"),
    ("node.k8s.io", "runtimeclasses"),
    ("authentication.k8s.io", "tokenreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
];

/// Whether a built-in resource is cluster-scoped.
pub fn is_cluster_scoped(group: &str, resource: &str) -> bool {
    CLUSTER_SCOPED
        .iter()
        .any(|(g, r)| *g == group && *r == resource)
}

/// The API group of a built-in resource named without its group.
pub fn default_group(resource: &str) -> &'static str {
    GROUPS
        .iter()
        .find(|(r, _)| *r == resource)
        .map(|(_, g)| *g)
        .unwrap_or("")
}

/// Builds a request from the command-line words: `verb`, `resource`
/// (`RES`, `RES.GROUP`, `RES/SUB`, `RES.GROUP/SUB`, or a URL starting with
/// `/`), an optional `--subresource` and an optional object name.
pub fn request(
    verb: &str,
    resource: &str,
    subresource: Option<&str>,
    name: Option<&str>,
) -> Result<Request, String> {
    if verb.is_empty() {
        return Err("the verb is empty".into());
    }
    if resource.starts_with('/') {
        if subresource.is_some() || name.is_some() {
            return Err(format!(
                "`{resource}` is a URL: --subresource and --name do not apply"
            ));
        }
        return Ok(Request::url(verb, resource));
    }
    let (res, inline_sub) = match resource.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (resource, None),
    };
    let sub = match (inline_sub, subresource) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "`{resource}` already names a subresource; drop --subresource"
            ))
        }
        (a, b) => a.or(b).unwrap_or(""),
    };
    let (res, group) = match res.split_once('.') {
        Some((r, g)) => (r, g.to_string()),
        None => (res, default_group(res).to_string()),
    };
    if res.is_empty() {
        return Err(format!("`{resource}`: the resource is empty"));
    }
    Ok(Request::resource(
        verb,
        &group,
        res,
        sub,
        name.unwrap_or(""),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::Target;

    #[test]
    fn kubectl_forms() {
        let r = request("create", "pods/exec", None, None).unwrap();
        assert_eq!(r, Request::resource("create", "", "pods", "exec", ""));
        let r = request("get", "deployments", Some("scale"), None).unwrap();
        assert_eq!(
            r,
            Request::resource("get", "apps", "deployments", "scale", "")
        );
        let r = request("get", "widgets.example.com", None, Some("w1")).unwrap();
        assert_eq!(
            r,
            Request::resource("get", "example.com", "widgets", "", "w1")
        );
        let r = request("get", "/healthz", None, None).unwrap();
        assert!(matches!(r.target, Target::NonResource { .. }));
        assert!(request("get", "pods/log", Some("exec"), None).is_err());
    }
}
