//! The auditor (`palisade audit --watch`, two replicas, one leader by a
//! Lease) and the CronJob deleting expired bindings
//! (`palisade rbac prune-expired --apply`), each with its own
//! ServiceAccount and the least privilege its job needs.

use super::{labels, meta, pod, selector, Plan};
use serde_json::{json, Value};

const READ: &[&str] = &["get", "list", "watch"];

/// The Lease the auditor's replicas elect a leader on.
const LEASE: &str = "palisade-auditor";

/// What the rules read (workloads, namespaces, service accounts, RBAC,
/// network policies, services, nodes, config maps): never Secrets.
const READS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "pods",
            "replicationcontrollers",
            "podtemplates",
            "namespaces",
            "serviceaccounts",
            "services",
            "nodes",
            "configmaps",
        ],
    ),
    (
        "apps",
        &["deployments", "replicasets", "statefulsets", "daemonsets"],
    ),
    ("batch", &["jobs", "cronjobs"]),
    (
        "rbac.authorization.k8s.io",
        &[
            "roles",
            "clusterroles",
            "rolebindings",
            "clusterrolebindings",
        ],
    ),
    ("networking.k8s.io", &["networkpolicies"]),
];

/// The auditor's and the pruning job's objects.
pub fn objects(plan: &Plan<'_>) -> Vec<Value> {
    let mut rules: Vec<Value> = READS
        .iter()
        .map(|(g, r)| json!({"apiGroups": [g], "resources": r, "verbs": READ}))
        .collect();
    rules.push(json!({
        "apiGroups": ["wgpolicyk8s.io"],
        "resources": ["policyreports", "clusterpolicyreports"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    }));
    let lease = vec![
        json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]}),
        json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
               "resourceNames": [LEASE], "verbs": ["get", "update"]}),
    ];
    let prune = vec![json!({
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["rolebindings", "clusterrolebindings"],
        "verbs": ["get", "list", "delete"],
    })];
    vec![
        pod::service_account(plan, "palisade-auditor", "auditor"),
        role(plan, "ClusterRole", "palisade-auditor", "auditor", rules),
        binding(plan, "ClusterRoleBinding", "palisade-auditor", "auditor"),
        role(plan, "Role", "palisade-auditor-lease", "auditor", lease),
        binding_to(
            plan,
            "RoleBinding",
            "palisade-auditor-lease",
            "Role",
            "palisade-auditor",
            "auditor",
        ),
        auditor(plan),
        pod::service_account(plan, "palisade-prune-expired", "prune-expired"),
        role(
            plan,
            "ClusterRole",
            "palisade-prune-expired",
            "prune-expired",
            prune,
        ),
        binding(
            plan,
            "ClusterRoleBinding",
            "palisade-prune-expired",
            "prune-expired",
        ),
        cronjob(plan),
    ]
}

fn role_meta(plan: &Plan<'_>, kind: &str, name: &str, component: &str) -> Value {
    if kind.starts_with("Cluster") {
        json!({"name": name, "labels": labels(plan, component)})
    } else {
        meta(plan, name, component)
    }
}

pub(super) fn role(
    plan: &Plan<'_>,
    kind: &str,
    name: &str,
    component: &str,
    rules: Vec<Value>,
) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": role_meta(plan, kind, name, component),
        "rules": rules,
    })
}

/// A binding of the role `name` to the service account `name`.
fn binding(plan: &Plan<'_>, kind: &str, name: &str, component: &str) -> Value {
    binding_to(plan, kind, name, "ClusterRole", name, component)
}

pub(super) fn binding_to(
    plan: &Plan<'_>,
    kind: &str,
    role: &str,
    role_kind: &str,
    account: &str,
    component: &str,
) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": role_meta(plan, kind, role, component),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": plan.ns}],
    })
}

/// The auditor's `/healthz`, `/readyz` and `/metrics`.
const METRICS_PORT: u16 = super::webhook::HEALTH_PORT;

/// `audit --watch --apply`, leader elected on the Lease its Role names, its
/// identity the pod's name; ready once its first full pass is done.
fn auditor(plan: &Plan<'_>) -> Value {
    let args = vec![
        "audit".to_string(),
        "--watch".into(),
        "--apply".into(),
        "--report-api=wgpolicyk8s.io/v1alpha2".into(),
        format!("--lease-name={LEASE}"),
        format!("--lease-namespace={}", plan.ns),
        format!("--metrics-addr=0.0.0.0:{METRICS_PORT}"),
    ];
    let mut c = pod::container(
        plan,
        "auditor",
        args,
        pod::resources("100m", "256Mi", "1", "1Gi"),
    );
    if let Some(env) = c["env"].as_array_mut() {
        env.push(
            json!({"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}),
        );
    }
    c["ports"] = json!([{"name": "health", "containerPort": METRICS_PORT, "protocol": "TCP"}]);
    c["readinessProbe"] = super::webhook::probe("/readyz", 10, 3);
    c["livenessProbe"] = super::webhook::probe("/healthz", 10, 3);
    let spec = pod::spec("palisade-auditor", vec![c], Vec::new(), true);
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(plan, "palisade-auditor", "auditor"),
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector("auditor")},
            "template": {"metadata": {"labels": selector("auditor")}, "spec": spec},
        },
    })
}

fn cronjob(plan: &Plan<'_>) -> Value {
    let args = vec!["rbac".to_string(), "prune-expired".into(), "--apply".into()];
    let c = pod::container(
        plan,
        "prune-expired",
        args,
        pod::resources("50m", "64Mi", "500m", "256Mi"),
    );
    let mut spec = pod::spec("palisade-prune-expired", vec![c], Vec::new(), true);
    spec["restartPolicy"] = json!("Never");
    json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta(plan, "palisade-prune-expired", "prune-expired"),
        "spec": {
            "schedule": "17 * * * *",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {
                "backoffLimit": 2,
                "activeDeadlineSeconds": 600,
                "template": {"metadata": {"labels": selector("prune-expired")}, "spec": spec},
            }},
        },
    })
}
