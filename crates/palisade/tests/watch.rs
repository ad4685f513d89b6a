//! `palisade audit --watch` through the real binary against the fake API
//! server (tests/common/fake_api.rs) with its watches: changes injected
//! into the running server must reach the applied reports, a 410 Gone must
//! resync, two replicas must share one Lease, `/metrics` and `/readyz`
//! must tell the truth, and the first pass must find what `--snapshot` finds.

mod common;
#[path = "common/fake_api.rs"]
mod fake_api;

use common::{corpora, palisade, write, Out};
use fake_api::{kinds_from, FakeApi, Faults};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REPORTS: &str = "/apis/wgpolicyk8s.io/v1alpha2/namespaces";

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
        ns("local-path-storage", json!({"pod-security.kubernetes.io/enforce": "restricted"})),
    ]});
    let namespaces = write(dir, "namespaces.json", &namespaces.to_string());
    vec![
        corpora().join("audit/snapshots/kubehound-kind-1.27"),
        namespaces,
        version,
    ]
}

fn start(dir: &Path, faults: Faults) -> FakeApi {
    let (kinds, version) = kinds_from(&snapshot_paths(dir));
    FakeApi::start(kinds, version, faults)
}

/// A kubeconfig for `api` with its own bearer token (to tell replicas apart).
fn kubeconfig(api: &FakeApi, dir: &Path, token: &str) -> PathBuf {
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n\
         - name: fake\n  cluster:\n    server: http://{}\n\
         users:\n- name: auditor\n  user:\n    token: {token}\n\
         contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: auditor\n",
        api.addr
    );
    write(dir, &format!("kubeconfig-{token}"), &text)
}

/// A running `palisade audit --watch`, killed when dropped.
struct Auditor {
    child: Child,
    log: PathBuf,
}

