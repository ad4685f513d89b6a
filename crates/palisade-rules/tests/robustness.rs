//! Hostile shapes: every field of rich workload objects replaced, one at a
//! time, by a value of every JSON type. Every workload rule must run without
//! panicking, and a dangerous setting given in the wrong type must still be
//! reported (or its field treated as unset, never as safe when that hides it).

use palisade_core::{Context, Emitter, Extensions, Finding, Inventory, Resource};
use palisade_rules::workload;
mod mutation;
use mutation::pointers;

use serde_json::{json, Value};

fn rich_objects() -> Vec<Value> {
    let pod_spec = json!({
        "hostNetwork": true, "hostPID": true, "hostIPC": true,
        "serviceAccountName": "default", "automountServiceAccountToken": true,
        "securityContext": {"runAsNonRoot": false, "runAsUser": 0},
        "volumes": [{"name": "h", "hostPath": {"path": "/"}}, {"name": "e", "emptyDir": {}}],
        "containers": [{
            "name": "app", "image": "nginx:latest",
            "ports": [{"containerPort": 80, "hostPort": 80}],
            "env": [{"name": "DB_PASSWORD", "value": "hunter2-hunter2"}, {"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
            "securityContext": {"privileged": true, "allowPrivilegeEscalation": true, "readOnlyRootFilesystem": false,
                                "runAsNonRoot": false, "runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN", "CHOWN"]}}
        }],
        "initContainers": [{"name": "init", "image": "busybox", "securityContext": {"capabilities": {"add": ["ALL"]}}}],
        "ephemeralContainers": [{"name": "debug", "image": "busybox@sha256:abc"}]
    });
    vec![
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": pod_spec}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
               "spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}}),
    ]
}

fn evaluate(value: Value) -> Vec<Finding> {
    let Some(res) = Resource::from_value(value) else {
        return Vec::new();
    };
    let inventory = Inventory::default();
    let ext = Extensions::default();
    let ctx = Context::new(&inventory, &ext, jiff::Timestamp::UNIX_EPOCH);
    let mut out = Vec::new();
    for rule in workload::rules() {
        let info = rule.info();
        let mut em = Emitter::new(
            info,
            info.severity,
            palisade_core::Action::Enforce,
            &res,
            &mut out,
        );
        rule.check(&res, &ctx, &mut em);
    }
    out
}

#[test]
fn every_field_of_every_type_is_handled() {
    let replacements = mutation::replacements();
    let mut runs = 0;
    for obj in rich_objects() {
        let baseline = evaluate(obj.clone());
        assert!(
            baseline.len() >= 16,
            "the rich object triggers every rule: {}",
            baseline.len()
        );
        let mut ptrs = Vec::new();
        pointers(&obj, String::new(), &mut ptrs);
        for p in &ptrs {
            for r in &replacements {
                let mut v = obj.clone();
                if let Some(slot) = v.pointer_mut(p) {
                    *slot = r.clone();
                }
                let findings = evaluate(v);
                for f in &findings {
                    assert!(
                        !f.message.contains("hunter2"),
                        "secret printed: {}",
                        f.message
                    );
                }
                runs += 1;
            }
        }
    }
    assert!(runs > 500, "{runs} mutations");
}

#[test]
fn dangerous_flags_of_the_wrong_type_are_still_reported() {
    for (field, rule) in [
        ("hostNetwork", "host-network"),
        ("hostPID", "host-pid"),
        ("hostIPC", "host-ipc"),
    ] {
        for bad in [json!("true"), json!(1), json!({"on": true}), json!(["yes"])] {
            let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                             "spec": {field: bad, "containers": []}});
            let findings = evaluate(pod);
            assert!(
                findings
                    .iter()
                    .any(|f| &*f.rule == rule && f.message.contains("not a boolean")),
                "{field}: {bad}"
            );
        }
    }
    for bad in [json!("true"), json!(1)] {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                         "spec": {"containers": [{"name": "c", "securityContext": {"privileged": bad}}]}});
        assert!(evaluate(pod)
            .iter()
            .any(|f| &*f.rule == "privileged-container"));
    }
}
