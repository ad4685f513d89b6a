//! Large inputs through the real binary: a source read twice (a cluster
//! export, `PALISADE_STREAM_FROM` lowered so that a small file is one) gives
//! exactly the report of a source read once, with cross-object rules seeing
//! objects that come after the ones they judge (a pod's ServiceAccount, the
//! NetworkPolicy and the pods a Namespace is judged by).

mod common;

use common::{write, Out};
use serde_json::Value;
use std::process::Command;

/// A `kubectl get -A -o json` List: pods before the ServiceAccount and the
/// Namespace they depend on, a ConfigMap, an item that is not an object.
const EXPORT: &str = r#"{
    "apiVersion": "v1",
    "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "quiet", "namespace": "shop"},
         "spec": {"serviceAccountName": "no-token", "containers": [{"name": "c", "image": "c:1"}]}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "loud", "namespace": "shop"},
         "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "c:1",
                  "securityContext": {"allowPrivilegeEscalation": false}}]}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"},
         "data": {"password": "hunter22"}},
        "not an object",
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "no-token", "namespace": "shop"}, "automountServiceAccountToken": false},
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "walled"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "inside", "namespace": "walled",
         "labels": {"app": "inside"}}, "spec": {"containers": [{"name": "c", "image": "c:1"}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "deny-all", "namespace": "walled"},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    ],
    "kind": "List",
    "metadata": {"resourceVersion": ""}
}
"#;

fn scan(dir: &std::path::Path, stream_from: Option<&str>, args: &[&str]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.arg("scan").args(args).current_dir(dir);
    if let Some(n) = stream_from {
        cmd.env("PALISADE_STREAM_FROM", n);
    }
    Out::lossy(cmd.output().unwrap())
}

#[test]
fn a_source_read_twice_gives_the_report_of_one_read_once() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec:\n  hostPID: yes\n  containers: [{name: c, image: c}]\n");
    write(dir.path(), "b-export.json", EXPORT);
    write(dir.path(), "c.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: last}\nspec:\n  containers: [{name: c, image: c}]\n");
    let args = ["-f", "json", "a.yaml", "b-export.json", "c.yaml"];
    let once = scan(dir.path(), None, &args);
    // 1,000 bytes: the export is read twice, the small files once
    let twice = scan(dir.path(), Some("1000"), &args);
    assert_eq!(once.code, 1, "{}", once.stderr);
    assert_eq!(once.stdout, twice.stdout, "{}", twice.stderr);
    let report: Value = once.json();
    assert_eq!(report["summary"]["resources"], 10);
    assert_eq!(report["summary"]["skipped"], 1);
    // findings in input order: the first file, the export, the last file
    let names: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["name"].as_str().unwrap())
        .collect();
    let first_of = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(first_of("first") < first_of("loud") && first_of("loud") < first_of("last"));
    // the ServiceAccount after the pod still counts: no token finding for `quiet`
    let rules_of = |n: &str| -> Vec<&str> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["resource"]["name"] == n)
            .map(|f| f["rule"].as_str().unwrap())
            .collect()
    };
    assert!(
        !rules_of("quiet").contains(&"automount-service-account-token"),
        "{:?}",
        rules_of("quiet")
    );
    assert!(rules_of("loud").contains(&"automount-service-account-token"));
    // the context holds of pods only their namespace, and NetworkPolicies whole
    assert!(rules_of("shop").contains(&"namespace-missing-default-deny"));
    assert!(
        !rules_of("walled").contains(&"namespace-missing-default-deny"),
        "{:?}",
        rules_of("walled")
    );
    assert!(
        rules_of("first").iter().any(|r| r.contains("host")),
        "hostPID: yes is true"
    );
    // --parse-only counts the same objects both ways
    let p1 = scan(dir.path(), None, &["--parse-only", "b-export.json"]);
    let p2 = scan(dir.path(), Some("1000"), &["--parse-only", "b-export.json"]);
    assert_eq!(p1.stdout, p2.stdout);
    assert!(p1.stdout.contains("8 objects"), "{}", p1.stdout);
}