impl Auditor {
    fn start(dir: &Path, api: &FakeApi, token: &str, more: &[&str]) -> Auditor {
        let kc = kubeconfig(api, dir, token);
        let log = dir.join(format!("stderr-{token}"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
        cmd.args(["audit", "--watch", "--kubeconfig"])
            .arg(&kc)
            .args(["--page-size", "7", "--debounce-ms", "100"])
            .args(more)
            .env("POD_NAME", format!("auditor-{token}"))
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        Auditor {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The address `--metrics-addr 127.0.0.1:0` got.
    fn metrics(&self) -> SocketAddr {
        wait_for("the metrics address", 30, || {
            let err = self.stderr();
            let at = err.find("metrics on http://")?;
            let rest = &err[at + "metrics on http://".len()..];
            rest.split('/').next()?.parse().ok()
        })
    }
}

impl Drop for Auditor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every 50 ms until it gives something, for at most `secs`.
fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET path` on `addr`: status and body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let code = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (code, body.unwrap_or_default())
}

/// The reports written to the fake, by path.
fn reports(api: &FakeApi) -> BTreeMap<String, Value> {
    api.state
        .lock()
        .unwrap()
        .applied
        .iter()
        .filter(|((coll, _), _)| coll.ends_with("policyreports"))
        .map(|((coll, name), v)| (format!("{coll}/{name}"), v.clone()))
        .collect()
}

/// The rules reported for `kind/name` in the report at `path`.
fn rules_of(api: &FakeApi, path: &str, name: &str) -> Option<BTreeSet<String>> {
    let report = reports(api).get(path)?.clone();
    Some(
        report["results"]
            .as_array()?
            .iter()
            .filter(|r| r["resources"][0]["name"] == name)
            .filter_map(|r| r["rule"].as_str().map(str::to_string))
            .collect(),
    )
}

fn pod(ns: &str, name: &str, host_network: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}")},
        "spec": {"hostNetwork": host_network, "containers": [{"name": "app", "image": "registry.example/app:1.0"}]}})
}

/// What identifies a finding, whatever the source (no file positions).
fn findings(doc: &Value) -> BTreeSet<String> {
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

#[test]
fn the_first_pass_finds_what_the_snapshot_has_and_metrics_and_readiness_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["audit".to_string(), "-f".into(), "json".into()];
    for p in snapshot_paths(dir.path()) {
        args.push("--snapshot".into());
        args.push(p.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let snap: Out = palisade(dir.path(), &args);
    assert_eq!(snap.code, 1, "{}", snap.stderr);
    let faults = Faults {
        forbidden: ["nodes".to_string()].into(),
        ..Faults::default()
    };
    let api = start(dir.path(), faults);
    let out = dir.path().join("pass.json");
    let out_arg = out.display().to_string();
    let auditor = Auditor::start(
        dir.path(),
        &api,
        "one",
        &[
            "-f",
            "json",
            "-o",
            &out_arg,
            "--metrics-addr",
            "127.0.0.1:0",
        ],
    );
    let addr = auditor.metrics();
    assert_eq!(get(addr, "/healthz").0, 200);
    wait_for("readiness", 60, || {
        (get(addr, "/readyz").0 == 200).then_some(())
    });
    let doc: Value = wait_for("the first pass's report", 30, || {
        serde_json::from_slice(&std::fs::read(&out).ok()?).ok()
    });
    let (s, w) = (findings(&snap.json()), findings(&doc));
    // the snapshot's Nodes could be read; the watcher may not watch them
    let s: BTreeSet<String> = s.into_iter().filter(|f| !f.contains("\"Node\"")).collect();
    assert!(s.len() >= 10, "{s:?}");
    assert_eq!(
        s,
        w,
        "only in snapshot: {:?}\nonly watched: {:?}",
        s.difference(&w).collect::<Vec<_>>(),
        w.difference(&s).collect::<Vec<_>>()
    );
    let not_audited = doc["notAudited"].to_string();
    assert!(
        not_audited.contains("Node (v1)") && not_audited.contains("403"),
        "{not_audited}"
    );
    let (code, metrics) = get(addr, "/metrics");
    assert_eq!(code, 200);
    for want in [
        "palisade_audit_leader 1",
        "palisade_audit_not_audited{kind=\"Node\"} 1",
        "palisade_audit_watch_events_total{kind=\"Pod\",type=\"listed\"} 1",
        "palisade_audit_last_full_pass_age_seconds ",
        "palisade_audit_last_full_pass_duration_seconds ",
        "palisade_audit_watch_restarts_total{kind=\"Node\"}",
    ] {
        assert!(metrics.contains(want), "{want} not in:\n{metrics}");
    }
    // one gauge per rule x namespace x severity, summing to the findings
    let total: i64 = metrics
        .lines()
        .filter(|l| l.starts_with("palisade_audit_findings{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(
        total as usize,
        doc["findings"].as_array().unwrap().len(),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "palisade_audit_findings{rule=\"host-path-volume\",namespace=\"kube-system\",severity="
        ),
        "{metrics}"
    );
    // a forbidden kind is retried, never the end of the process
    wait_for("a second try at the forbidden kind", 30, || {
        (api.log()
            .iter()
            .filter(|r| r.path == "/api/v1/nodes")
            .count()
            >= 2)
            .then_some(())
    });
    assert!(
        auditor.stderr().contains("not audited: Node (v1)"),
        "{}",
        auditor.stderr()
    );
}

#[test]
fn watched_changes_reach_the_reports_and_a_namespace_without_findings_loses_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let api = start(dir.path(), Faults::default());
    let auditor = Auditor::start(dir.path(), &api, "one", &["--apply"]);
    let kube_system = format!("{REPORTS}/kube-system/policyreports/palisade-kube-system");
    wait_for("the first reports", 60, || {
        reports(&api).get(&kube_system).map(drop)
    });
    // added: its findings appear in a new namespace's report
    api.upsert(pod("shop", "web", true));
    let shop = format!("{REPORTS}/shop/policyreports/palisade-shop");
    let rules = wait_for("the added pod's report", 30, || {
        rules_of(&api, &shop, "web")
    });
    assert!(
        rules.contains("host-network"),
        "{rules:?}\n{}",
        auditor.stderr()
    );
    // fixed: the finding goes, the others stay
    api.upsert(pod("shop", "web", false));
    let rules = wait_for("the fix", 30, || {
        rules_of(&api, &shop, "web").filter(|r| !r.contains("host-network"))
    });
    assert!(!rules.is_empty(), "the pod has other findings");
    // deleted: the namespace has no findings left and loses its report
    assert!(api.remove("v1", "Pod", Some("shop"), "web"));
    wait_for("the report's deletion", 30, || {
        (!reports(&api).contains_key(&shop)).then_some(())
    });
    let deletes: Vec<String> = api
        .log()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(deletes, std::slice::from_ref(&shop));
    // only the changed namespace was written again after the first pass
    let patches = |api: &FakeApi| {
        api.log()
            .iter()
            .filter(|r| r.method == "PATCH")
            .map(|r| r.path.clone())
            .collect::<Vec<_>>()
    };
    let all = patches(&api);
    assert_eq!(
        all.iter().filter(|p| **p == kube_system).count(),
        1,
        "{all:?}"
    );
    assert_eq!(all.iter().filter(|p| **p == shop).count(), 2, "{all:?}");
    // every watch was asked as kube-rs asks it
    let watches: Vec<_> = api
        .log()
        .into_iter()
        .filter(|r| r.query.contains("watch=true"))
        .collect();
    assert!(!watches.is_empty());
    assert!(
        watches
            .iter()
            .all(|r| r.query.contains("allowWatchBookmarks=true")
                && r.query.contains("resourceVersion=")),
        "{watches:?}"
    );
    assert!(
        auditor.stderr().contains("incremental pass"),
        "{}",
        auditor.stderr()
    );
}

#[test]
fn a_gone_watch_relists_and_the_result_is_still_right() {
    let dir = tempfile::tempdir().unwrap();
    let api = start(dir.path(), Faults::default());
    let auditor = Auditor::start(dir.path(), &api, "one", &["--apply"]);
    api.upsert(pod("shop", "old", true));
    let shop = format!("{REPORTS}/shop/policyreports/palisade-shop");
    wait_for("the first report of shop", 60, || {
        rules_of(&api, &shop, "old").filter(|r| !r.is_empty())
    });
    let lists = |api: &FakeApi| {
        api.log()
            .iter()
            .filter(|r| r.path == "/api/v1/pods" && !r.query.contains("watch"))
            .count()
    };
    let before = lists(&api);
    // the watch ends with 410 Gone; what changes meanwhile comes with the relist
    api.expire_watches("pods");
    api.remove("v1", "Pod", Some("shop"), "old");
    api.upsert(pod("shop", "new", true));
    let rules = wait_for("the relisted pod", 30, || {
        rules_of(&api, &shop, "new").filter(|r| !r.is_empty())
    });
    assert!(rules.contains("host-network"), "{rules:?}");
    assert_eq!(
        rules_of(&api, &shop, "old"),
        Some(BTreeSet::new()),
        "the deleted pod is gone"
    );
    assert!(lists(&api) > before, "pods listed again after 410 Gone");
    assert!(auditor.stderr().contains("410"), "{}", auditor.stderr());
}

#[test]
fn two_replicas_share_one_lease_and_the_follower_takes_over_from_a_dead_leader() {
    let dir = tempfile::tempdir().unwrap();
    let api = start(dir.path(), Faults::default());
    let lease_args = [
        "--apply",
        "--lease-name",
        "palisade-auditor",
        "--lease-namespace",
        "palisade-system",
        "--lease-duration",
        "3",
        "--lease-renew",
        "0.3",
    ];
    let mut a = Some(Auditor::start(dir.path(), &api, "a", &lease_args));
    let b = Auditor::start(dir.path(), &api, "b", &lease_args);
    let holder = |api: &FakeApi| {
        api.object(
            "coordination.k8s.io/v1",
            "Lease",
            Some("palisade-system"),
            "palisade-auditor",
        )
        .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_string))
    };
    let first = wait_for("a leader", 30, || holder(&api));
    let kube_system = format!("{REPORTS}/kube-system/policyreports/palisade-kube-system");
    wait_for("the leader's reports", 60, || {
        reports(&api).get(&kube_system).map(drop)
    });
    // let both finish their first pass, then check who wrote
    std::thread::sleep(Duration::from_secs(2));
    let writers = |api: &FakeApi| {
        api.log()
            .iter()
            .filter(|r| r.method == "PATCH" || r.method == "DELETE")
            .map(|r| r.authorization.clone())
            .collect::<BTreeSet<_>>()
    };
    let leader_token = first.trim_start_matches("auditor-").to_string();
    assert_eq!(
        writers(&api),
        BTreeSet::from([format!("Bearer {leader_token}")]),
        "{first}"
    );
    // the leader dies without giving the lease up
    let (dead, alive) = if leader_token == "a" {
        (a.take().unwrap(), b)
    } else {
        (b, a.take().unwrap())
    };
    let mut dead = dead;
    dead.child.kill().unwrap();
    dead.child.wait().unwrap();
    let killed = Instant::now();
    let next = wait_for("the takeover", 30, || holder(&api).filter(|h| *h != first));
    let waited = killed.elapsed();
    assert!(
        waited >= Duration::from_secs(2),
        "took over after {waited:?}, before the lease expired"
    );
    assert_eq!(
        next,
        format!("auditor-{}", if leader_token == "a" { "b" } else { "a" })
    );
    // the new leader writes
    api.upsert(pod("shop", "web", true));
    let shop = format!("{REPORTS}/shop/policyreports/palisade-shop");
    wait_for("the new leader's write", 30, || {
        rules_of(&api, &shop, "web").filter(|r| !r.is_empty())
    });
    let new_token = next.trim_start_matches("auditor-");
    let shop_writers: BTreeSet<String> = api
        .log()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path == shop)
        .map(|r| r.authorization.clone())
        .collect();
    assert_eq!(
        shop_writers,
        BTreeSet::from([format!("Bearer {new_token}")])
    );
    let lease = api
        .object(
            "coordination.k8s.io/v1",
            "Lease",
            Some("palisade-system"),
            "palisade-auditor",
        )
        .unwrap();
    assert_eq!(lease["spec"]["leaseTransitions"], 1, "{lease}");
    assert!(
        alive.stderr().contains("lease: leading"),
        "{}",
        alive.stderr()
    );
    drop(dead);
}

#[test]
fn a_stopped_leader_gives_the_lease_up() {
    let dir = tempfile::tempdir().unwrap();
    let api = start(dir.path(), Faults::default());
    let mut a = Auditor::start(
        dir.path(),
        &api,
        "a",
        &[
            "--lease-name",
            "l",
            "--lease-namespace",
            "ns",
            "--lease-renew",
            "0.3",
        ],
    );
    let lease = |api: &FakeApi| api.object("coordination.k8s.io/v1", "Lease", Some("ns"), "l");
    wait_for("the lease", 30, || {
        lease(&api).filter(|l| l["spec"]["holderIdentity"] == "auditor-a")
    });
    // SAFETY: signals a child process this test started and still owns
    assert_eq!(unsafe { libc::kill(a.child.id() as i32, libc::SIGTERM) }, 0);
    let status = a.child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", a.stderr());
    let l = lease(&api).unwrap();
    assert!(l["spec"]["holderIdentity"].is_null(), "{l}");
}

#[test]
#[ignore = "needs cluster"]
fn a_real_cluster_is_watched() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["audit", "--watch", "--metrics-addr", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(20));
    child.kill().unwrap();
    child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("full pass"), "{err}");
}
