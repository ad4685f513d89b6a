//! RBAC answers through the real binary as the authorizer gives them:
//! resource names resolved as kubectl resolves them, objects sharing one
//! identity across files, Kubernetes' own objects recognised by content
//! (never by label), and every command ending quietly on a closed output.

mod common;

use common::{corpora, palisade, write};
use std::process::{Command, Stdio};

const SECRETS: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: shop}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
- {apiGroups: [apps], resources: [deployments], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: shop}
subjects: [{kind: Group, name: devs}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
"#;

#[test]
fn resource_names_resolve_as_kubectl_and_unknown_names_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "rbac.yaml", SECRETS);
    let who = |res: &str| {
        palisade(
            dir.path(),
            &["rbac", "who-can", "get", res, "-n", "shop", "rbac.yaml"],
        )
    };
    for name in ["po", "Pods", "pod", "pods"] {
        let out = who(name);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        assert!(
            out.stdout
                .starts_with("who can get pods in namespace shop:"),
            "{name}: {}",
            out.stdout
        );
        assert!(
            out.stdout
                .contains("group:devs <- RoleBinding/reader (shop)"),
            "{}",
            out.stdout
        );
    }
    let out = palisade(
        dir.path(),
        &[
            "rbac",
            "who-can",
            "list",
            "deploy",
            "-n",
            "shop",
            "rbac.yaml",
        ],
    );
    assert!(
        out.stdout
            .starts_with("who can list deployments.apps in namespace shop:"),
        "{}",
        out.stdout
    );
    let out = palisade(
        dir.path(),
        &[
            "rbac",
            "who-can",
            "list",
            "deployments.v1.apps",
            "-n",
            "shop",
            "rbac.yaml",
        ],
    );
    assert!(out.stdout.contains("group:devs"), "{}", out.stdout);
    for unknown in ["widgets", "pods.apps", "deployments.v9.apps", "pods/nope"] {
        let out = who(unknown);
        assert_eq!(out.code, 2, "{unknown}: {}", out.stdout);
        assert!(
            out.stderr.contains("error:") && out.stdout.is_empty(),
            "{unknown}: {}",
            out.stderr
        );
    }
}

#[test]
fn two_identical_install_files_describe_one_cluster() {
    // argo-cd ships install.yaml and namespace-install.yaml with the same objects
    let argo = corpora().join("real-world/argo-cd/manifests");
    let text = std::fs::read_to_string(argo.join("install.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/install.yaml", &text);
    write(dir.path(), "b/install.yaml", &text);
    let out = palisade(dir.path(), &["rbac", "report", "a", "b", "-f", "json"]);
    let v = out.json();
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        let m = f["message"].as_str().unwrap();
        assert!(!m.contains("no binding in the input grants it yet"), "{m}");
    }
    // who-can answers once per subject, from the copy the cluster keeps
    let one = palisade(
        dir.path(),
        &["rbac", "who-can", "get", "secrets", "-A", "a", "-f", "json"],
    )
    .json();
    let two = palisade(
        dir.path(),
        &[
            "rbac", "who-can", "get", "secrets", "-A", "a", "b", "-f", "json",
        ],
    )
    .json();
    assert_eq!(
        one["grants"].as_array().unwrap().len(),
        two["grants"].as_array().unwrap().len()
    );
}

const FORGED: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cluster-admin
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]
"#;

#[test]
fn a_bootstrapping_label_does_not_hide_a_binding() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "forged.yaml", FORGED);
    write(
        dir.path(),
        "own.yaml",
        &FORGED.replace("system:authenticated", "system:masters"),
    );
    let out = palisade(dir.path(), &["scan", "forged.yaml", "-f", "json"]);
    let v = out.json();
    let hit = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "rbac-cluster-admin-binding")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(hit["severity"], "critical");
    // Kubernetes' own binding (same name, label and content as the bootstrap policy)
    let v = palisade(dir.path(), &["scan", "own.yaml", "-f", "json"]).json();
    assert!(
        !v["findings"]
            .to_string()
            .contains("rbac-cluster-admin-binding"),
        "{v}"
    );
}

/// Many RBAC objects, so that every command writes more than a pipe holds.
fn big_input() -> String {
    let mut s = String::new();
    for i in 0..1500 {
        s.push_str(&format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: b{i}\n  annotations: {{palisade.io/expires-at: \"2020-01-01\"}}\nsubjects: [{{kind: User, name: u{i}@example.com}}, {{kind: Group, name: g}}]\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\n---\n"
        ));
    }
    s
}

#[test]
fn every_command_ends_quietly_when_its_output_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "big.yaml", &big_input());
    write(dir.path(), "ca.crt", "not a certificate");
    let commands: &[&[&str]] = &[
        &["rbac", "who-can", "get", "secrets", "-A", "big.yaml"],
        &[
            "rbac", "who-can", "get", "secrets", "-A", "big.yaml", "-f", "json",
        ],
        &["rbac", "can", "group:g", "big.yaml"],
        &["rbac", "report", "big.yaml"],
        &["rbac", "report", "big.yaml", "-f", "json"],
        &["rbac", "prune-expired", "big.yaml"],
        &["scan", "big.yaml"],
        &["scan", "big.yaml", "-f", "sarif"],
        &["rules"],
        &["explain", "rbac-wildcard"],
        &["webhook-config", "--ca-bundle", "ca.crt"],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(*args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // close the reading end before the command writes (`| head -0`)
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && out.status.code() != Some(101),
            "{args:?}: {:?}\n{stderr}",
            out.status
        );
    }
}
