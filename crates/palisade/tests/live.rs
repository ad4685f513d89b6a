//! `palisade audit` against a live cluster: the API server faked at the
//! HTTP layer (tests/common/fake_api.rs) serving the recorded snapshots of
//! testdata/audit/snapshots, through the real binary. The findings must be
//! the snapshot's; faults (403, 429, 410) must be handled and reported.

mod common;
#[path = "common/fake_api.rs"]
mod fake_api;

use common::{corpora, palisade, write, Out};
use fake_api::{kinds_from, FakeApi, Faults};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The kubehound kind cluster, its Namespaces and its `kubectl version`.
fn snapshot_paths(dir: &Path) -> Vec<PathBuf> {
    let version = write(
        dir,
        "version.json",
        r#"{"clientVersion": {"gitVersion": "v1.30.0"},
           "serverVersion": {"gitVersion": "v1.27.1", "major": "1", "minor": "27", "platform": "linux/amd64"}}"#,
    );
    let ns = |name: &str, labels: Value| {
        json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels}})
    };
    let namespaces = json!({"apiVersion": "v1", "kind": "List", "items": [
        ns("default", json!({"kubernetes.io/metadata.name": "default"})),
        ns("kube-system", json!({"kubernetes.io/metadata.name": "kube-system"})),
        ns("kube-public", json!({})),
        ns("kube-node-lease", json!({})),
        ns("local-path-storage", json!({"pod-security.kubernetes.io/enforce": "restricted"})),
    ]});
    let namespaces = write(dir, "namespaces.json", &namespaces.to_string());
    // a kind no rule of the cluster profile reads
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "kube-scheduler", "namespace": "kube-system"},
        "spec": {"holderIdentity": "kind-control-plane"}});
    let leases = write(dir, "leases.json", &lease.to_string());
    vec![
        corpora().join("audit/snapshots/kubehound-kind-1.27"),
        namespaces,
        leases,
        version,
    ]
}

/// What identifies a finding, whatever the source (no file positions).
fn findings(out: &Out) -> BTreeSet<String> {
    let doc = out.json();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let r = &f["resource"];
            format!(
                "{} {} {}/{}/{} {} {} {}",
                f["rule"],
                f["also"],
                r["kind"],
                r["namespace"],
                r["name"],
                f["path"],
                f["severity"],
                f["message"]
            )
        })
        .collect()
}

fn start(dir: &Path, faults: Faults) -> FakeApi {
    let (kinds, version) = kinds_from(&snapshot_paths(dir));
    FakeApi::start(kinds, version, faults)
}

