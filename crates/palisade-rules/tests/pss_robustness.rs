//! Hostile shapes for the Pod Security rules: every node of a pod that the
//! restricted level admits is replaced, one at a time, by a value of every
//! JSON type. No rule may panic, and a security field given in the wrong
//! type must never pass silently: the pod is denied.

use palisade_core::{Action, Config, Context, Extensions, Inventory, PolicySet, Resource};
use palisade_rules::{profile, ProfileOptions};
mod mutation;
use mutation::pointers;

use serde_json::{json, Value};

fn compliant() -> Value {
    let sc = json!({"allowPrivilegeEscalation": false, "privileged": false, "runAsNonRoot": true,
        "runAsUser": 1000, "procMount": "Default", "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
        "seccompProfile": {"type": "RuntimeDefault"}, "appArmorProfile": {"type": "RuntimeDefault"},
        "seLinuxOptions": {"type": "container_t"}, "windowsOptions": {"hostProcess": false}});
    let probe = json!({"httpGet": {"path": "/", "port": 80}, "tcpSocket": {"port": 80}});
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "annotations": {"container.apparmor.security.beta.kubernetes.io/app": "runtime/default",
            "seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}},
        "spec": {"hostNetwork": false, "hostPID": false, "hostIPC": false, "hostUsers": true,
            "os": {"name": "linux"}, "runtimeClassName": "runc",
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"},
                "sysctls": [{"name": "net.ipv4.ping_group_range", "value": "0 1"}]},
            "volumes": [{"name": "c", "configMap": {"name": "c"}}, {"name": "e", "emptyDir": {}}],
            "containers": [{"name": "app", "image": "app:1", "ports": [{"containerPort": 80, "hostPort": 0}],
                "livenessProbe": probe, "lifecycle": {"preStop": probe}, "securityContext": sc}],
            "initContainers": [{"name": "init", "image": "init:1", "securityContext": sc}]}})
}

/// Scalar fields the Pod Security checks read, as JSON pointers.
const SECURITY_SCALARS: &[&str] = &[
    "/spec/hostNetwork",
    "/spec/hostPID",
    "/spec/hostIPC",
    "/spec/hostUsers",
    "/spec/os/name",
    "/spec/runtimeClassName",
    "/spec/securityContext/runAsNonRoot",
    "/spec/securityContext/runAsUser",
    "/spec/securityContext/seccompProfile/type",
    "/spec/securityContext/sysctls/0/name",
    "/spec/containers/0/name",
    "/spec/containers/0/ports/0/hostPort",
    "/spec/containers/0/securityContext/allowPrivilegeEscalation",
    "/spec/containers/0/securityContext/privileged",
    "/spec/containers/0/securityContext/runAsNonRoot",
    "/spec/containers/0/securityContext/runAsUser",
    "/spec/containers/0/securityContext/procMount",
    "/spec/containers/0/securityContext/capabilities/drop/0",
    "/spec/containers/0/securityContext/capabilities/add/0",
    "/spec/containers/0/securityContext/seccompProfile/type",
    "/spec/containers/0/securityContext/appArmorProfile/type",
    "/spec/containers/0/securityContext/seLinuxOptions/type",
    "/spec/containers/0/securityContext/windowsOptions/hostProcess",
    "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app",
    "/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod",
];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[test]
fn every_field_of_every_type_is_handled_and_wrong_types_are_denied() {
    let sets: Vec<PolicySet> = [
        ("pss-restricted", "latest"),
        ("pss-restricted", "v1.18"),
        ("pss-baseline", "v1.0"),
    ]
    .iter()
    .map(|(p, v)| {
        let opts = ProfileOptions {
            pss_version: Some(v.to_string()),
        };
        PolicySet::builder(Config::default())
            .rules(profile(p, &opts).unwrap())
            .build()
            .unwrap()
    })
    .collect();
    let inventory = Inventory::default();
    let ext = Extensions::default();
    let ctx = Context::new(&inventory, &ext, jiff::Timestamp::UNIX_EPOCH);
    let denied = |set: &PolicySet, v: &Value| match Resource::from_value(v.clone()) {
        Some(res) => set
            .evaluate(&res, &ctx)
            .findings
            .iter()
            .any(|f| f.action == Action::Enforce),
        None => true, // no apiVersion or kind: not an object any front door evaluates
    };
    let pod = compliant();
    for set in &sets {
        assert!(!denied(set, &pod), "the compliant pod is admitted");
    }
    let replacements = mutation::replacements();
    let mut ptrs = Vec::new();
    pointers(&pod, String::new(), &mut ptrs);
    let (mut runs, mut checked) = (0, 0);
    for p in &ptrs {
        let original = pod.pointer(p).unwrap().clone();
        for r in &replacements {
            let mut v = pod.clone();
            *v.pointer_mut(p).unwrap() = r.clone();
            for set in &sets {
                let d = denied(set, &v);
                runs += 1;
                let wrong_type = !r.is_null() && json_type(r) != json_type(&original);
                if SECURITY_SCALARS.contains(&p.as_str()) && wrong_type {
                    checked += 1;
                    assert!(d, "{p} = {r} passed silently");
                }
            }
        }
    }
    assert!(
        ptrs.len() > 60 && runs > 2000 && checked > 500,
        "{} pointers, {runs} runs, {checked} checked",
        ptrs.len()
    );
}
