//! The webhook: ServiceAccount, configuration, Deployment, Service and
//! PodDisruptionBudget.

use super::pod;
use super::{meta, selector, Plan};
use serde_json::{json, Value};

/// The webhook's HTTPS port (the Service's 443 targets it).
pub const HTTPS_PORT: u16 = 8443;
/// The plain-HTTP port of `/healthz` and `/readyz`.
pub const HEALTH_PORT: u16 = 8080;

/// The webhook's objects.
pub fn objects(plan: &Plan<'_>) -> Vec<Value> {
    let mut out = vec![
        pod::service_account(plan, "palisade", "webhook"),
        config(plan),
        deployment(plan),
        service(plan),
        pdb(plan),
    ];
    if plan.cluster {
        out.extend(cluster_access(plan));
    }
    out
}

/// What `serve --cluster` reads: namespaces and the RBAC kinds (watched),
/// and, by GET of a named object only, the service accounts and pull
/// secrets of the pods it verifies images for.
fn cluster_access(plan: &Plan<'_>) -> Vec<Value> {
    let rules = vec![
        json!({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}),
        json!({"apiGroups": ["rbac.authorization.k8s.io"],
               "resources": ["roles", "clusterroles", "rolebindings", "clusterrolebindings"],
               "verbs": ["get", "list", "watch"]}),
        json!({"apiGroups": [""], "resources": ["serviceaccounts", "secrets"], "verbs": ["get"]}),
    ];
    let name = "palisade-webhook-cluster";
    vec![
        super::audit::role(plan, "ClusterRole", name, "webhook", rules),
        super::audit::binding_to(
            plan,
            "ClusterRoleBinding",
            name,
            "ClusterRole",
            "palisade",
            "webhook",
        ),
    ]
}

/// `palisade.yaml` for the webhook: the default profile, its namespace and
/// the namespaces admission leaves out (kube-system and `--exclude-namespace`);
/// the chart renders the same text.
fn config(plan: &Plan<'_>) -> Value {
    let mut excluded = vec!["kube-system".to_string()];
    excluded.extend(plan.exclude.iter().cloned());
    let text = format!(
        "profiles: [default]\nenforceAt: high\nwebhook:\n  namespace: {}\n  excludeNamespaces: {}\n",
        json!(plan.ns),
        json!(excluded)
    );
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(plan, "palisade-config", "webhook"),
        "data": {"palisade.yaml": text},
    })
}

fn deployment(plan: &Plan<'_>) -> Value {
    let args: Vec<String> = [
        "serve",
        "--config=/etc/palisade/config/palisade.yaml",
        "--tls-cert=/etc/palisade/tls/tls.crt",
        "--tls-key=/etc/palisade/tls/tls.key",
        "--addr=0.0.0.0:8443",
        "--health-addr=0.0.0.0:8080",
        "--log-format=json",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(plan.cluster.then(|| "--cluster".to_string()))
    .collect();
    let mut c = pod::container(
        plan,
        "webhook",
        args,
        pod::resources("100m", "128Mi", "1", "512Mi"),
    );
    c["ports"] = json!([
        {"name": "https", "containerPort": HTTPS_PORT, "protocol": "TCP"},
        {"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"},
    ]);
    c["readinessProbe"] = probe("/readyz", 5, 2);
    c["livenessProbe"] = probe("/healthz", 10, 3);
    c["volumeMounts"] = json!([
        {"name": "tls", "mountPath": "/etc/palisade/tls", "readOnly": true},
        {"name": "config", "mountPath": "/etc/palisade/config", "readOnly": true},
    ]);
    let volumes = vec![
        json!({"name": "tls", "secret": {"secretName": "palisade-tls", "defaultMode": 0o440}}),
        json!({"name": "config", "configMap": {"name": "palisade-config"}}),
    ];
    let mut spec = pod::spec("palisade", vec![c], volumes, plan.cluster);
    spec["terminationGracePeriodSeconds"] = json!(40);
    spec["topologySpreadConstraints"] = json!([{
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": selector("webhook")},
    }]);
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(plan, "palisade", "webhook"),
        "spec": {
            "replicas": plan.replicas,
            "revisionHistoryLimit": 3,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "selector": {"matchLabels": selector("webhook")},
            "template": {"metadata": {"labels": selector("webhook")}, "spec": spec},
        },
    })
}

/// An HTTP probe of `path` on the container's `health` port.
pub fn probe(path: &str, period: u32, failures: u32) -> Value {
    json!({
        "httpGet": {"path": path, "port": "health", "scheme": "HTTP"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    })
}

fn service(plan: &Plan<'_>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(plan, "palisade", "webhook"),
        "spec": {
            "type": "ClusterIP",
            "selector": selector("webhook"),
            "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}],
        },
    })
}

/// One webhook pod may be evicted at a time (none when there is one replica,
/// which then blocks drains: run two or more).
fn pdb(plan: &Plan<'_>) -> Value {
    json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(plan, "palisade", "webhook"),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector("webhook")},
        },
    })
}