fn audit_snapshot(dir: &Path, more: &[&str]) -> Out {
    let paths = snapshot_paths(dir);
    let mut args = vec!["audit".to_string()];
    for p in &paths {
        args.push("--snapshot".into());
        args.push(p.display().to_string());
    }
    args.extend(more.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    palisade(dir, &args)
}

fn audit_live(dir: &Path, api: &FakeApi, more: &[&str]) -> Out {
    let kc = api.kubeconfig(dir, "elsewhere");
    let kc = kc.display().to_string();
    let mut args = vec![
        "audit",
        "--kubeconfig",
        &kc,
        "--context",
        "fake",
        "--page-size",
        "7",
    ];
    args.extend(more);
    palisade(dir, &args)
}

#[test]
fn the_live_cluster_gives_the_snapshots_findings() {
    for profile in [&["-f", "json"][..], &["-f", "json", "--profile", "cluster"]] {
        let dir = tempfile::tempdir().unwrap();
        let snap = audit_snapshot(dir.path(), profile);
        assert_eq!(snap.code, 1, "{}", snap.stderr);
        let api = start(dir.path(), Faults::default());
        let live = audit_live(dir.path(), &api, profile);
        assert_eq!(live.code, 1, "{}", live.stderr);
        let (s, l) = (findings(&snap), findings(&live));
        assert!(s.len() >= 10, "{s:?}");
        assert_eq!(
            s,
            l,
            "only in snapshot: {:?}\nonly live: {:?}",
            s.difference(&l).collect::<Vec<_>>(),
            l.difference(&s).collect::<Vec<_>>()
        );
        let doc = live.json();
        assert_eq!(
            doc["notAudited"],
            snap.json()["notAudited"],
            "{}",
            live.stdout
        );
        // the kubeconfig's user and context were used, pages were asked for
        let log = api.log();
        assert!(
            log.iter().all(|r| r.authorization == "Bearer fake-token"),
            "{log:?}"
        );
        let pods: Vec<_> = log.iter().filter(|r| r.path == "/api/v1/pods").collect();
        assert!(pods.len() > 2, "pods listed in pages of 7: {pods:?}");
        assert!(pods.iter().all(|r| r.query.contains("limit=7")));
        assert!(pods[1..]
            .iter()
            .all(|r| r.query.contains("continue=offset-")));
    }
}

#[test]
fn only_the_kinds_the_rules_read_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let api = start(dir.path(), Faults::default());
    let out = audit_live(dir.path(), &api, &["-f", "json", "--profile", "cluster"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let listed: Vec<String> = api
        .log()
        .iter()
        .filter(|r| {
            r.method == "GET"
                && r.path.matches('/').count() == 3 + usize::from(r.path.starts_with("/apis"))
        })
        .map(|r| r.path.clone())
        .collect();
    assert!(listed.contains(&"/api/v1/nodes".to_string()), "{listed:?}");
    assert!(
        listed.contains(&"/api/v1/namespaces".to_string()),
        "{listed:?}"
    );
    // the cluster profile reads no Lease: not listed, though discovered
    assert!(!listed.iter().any(|p| p.contains("leases")), "{listed:?}");
    assert!(api
        .log()
        .iter()
        .any(|r| r.path == "/apis/coordination.k8s.io/v1"));
    let doc = out.json();
    let kinds = doc["listed"].as_array().unwrap();
    let node = kinds.iter().find(|k| k["kind"] == "Node").unwrap();
    assert_eq!(node["objects"], 3);
    assert!(kinds.iter().all(|k| k["objects"].as_u64().is_some()));
    assert!(kinds.iter().all(|k| k["kind"] != "Lease"));
}

#[test]
fn a_kind_read_for_its_metadata_only_is_listed_as_metadata() {
    // default-namespace (default profile) reads every kind's metadata: the
    // Lease is listed, as PartialObjectMetadata; Pods whole
    let dir = tempfile::tempdir().unwrap();
    let api = start(dir.path(), Faults::default());
    let out = audit_live(dir.path(), &api, &["-f", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    let kind = |name: &str| {
        doc["listed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kind"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(kind("Lease")["metadata_only"], true);
    assert_eq!(kind("Lease")["objects"], 1);
    assert_eq!(kind("Pod")["metadata_only"], false);
    let log = api.log();
    let lease = log
        .iter()
        .find(|r| r.path == "/apis/coordination.k8s.io/v1/leases")
        .unwrap();
    assert!(
        lease.accept.contains("as=PartialObjectMetadataList"),
        "{}",
        lease.accept
    );
    let pods = log.iter().find(|r| r.path == "/api/v1/pods").unwrap();
    assert!(
        !pods.accept.contains("PartialObjectMetadata"),
        "{}",
        pods.accept
    );
}

#[test]
fn a_forbidden_kind_or_broken_api_group_is_reported_as_not_audited_and_the_rest_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults {
        forbidden: ["nodes".to_string()].into(),
        broken_groups: ["coordination.k8s.io".to_string()].into(),
        ..Faults::default()
    };
    let api = start(dir.path(), faults);
    let out = audit_live(dir.path(), &api, &["-f", "json", "--profile", "cluster"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    let not: Vec<String> = doc["notAudited"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{}: {}",
                n["what"].as_str().unwrap(),
                n["why"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        not.iter().any(|n| n.starts_with(
            "Node (v1): cannot list /api/v1/nodes: 403 Forbidden: nodes is forbidden"
        )),
        "{not:?}"
    );
    assert!(
        not.iter()
            .any(|n| n.starts_with("API group coordination.k8s.io/v1: discovery failed")),
        "{not:?}"
    );
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"node-version-outdated"), "{rules:?}");
    assert!(rules.contains(&"cluster-version-outdated"), "{rules:?}");
}

#[test]
fn throttling_is_waited_out_and_an_expired_continue_token_relists() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = audit_snapshot(dir.path(), &["-f", "json"]);
    let faults = Faults {
        throttle_once: ["pods".to_string()].into(),
        gone_once: ["pods".to_string(), "roles".to_string()].into(),
        ..Faults::default()
    };
    let api = start(dir.path(), faults);
    let out = audit_live(dir.path(), &api, &["-f", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(findings(&baseline), findings(&out));
    let doc = out.json();
    let pods = doc["listed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "Pod")
        .unwrap()
        .clone();
    assert_eq!(pods["throttled"], 1, "{pods}");
    assert_eq!(pods["relists"], 1, "{pods}");
    let roles = doc["listed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "Role")
        .unwrap()
        .clone();
    assert_eq!(roles["relists"], 1, "{roles}");
    assert!(doc["notAudited"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| !n["what"].as_str().unwrap().contains("Pod")));
}

#[test]
fn an_unreachable_cluster_or_unknown_context_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let api = start(dir.path(), Faults::default());
    let kc = api.kubeconfig(dir.path(), "elsewhere");
    let kc = kc.display().to_string();
    let out = palisade(
        dir.path(),
        &["audit", "--kubeconfig", &kc, "--context", "nope"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("nope"), "{}", out.stderr);
    let out = palisade(dir.path(), &["audit", "--kubeconfig", &kc]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("127.0.0.1:9") || out.stderr.contains("discovery"),
        "{}",
        out.stderr
    );
}

#[test]
fn apply_writes_reports_by_server_side_apply_and_removes_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    let api = start(dir.path(), Faults::default());
    let reports = "/apis/wgpolicyk8s.io/v1alpha2/namespaces/gone/policyreports";
    let stale = json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
        "metadata": {"name": "palisade-gone", "namespace": "gone", "uid": "r1",
            "labels": {"app.kubernetes.io/managed-by": "palisade"}}});
    let theirs = json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
        "metadata": {"name": "kyverno-gone", "namespace": "gone", "labels": {"app.kubernetes.io/managed-by": "kyverno"}}});
    fake_api::preload(&api.state, reports, stale);
    fake_api::preload(&api.state, reports, theirs);
    let out = audit_live(dir.path(), &api, &["-f", "json", "--apply"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let log = api.log();
    let patches: Vec<_> = log.iter().filter(|r| r.method == "PATCH").collect();
    assert!(!patches.is_empty());
    for p in &patches {
        assert_eq!(p.content_type, "application/apply-patch+yaml");
        assert_eq!(p.query, "fieldManager=palisade&force=true");
        let body: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(
            body["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "palisade"
        );
        assert!(
            p.path.ends_with(body["metadata"]["name"].as_str().unwrap()),
            "{}",
            p.path
        );
    }
    let paths: Vec<&str> = patches.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"/apis/wgpolicyk8s.io/v1alpha2/namespaces/kube-system/policyreports/palisade-kube-system"), "{paths:?}");
    assert!(
        paths.contains(&"/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/palisade-cluster"),
        "{paths:?}"
    );
    let deletes: Vec<&str> = log
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        deletes,
        [format!("{reports}/palisade-gone")],
        "only Palisade's stale report"
    );
    assert!(
        log.iter().any(|r| r.method == "GET"
            && r.query == "labelSelector=app.kubernetes.io%2Fmanaged-by%3Dpalisade"
            || r.query == "labelSelector=app.kubernetes.io%2Fmanaged-by=palisade"),
        "{log:?}"
    );
    assert!(
        out.stderr
            .contains("deleted 1 stale reports (gone/palisade-gone)"),
        "{}",
        out.stderr
    );
    // a second pass applies the same reports and deletes nothing
    let again = audit_live(
        dir.path(),
        &api,
        &[
            "-f",
            "json",
            "--apply",
            "--report-api",
            "wgpolicyk8s.io/v1alpha2",
        ],
    );
    assert!(
        again.stderr.contains(&format!(
            "applied {} reports; deleted 0 stale reports",
            patches.len()
        )),
        "{}",
        again.stderr
    );
}

fn bindings_cluster(dir: &Path) -> FakeApi {
    let binding = |kind: &str, ns: Option<&str>, name: &str, uid: &str, expires: &str| {
        let mut b = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
            "metadata": {"name": name, "uid": uid,
                "annotations": {"palisade.io/expires-at": expires, "palisade.io/owner": "platform"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "name": "oncall", "apiGroup": "rbac.authorization.k8s.io"}]});
        if let Some(ns) = ns {
            b["metadata"]["namespace"] = json!(ns);
        }
        b
    };
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [
        binding("RoleBinding", Some("shop"), "oncall-old", "u1", "2026-01-01T00:00:00Z"),
        binding("RoleBinding", Some("shop"), "oncall-new", "u2", "2027-01-01T00:00:00Z"),
        binding("ClusterRoleBinding", None, "incident-42", "u3", "2026-06-01T00:00:00Z"),
    ]});
    let file = write(dir, "bindings.json", &list.to_string());
    let (kinds, _) = kinds_from(&[file]);
    FakeApi::start(
        kinds,
        Some(json!({"gitVersion": "v1.33.1"})),
        Faults::default(),
    )
}

