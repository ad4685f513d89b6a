//! `palisade rbac` through the real binary: who-can and can against
//! hand-worked answers, report in every format with the group summary and a
//! directory (YAML and CSV), prune-expired, and bad input.

mod common;

use common::{palisade, Out};
use serde_json::Value;

const NOW: &str = "--now=2026-11-29T00:00:00Z";

/// A small cluster; answers below are worked out by hand from it.
const CLUSTER: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: ci, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: shop}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list]
- apiGroups: [""]
  resources: [configmaps]
  resourceNames: [app-config]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ci-secrets
  namespace: shop
  annotations:
    palisade.io/expires-at: "2026-01-01T00:00:00Z"
    palisade.io/owner: platform@example.com
subjects:
- {kind: ServiceAccount, name: ci}
- {kind: User, name: bob@example.com}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sre-admin}
subjects:
- {kind: Group, name: sre}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: shop-sas-view, namespace: shop}
subjects:
- {kind: Group, name: "system:serviceaccounts:shop"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: no-ref, namespace: shop}
subjects:
- {kind: Group, name: ghosts}
"#;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cluster.yaml"), CLUSTER).unwrap();
    dir
}

/// The grants through the input's bindings (Kubernetes' own bindings,
/// `binding.builtin`, are in every answer and checked separately).
fn subjects(v: &Value) -> Vec<String> {
    let mut s: Vec<String> = v["grants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["binding"]["builtin"] != true)
        .map(|g| {
            format!(
                "{} <- {}/{} -> {}",
                g["subject"].as_str().unwrap(),
                g["binding"]["kind"].as_str().unwrap(),
                g["binding"]["name"].as_str().unwrap(),
                g["role"]["name"].as_str().unwrap()
            )
        })
        .collect();
    s.sort();
    s
}

#[test]
fn who_can_lists_every_subject_and_chain() {
    let dir = setup();
    let d = dir.path();
    let out = palisade(
        d,
        &[
            "rbac",
            "who-can",
            "get",
            "secrets",
            "-n",
            "shop",
            "cluster.yaml",
            "-f",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    let (defaults, input): (Vec<_>, Vec<_>) = v["grants"]
        .as_array()
        .unwrap()
        .iter()
        .partition(|g| g["binding"]["builtin"] == true);
    let chain = |g: &serde_json::Value| {
        format!(
            "{} <- {}/{} -> {}",
            g["subject"].as_str().unwrap(),
            g["binding"]["kind"].as_str().unwrap(),
            g["binding"]["name"].as_str().unwrap(),
            g["role"]["name"].as_str().unwrap()
        )
    };
    let mut got: Vec<String> = input.iter().map(|g| chain(g)).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "group:sre <- ClusterRoleBinding/sre-admin -> cluster-admin",
            "sa:shop/ci <- RoleBinding/ci-secrets -> secret-reader",
            "user:bob@example.com <- RoleBinding/ci-secrets -> secret-reader",
        ]
    );
    // Kubernetes' own bindings grant it too, in every cluster
    let defaults: Vec<String> = defaults.iter().map(|g| chain(g)).collect();
    assert!(
        defaults.contains(
            &"group:system:masters <- ClusterRoleBinding/cluster-admin -> cluster-admin"
                .to_string()
        ),
        "{defaults:?}"
    );
    let ci = v["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["subject"] == "sa:shop/ci")
        .unwrap();
    assert_eq!(ci["binding"]["source"]["line"], 21);
    assert_eq!(ci["rule"]["index"], 0);
    assert_eq!(ci["rule"]["source"]["line"], 9);

    // view (through the implicit group of the namespace's accounts) has no secrets,
    // but pods; cluster-wide only the ClusterRoleBinding counts
    let out = palisade(
        d,
        &[
            "rbac",
            "who-can",
            "list",
            "pods",
            "-n",
            "shop",
            "cluster.yaml",
            "-f",
            "json",
        ],
    );
    assert_eq!(
        subjects(&out.json()),
        [
            "group:sre <- ClusterRoleBinding/sre-admin -> cluster-admin",
            "group:system:serviceaccounts:shop <- RoleBinding/shop-sas-view -> view",
        ]
    );
    let out = palisade(d, &["rbac", "who-can", "list", "pods", "cluster.yaml"]);
    assert!(
        out.stdout.contains("who can list pods cluster-wide:"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("shop-sas-view"), "{}", out.stdout);

    // resourceNames: only a named get matches
    let out = palisade(
        d,
        &[
            "rbac",
            "who-can",
            "get",
            "configmaps",
            "-n",
            "shop",
            "--name",
            "app-config",
            "cluster.yaml",
            "-f",
            "json",
        ],
    );
    assert_eq!(subjects(&out.json()).len(), 4, "{}", out.stdout);
    let out = palisade(
        d,
        &[
            "rbac",
            "who-can",
            "get",
            "configmaps",
            "-n",
            "shop",
            "--name",
            "other",
            "cluster.yaml",
            "-f",
            "json",
        ],
    );
    assert_eq!(subjects(&out.json()).len(), 2, "{}", out.stdout);

    // subresources and non-resource URLs
    let out = palisade(
        d,
        &[
            "rbac",
            "who-can",
            "create",
            "pods",
            "--subresource",
            "exec",
            "-n",
            "shop",
            "cluster.yaml",
        ],
    );
    assert!(
        out.stdout
            .contains("group:sre <- ClusterRoleBinding/sre-admin -> ClusterRole/cluster-admin"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("binding cluster.yaml:34"),
        "{}",
        out.stdout
    );
    let out = palisade(
        d,
        &[
            "rbac",
            "who-can",
            "get",
            "/healthz",
            "cluster.yaml",
            "-f",
            "json",
        ],
    );
    assert_eq!(
        subjects(&out.json()),
        ["group:sre <- ClusterRoleBinding/sre-admin -> cluster-admin"]
    );
    let out = palisade(
        d,
        &[
            "rbac",
            "who-can",
            "impersonate",
            "users",
            "-n",
            "shop",
            "cluster.yaml",
        ],
    );
    assert!(out.stdout.contains("group:sre"), "{}", out.stdout);
    let out = palisade(
        d,
        &[
            "rbac",
            "who-can",
            "watch",
            "pods",
            "-n",
            "shop",
            "cluster.yaml",
        ],
    );
    assert!(
        out.stdout.contains(
            "note    system:serviceaccounts:shop is every service account of namespace shop\n      members shop/ci, shop/default"
        ),
        "{}",
        out.stdout
    );
    let out = palisade(
        d,
        &[
            "rbac",
            "who-can",
            "delete",
            "nodes",
            "-n",
            "shop",
            "cluster.yaml",
            "-f",
            "json",
        ],
    );
    assert_eq!(
        subjects(&out.json()),
        ["group:sre <- ClusterRoleBinding/sre-admin -> cluster-admin"]
    );
}

#[test]
fn can_shows_a_subjects_permissions_with_implicit_groups() {
    let dir = setup();
    let out = palisade(
        dir.path(),
        &["rbac", "can", "sa:shop/ci", "cluster.yaml", "-f", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(
        v["groups"],
        serde_json::json!([
            "system:serviceaccounts",
            "system:serviceaccounts:shop",
            "system:authenticated"
        ])
    );
    let got = subjects(&v);
    assert!(
        got.contains(&"sa:shop/ci <- RoleBinding/ci-secrets -> secret-reader".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(
            &"group:system:serviceaccounts:shop <- RoleBinding/shop-sas-view -> view".to_string()
        ),
        "{got:?}"
    );
    assert!(!got.iter().any(|s| s.contains("sre")), "{got:?}");

    let out = palisade(dir.path(), &["rbac", "can", "group:sre", "cluster.yaml"]);
    assert!(
        out.stdout.contains("cluster-wide:") && out.stdout.contains("ClusterRole/cluster-admin"),
        "{}",
        out.stdout
    );
    // every authenticated user holds what Kubernetes' own bindings give
    // system:authenticated, and nothing of the input
    let out = palisade(dir.path(), &["rbac", "can", "user:nobody", "cluster.yaml"]);
    assert!(
        out.stdout.contains("ClusterRoleBinding/system:basic-user")
            && out.stdout.contains("identity provider")
            && !out.stdout.contains("cluster.yaml"),
        "{}",
        out.stdout
    );

    let out = palisade(
        dir.path(),
        &[
            "rbac",
            "can",
            "user:carol",
            "--group",
            "sre",
            "cluster.yaml",
            "-f",
            "json",
        ],
    );
    let v = out.json();
    assert_eq!(
        v["groups"],
        serde_json::json!(["system:authenticated", "sre"])
    );
    // one grant per rule of cluster-admin (resources, then non-resource URLs)
    assert_eq!(
        subjects(&v),
        ["group:sre <- ClusterRoleBinding/sre-admin -> cluster-admin"; 2]
    );
    assert_eq!(v["grants"][1]["rule"]["text"], "* *");

    let out = palisade(dir.path(), &["rbac", "can", "robot:r2", "cluster.yaml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown subject kind `robot`"),
        "{}",
        out.stderr
    );
}

#[test]
fn report_in_every_format_with_group_summary() {
    let dir = setup();
    let d = dir.path();
    let out = palisade(d, &["rbac", "report", "cluster.yaml", "-f", "json", NOW]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = out.json();
    let found: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["rule"].as_str().unwrap(),
                f["line"],
                f["path"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "rbac-secrets-access 14 rules[0].resources[0]",
        "rbac-binding-expired 27 metadata.annotations[\"palisade.io/expires-at\"]",
        "rbac-user-subject 31 subjects[1]",
        "rbac-cluster-admin-binding 39 roleRef.name",
        "rbac-binding-missing-role 48 roleRef",
    ] {
        assert!(
            found.contains(&want.to_string()),
            "missing {want} in {found:#?}"
        );
    }
    let secrets = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "rbac-secrets-access")
        .unwrap();
    assert!(
        secrets["message"]
            .as_str()
            .unwrap()
            .contains("held by sa:shop/ci (RoleBinding/ci-secrets (shop)), user:bob@example.com"),
        "{secrets}"
    );
    let groups: Vec<&str> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["ghosts", "sre", "system:serviceaccounts:shop"]);
    assert_eq!(
        v["groups"][2]["implicit"],
        "every service account of namespace shop"
    );
    assert_eq!(v["groups"][1]["grants"][0]["scope"], "cluster-wide");

    let out = palisade(d, &["rbac", "report", "cluster.yaml", NOW]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("rbac-cluster-admin-binding"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("What each group can do:"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("group sre:\n  cluster-wide: ClusterRole/cluster-admin via ClusterRoleBinding/sre-admin"), "{}", out.stdout);

    let out = palisade(d, &["rbac", "report", "cluster.yaml", "-f", "sarif", NOW]);
    let v = out.json();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "rbac-binding-expired"),
        "{v}"
    );

    let out = palisade(d, &["rbac", "report", "cluster.yaml", "-f", "junit", NOW]);
    assert!(
        out.stdout.starts_with("<?xml") && out.stdout.contains("rbac-user-subject"),
        "{}",
        out.stdout
    );

    let out = palisade(
        d,
        &[
            "rbac",
            "report",
            "cluster.yaml",
            "--fail-on",
            "critical",
            "-f",
            "json",
            "-o",
            "r.json",
            NOW,
        ],
    );
    assert_eq!(
        out.code, 1,
        "cluster-admin binding is critical: {}",
        out.stderr
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("r.json")).unwrap()).unwrap();
    assert!(written["groups"].is_array());
}

#[test]
fn directory_enables_stale_subjects_yaml_and_csv() {
    let dir = setup();
    let d = dir.path();
    let stale = |out: &Out| -> Vec<String> {
        out.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "rbac-stale-subject")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let out = palisade(d, &["rbac", "report", "cluster.yaml", "-f", "json", NOW]);
    assert!(stale(&out).is_empty());

    std::fs::write(
        d.join("people.yaml"),
        "users: [Bob@Example.com]\ngroups: [platform]\n",
    )
    .unwrap();
    let out = palisade(
        d,
        &[
            "rbac",
            "report",
            "cluster.yaml",
            "--directory",
            "people.yaml",
            "-f",
            "json",
            NOW,
        ],
    );
    assert_eq!(
        stale(&out),
        [
            "Group `sre` is not in the directory but still holds ClusterRole cluster-admin cluster-wide",
            "Group `ghosts` is not in the directory but still holds its role in namespace shop",
        ]
    );

    std::fs::write(
        d.join("okta.csv"),
        "Username,Groups\nalice@example.com,sre;platform\n",
    )
    .unwrap();
    let out = palisade(
        d,
        &[
            "rbac",
            "report",
            "cluster.yaml",
            "--directory",
            "okta.csv",
            "-f",
            "json",
            NOW,
        ],
    );
    let s = stale(&out);
    assert!(s.iter().any(|m| m.starts_with("User `bob@example.com` is not in the directory but still holds Role secret-reader in namespace shop")), "{s:#?}");
    assert!(!s.iter().any(|m| m.contains("`sre`")), "{s:#?}");

    std::fs::write(d.join("broken.csv"), "id,display\n1,x\n").unwrap();
    let out = palisade(
        d,
        &[
            "rbac",
            "report",
            "cluster.yaml",
            "--directory",
            "broken.csv",
            "-f",
            "json",
            NOW,
        ],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("broken.csv: directory: line 1: the header names no identity column"),
        "{}",
        out.stderr
    );
    assert!(
        !out.json()["findings"].as_array().unwrap().is_empty(),
        "the rest is still reported"
    );
}

#[test]
fn rules_run_in_scan_and_honour_the_rbac_config() {
    let dir = setup();
    let d = dir.path();
    let out = palisade(d, &["scan", "cluster.yaml", "-f", "json"]);
    let v = out.json();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"rbac-cluster-admin-binding") && rules.contains(&"rbac-user-subject"),
        "{rules:?}"
    );

    // bob's binding has an expiry, so no-expiry is silent; requiring it for group sre is configured
    let count = |out: &Out, rule: &str| {
        out.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .count()
    };
    let out = palisade(d, &["rbac", "report", "cluster.yaml", "-f", "json", NOW]);
    assert_eq!(count(&out, "rbac-binding-no-expiry"), 0);
    std::fs::write(
        d.join("palisade.yaml"),
        "rbac:\n  requireExpiry:\n    groups: [sre]\n",
    )
    .unwrap();
    let out = palisade(d, &["rbac", "report", "cluster.yaml", "-f", "json", NOW]);
    assert_eq!(count(&out, "rbac-binding-no-expiry"), 1, "{}", out.stdout);
    let out = palisade(d, &["scan", "cluster.yaml", "-f", "json"]);
    assert_eq!(
        count(&out, "rbac-binding-no-expiry"),
        1,
        "scan reads the same section: {}",
        out.stdout
    );
}

#[test]
fn prune_expired_prints_kubectl_deletes() {
    let dir = setup();
    let d = dir.path();
    std::fs::write(
        d.join("more.yaml"),
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: old-breakglass
  annotations: {palisade.io/expires-at: "2025-12-31", palisade.io/reason: outage}
subjects: [{kind: Group, name: sre}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: later
  namespace: shop
  annotations: {palisade.io/expires-at: "2027-01-01T00:00:00Z"}
subjects: [{kind: Group, name: sre}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
"#,
    )
    .unwrap();
    let out = palisade(d, &["rbac", "prune-expired", ".", NOW]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let cmds: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("kubectl"))
        .collect();
    assert_eq!(
        cmds,
        [
            "kubectl delete rolebinding -n shop -- ci-secrets",
            "kubectl delete clusterrolebinding -- old-breakglass"
        ]
    );
    assert!(out.stdout.contains("# RoleBinding/ci-secrets (shop) expired 2026-01-01T00:00:00Z, owner platform@example.com (./cluster.yaml:21)"), "{}", out.stdout);
    assert!(out.stdout.contains("reason: outage"), "{}", out.stdout);

    std::fs::write(
        d.join("bad.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: typo\n  namespace: shop\n  annotations: {palisade.io/expires-at: tomorrow}\nroleRef: {kind: ClusterRole, name: view}\n",
    )
    .unwrap();
    let out = palisade(d, &["rbac", "prune-expired", ".", NOW]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("./bad.yaml:1 RoleBinding/typo (shop): metadata.annotations[\"palisade.io/expires-at\"]: `tomorrow` is not a date"), "{}", out.stderr);
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("kubectl"))
            .count(),
        2
    );
}

/// Regression: names, namespaces and annotations went into the output
/// unquoted, so piping it to a shell ran what a binding's author wrote.
#[cfg(unix)]
#[test]
fn prune_expired_output_is_safe_to_run() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hostile = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: "$(touch PWNED1)"
  namespace: "shop; touch PWNED2"
  annotations:
    palisade.io/expires-at: "2025-01-01"
    palisade.io/owner: "ops\ntouch PWNED3\n"
    palisade.io/reason: "x\r\ntouch PWNED4 #\u202e"
subjects: [{kind: Group, name: sre}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: "--all"
  annotations: {palisade.io/expires-at: "2025-01-01"}
subjects: [{kind: Group, name: sre}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: "it's `touch PWNED5`"
  annotations: {palisade.io/expires-at: "2025-01-01"}
subjects: [{kind: Group, name: sre}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
"#;
    std::fs::write(d.join("hostile.yaml"), hostile).unwrap();
    let out = palisade(d, &["rbac", "prune-expired", "hostile.yaml", NOW]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().filter(|l| !l.starts_with('#')).count(),
        3,
        "one command line per binding, comments stay on one line:\n{}",
        out.stdout
    );
    let bin = d.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = bin.join("kubectl");
    std::fs::write(
        &fake,
        "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done >> \"$KUBECTL_LOG\"\necho >> \"$KUBECTL_LOG\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = d.join("kubectl.log");
    let mut sh = std::process::Command::new("sh")
        .current_dir(d)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("KUBECTL_LOG", &log)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        sh.stdin
            .take()
            .unwrap()
            .write_all(out.stdout.as_bytes())
            .unwrap();
    }
    assert!(sh.wait().unwrap().success());
    for i in 1..=5 {
        assert!(
            !d.join(format!("PWNED{i}")).exists(),
            "PWNED{i} was created:\n{}",
            out.stdout
        );
    }
    let calls = std::fs::read_to_string(&log).unwrap();
    let mut calls: Vec<&str> = calls.lines().collect();
    calls.sort_unstable();
    assert_eq!(
        calls,
        [
            "[delete][clusterrolebinding][--][--all]",
            "[delete][clusterrolebinding][--][it's `touch PWNED5`]",
            "[delete][rolebinding][-n][shop; touch PWNED2][--][$(touch PWNED1)]",
        ],
        "kubectl got exactly the names, and nothing else ran"
    );
}

#[test]
fn bad_input_is_reported_and_the_rest_analysed() {
    let dir = setup();
    let d = dir.path();
    std::fs::write(d.join("broken.yaml"), "kind: RoleBinding\n  metadata: [\n").unwrap();
    std::fs::write(
        d.join("odd.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: odd}\nsubjects:\n- {kind: Robot, name: r2}\n- {kind: ServiceAccount, name: nons}\nroleRef: {kind: ClusterRole, name: view}\n",
    )
    .unwrap();
    let out = palisade(d, &["rbac", "report", ".", "-f", "json", NOW]);
    assert_eq!(out.code, 2, "input errors give exit code 2");
    let v = out.json();
    assert!(
        v["errors"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("broken.yaml"),
        "{}",
        v["errors"]
    );
    let msgs: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["name"] == "odd")
        .map(|f| {
            format!(
                "{} {} {}: {}",
                f["rule"].as_str().unwrap(),
                f["line"],
                f["path"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        msgs.iter().any(|m| m.starts_with(
            "rbac-binding-missing-subject 5 subjects[0].kind: unknown subject kind `Robot`"
        )),
        "{msgs:#?}"
    );
    assert!(msgs.iter().any(|m| m.starts_with("rbac-binding-missing-subject 6 subjects[1].namespace: ServiceAccount subject `nons` has no namespace")), "{msgs:#?}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "rbac-cluster-admin-binding"),
        "the rest is analysed"
    );

    let out = palisade(d, &["rbac", "who-can", "", "pods", "cluster.yaml"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("the verb is empty"), "{}", out.stderr);
    std::fs::write(d.join("palisade.yaml"), "rbac:\n  maxExpiryDays: soon\n").unwrap();
    let out = palisade(d, &["rbac", "report", "cluster.yaml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("palisade.yaml:2:") && out.stderr.contains("rbac.maxExpiryDays"),
        "{}",
        out.stderr
    );
}