#[test]
fn prune_expired_is_a_dry_run_unless_apply_then_deletes_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let api = bindings_cluster(dir.path());
    let kc = api.kubeconfig(dir.path(), "fake").display().to_string();
    let base = [
        "rbac",
        "prune-expired",
        "--kubeconfig",
        &kc,
        "--now",
        "2026-12-01T00:00:00Z",
    ];
    let dry = palisade(dir.path(), &base);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .contains("kubectl delete rolebinding -n shop -- oncall-old"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("kubectl delete clusterrolebinding -- incident-42"),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("oncall-new"));
    assert!(
        api.log().iter().all(|r| r.method == "GET"),
        "a dry run writes nothing"
    );
    let mut args = base.to_vec();
    args.push("--apply");
    let applied = palisade(dir.path(), &args);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(applied.stdout, dry.stdout, "the same listing");
    let deletes: Vec<(String, String)> = api
        .log()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| (r.path, r.body))
        .collect();
    let mut deletes = deletes;
    deletes.sort();
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    assert_eq!(
        deletes[0].0,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/incident-42"
    );
    assert_eq!(
        deletes[1].0,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings/oncall-old"
    );
    let opts: Value = serde_json::from_str(&deletes[1].1).unwrap();
    assert_eq!(opts["preconditions"]["uid"], "u1");
    assert!(
        applied
            .stderr
            .contains("deleted rolebindings shop/oncall-old"),
        "{}",
        applied.stderr
    );
    // the cluster no longer holds them: a new dry run lists nothing
    let after = palisade(dir.path(), &base);
    assert!(
        after.stdout.contains("# no expired bindings"),
        "{}",
        after.stdout
    );
}

/// Needs `KUBECONFIG` pointing at a real cluster the user may read.
#[test]
#[ignore = "needs cluster"]
fn a_real_cluster_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let out = palisade(dir.path(), &["audit", "-f", "json"]);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    assert!(!out.json()["listed"].as_array().unwrap().is_empty());
}

/// Runs `palisade ARGS` on a pseudo-terminal (util-linux `script`), with
/// `CI` removed or set: what a person at a terminal would see on stderr.
fn on_terminal(dir: &Path, args: &[String], ci: bool) -> String {
    let mut line = shlex::try_join(
        std::iter::once(env!("CARGO_BIN_EXE_palisade")).chain(args.iter().map(String::as_str)),
    )
    .unwrap();
    line.push_str(" >/dev/null");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qefc", &line, "/dev/null"]).current_dir(dir);
    if ci {
        cmd.env("CI", "true");
    } else {
        cmd.env_remove("CI");
    }
    let out = cmd.output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_terminal_gets_a_progress_bar_per_kind_and_pipes_ci_and_json_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let api = start(dir.path(), Faults::default());
    let kc = api.kubeconfig(dir.path(), "fake").display().to_string();
    let args = |format: &str| -> Vec<String> {
        [
            "audit",
            "--kubeconfig",
            &kc,
            "--page-size",
            "7",
            "-f",
            format,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let shown = on_terminal(dir.path(), &args("table"), false);
    assert!(shown.contains("Pod (v1)"), "{shown}");
    assert!(shown.contains("objects") && shown.contains("/s"), "{shown}");
    assert!(shown.contains("done"), "{shown}");
    for (what, text) in [
        ("CI", on_terminal(dir.path(), &args("table"), true)),
        ("JSON", on_terminal(dir.path(), &args("json"), false)),
        ("a pipe", audit_live(dir.path(), &api, &[]).stderr),
    ] {
        assert!(
            !text.contains("objects"),
            "progress drawn with {what}: {text}"
        );
    }
}
