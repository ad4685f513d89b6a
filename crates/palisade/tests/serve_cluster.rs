//! `palisade serve --cluster` through the real binary against the API
//! server faked at the HTTP layer (tests/common/fake_api.rs, with watches):
//! namespace labels and RBAC objects come from the cluster's watches,
//! never from reviews; `/readyz` waits for the first sync; the pods'
//! `imagePullSecrets` authenticate the image verification against a real
//! registry (Debian's docker-registry with htpasswd) without the password
//! ever being printed; `/metrics` reports the cluster state and the image
//! verifications.

mod common;
#[path = "common/fake_api.rs"]
mod fake_api;
#[path = "../../palisade-images/tests/it/registry_server.rs"]
mod registry_server;

use base64::Engine as _;
use fake_api::{FakeApi, Faults, Kind};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn kind(group: &str, kind: &str, namespaced: bool, items: Vec<Value>) -> Kind {
    Kind {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        plural: fake_api::plural(kind),
        namespaced,
        items,
    }
}

const RBAC: &str = "rbac.authorization.k8s.io";

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "uid": format!("uid-{name}"), "labels": labels}})
}

/// A cluster with namespaces `shop` (enforce: restricted) and `dev` (no
/// labels), and a ClusterRole `everything` granting every verb on every
/// resource, which only the cluster has.
fn cluster(extra: Vec<Kind>) -> FakeApi {
    let mut kinds = vec![
        kind(
            "",
            "Namespace",
            false,
            vec![
                namespace(
                    "shop",
                    json!({"pod-security.kubernetes.io/enforce": "restricted"}),
                ),
                namespace("dev", json!({})),
            ],
        ),
        kind(
            RBAC,
            "ClusterRole",
            false,
            vec![
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "everything"},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
            ],
        ),
        kind(RBAC, "ClusterRoleBinding", false, Vec::new()),
        kind(RBAC, "Role", true, Vec::new()),
        kind(RBAC, "RoleBinding", true, Vec::new()),
    ];
    kinds.extend(extra);
    FakeApi::start(kinds, None, Faults::default())
}

/// A running `palisade serve --cluster`, killed on drop.
struct Served {
    child: Child,
    addr: String,
    health: String,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves `yaml` (with `files` beside it) against `api`.
fn serve(api: &FakeApi, yaml: &str, files: &[(&str, &[u8])]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, data) in files {
        std::fs::write(d.join(name), data).unwrap();
    }
    std::fs::write(d.join("palisade.yaml"), yaml).unwrap();
    let kubeconfig = api.kubeconfig(d, "elsewhere");
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "certs",
            "--service",
            "palisade",
            "--namespace",
            "palisade-system",
        ])
        .args(["--san", "localhost", "--out-dir"])
        .arg(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["serve", "--tls-cert", "tls.crt", "--tls-key", "tls.key"])
        .args(["--addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0"])
        .args(["--cluster", "--context", "fake", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--log-level", "debug"])
        .current_dir(d)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let l = log.clone();
    std::thread::spawn(move || {
        let mut health = None;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(h) = line.strip_prefix("palisade: health probes on http://") {
                health = h.split('/').next().map(str::to_string);
            }
            if let Some(a) = line.strip_prefix("palisade: listening on https://") {
                let _ = tx.send((a.to_string(), health.clone().unwrap_or_default()));
            }
            let mut g = l.lock().unwrap();
            g.push_str(&line);
            g.push('\n');
        }
    });
    let (addr, health) = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("server did not start: {}", log.lock().unwrap()));
    Served {
        child,
        addr,
        health,
        log,
        _dir: dir,
    }
}

impl Served {
    /// Posts `review` to `/validate` over TLS; the AdmissionReview's response.
    fn validate(&self, review: &Value) -> Value {
        let ca = self._dir.path().join("ca.crt");
        common::https::review(&ca, &self.addr, "/validate", review)
    }

    /// GET `path` on the plain health port (status, body).
    fn health_get(&self, path: &str) -> (u16, String) {
        http_get(&self.health, path)
    }

    /// `/metrics` (served on the TLS port).
    fn metrics(&self) -> String {
        let ca = self._dir.path().join("ca.crt");
        common::https::get_raw(&ca, &self.addr, "/metrics")
    }

    /// Waits until `/readyz` answers 200.
    fn wait_ready(&self) {
        let start = Instant::now();
        while self.health_get("/readyz").0 != 200 {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never ready: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let code = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (code, body)
}

fn review(namespace: &str, object: Value) -> Value {
    let api = object["apiVersion"].as_str().unwrap();
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u-1", "kind": {"group": group, "version": version, "kind": object["kind"]},
        "operation": "CREATE", "namespace": namespace, "userInfo": {"username": "alice"},
        "object": object}})
}

/// A pod the baseline level admits and the restricted level denies.
fn loose_pod(namespace: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "registry.example/app@sha256:0000000000000000000000000000000000000000000000000000000000000000"}]}})
}

fn message(r: &Value) -> String {
    r["status"]["message"].as_str().unwrap_or("").to_string()
}

/// Pod Security at the baseline level where a namespace has no label: the
/// label decides.
const PSS: &str = "profiles:\n- {name: pss-baseline}\n";

#[test]
fn namespace_labels_come_from_the_cluster_and_its_watch_never_from_reviews() {
    let api = cluster(Vec::new());
    let s = serve(&api, PSS, &[]);
    s.wait_ready();
    // restricted in the cluster, though the configuration labels nothing
    let r = s.validate(&review("shop", loose_pod("shop")));
    assert_eq!(r["allowed"], false, "{r}");
    assert!(message(&r).contains("restricted"), "{r}");
    let r = s.validate(&review("dev", loose_pod("dev")));
    assert_eq!(r["allowed"], true, "baseline where unlabelled: {r}");
    // a Namespace review claiming privileged is judged, not learned
    let claim = namespace(
        "shop",
        json!({"pod-security.kubernetes.io/enforce": "privileged"}),
    );
    let mut update = review("", claim);
    update["request"]["operation"] = json!("UPDATE");
    let _ = s.validate(&update);
    let r = s.validate(&review("shop", loose_pod("shop")));
    assert_eq!(r["allowed"], false, "a review changes nothing: {r}");
    // the cluster relabels: the watch event changes the next verdict
    api.upsert(namespace(
        "shop",
        json!({"pod-security.kubernetes.io/enforce": "baseline"}),
    ));
    api.upsert(namespace(
        "dev",
        json!({"pod-security.kubernetes.io/enforce": "restricted"}),
    ));
    let start = Instant::now();
    loop {
        let shop = s.validate(&review("shop", loose_pod("shop")));
        let dev = s.validate(&review("dev", loose_pod("dev")));
        if shop["allowed"] == true && dev["allowed"] == false {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the relabelling never arrived: {shop} {dev}\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // a namespace deleted in the cluster is unlabelled again
    assert!(api.remove("v1", "Namespace", None, "dev"));
    let start = Instant::now();
    while s.validate(&review("dev", loose_pod("dev")))["allowed"] != true {
        assert!(start.elapsed() < Duration::from_secs(15), "{}", s.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let m = s.metrics();
    for line in [
        "palisade_cluster_synced{kind=\"Namespace\"} 1",
        "palisade_cluster_synced{kind=\"RoleBinding\"} 1",
        "palisade_cluster_objects{kind=\"Namespace\"} 1",
        "palisade_cluster_objects{kind=\"ClusterRole\"} 1",
        "palisade_cluster_stale_seconds 0",
    ] {
        assert!(m.contains(line), "{line} in\n{m}");
    }
    // the Namespaces are watched metadata only, the RBAC kinds whole
    let log = api.log();
    let ns_watch = log
        .iter()
        .find(|r| r.path == "/api/v1/namespaces" && r.query.contains("watch="))
        .expect("a watch of namespaces");
    assert!(
        ns_watch.accept.contains("PartialObjectMetadata"),
        "{ns_watch:?}"
    );
}

#[test]
fn the_configuration_pins_labels_over_the_cluster() {
    let api = cluster(Vec::new());
    let yaml = format!(
        "{PSS}webhook:\n  namespaceLabels:\n    shop: {{pod-security.kubernetes.io/enforce: baseline}}\n    new: {{pod-security.kubernetes.io/enforce: restricted}}\n"
    );
    let s = serve(&api, &yaml, &[]);
    s.wait_ready();
    let r = s.validate(&review("shop", loose_pod("shop")));
    assert_eq!(r["allowed"], true, "the administrator's pin wins: {r}");
    let r = s.validate(&review("new", loose_pod("new")));
    assert_eq!(
        r["allowed"], false,
        "configured, not (yet) in the cluster: {r}"
    );
}

#[test]
fn not_ready_and_denying_until_the_first_sync() {
    // RoleBindings cannot be listed: that kind never syncs
    let mut faults = Faults::default();
    faults.forbidden.insert("rolebindings".into());
    let mut kinds = Vec::new();
    for k in [
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
    ] {
        let group = if k == "Namespace" { "" } else { RBAC };
        kinds.push(kind(group, k, k.starts_with("Role"), Vec::new()));
    }
    let api = FakeApi::start(kinds, None, faults);
    let s = serve(&api, PSS, &[]);
    std::thread::sleep(Duration::from_secs(2));
    let (code, body) = s.health_get("/readyz");
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains("not synced") && body.contains("RoleBinding"),
        "{body}"
    );
    assert!(
        !body.contains("Namespace,"),
        "the other kinds synced: {body}"
    );
    let r = s.validate(&review("dev", loose_pod("dev")));
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        message(&r).contains("cluster state not synced yet (RoleBinding)"),
        "{r}"
    );
    assert_eq!(r["status"]["code"], 503, "{r}");
    let m = s.metrics();
    assert!(
        m.contains("palisade_cluster_synced{kind=\"RoleBinding\"} 0")
            && m.contains("palisade_cluster_synced{kind=\"Namespace\"} 1"),
        "{m}"
    );
    assert!(
        s.log().contains("watch of the API server failed"),
        "{}",
        s.log()
    );
    // once the kind can be listed, the backoff retries and the server syncs
    api.state.lock().unwrap().faults.forbidden.clear();
    s.wait_ready();
    let r = s.validate(&review("dev", loose_pod("dev")));
    assert_eq!(r["allowed"], true, "{r}");
}

fn binding(role: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "ops", "namespace": "shop"},
        "subjects": [{"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}})
}

#[test]
fn a_binding_is_judged_by_the_rules_of_a_role_only_the_cluster_has() {
    let api = cluster(Vec::new());
    let yaml = "profiles:\n- {name: default, action: audit}\nrules:\n  rbac-cluster-admin-binding: {action: enforce}\n  rbac-binding-missing-role: {action: enforce}\n";
    let s = serve(&api, yaml, &[]);
    s.wait_ready();
    let r = s.validate(&review("shop", binding("everything")));
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        message(&r).contains("[rbac-cluster-admin-binding]")
            && message(&r).contains("ClusterRole everything, which allows every verb"),
        "{r}"
    );
    let r = s.validate(&review("shop", binding("nowhere")));
    assert!(message(&r).contains("[rbac-binding-missing-role]"), "{r}");
    // a role the cluster narrows is judged as it is now
    api.upsert(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "everything"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    );
    let start = Instant::now();
    while s.validate(&review("shop", binding("everything")))["allowed"] != true {
        assert!(start.elapsed() < Duration::from_secs(15), "{}", s.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn image_pull_secrets_from_the_api_server_authenticate_the_verification() {
    let reg = registry_server::TestRegistry::tls_with_auth("puller", "pw-9f3k");
    let layout = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/supply/synth-two-attestors/image-oci-layout");
    reg.push_layout(&layout, "v1", "demo/app:v1", Some("puller:pw-9f3k"));
    let ca = reg.ca_pem.clone().unwrap();
    let image = format!("{}/demo/app:v1", reg.host);
    let key = palisade_images::SigningKey::generate();
    let signer = palisade_images::Registry::new(palisade_images::RegistryOptions {
        ca_pems: vec![ca.clone()],
        credentials: [(reg.host.clone(), ("puller".into(), "pw-9f3k".into()))].into(),
        ..Default::default()
    });
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(palisade_images::sign::sign_legacy(
            &signer,
            &palisade_images::ImageRef::parse(&image).unwrap(),
            &key,
        ))
        .unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("puller:pw-9f3k");
    let config = format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, reg.host);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let secret = |name: &str, kind: &str, data: Value| {
        json!({"apiVersion": "v1", "kind": "Secret", "type": kind,
            "metadata": {"name": name, "namespace": "dev"}, "data": data})
    };
    let secrets = kind(
        "",
        "Secret",
        true,
        vec![
            secret(
                "regcred",
                "kubernetes.io/dockerconfigjson",
                json!({".dockerconfigjson": b64(&config)}),
            ),
            secret("opaque", "Opaque", json!({"password": b64("pw-9f3k")})),
        ],
    );
    let accounts = kind(
        "",
        "ServiceAccount",
        true,
        vec![json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "builder", "namespace": "dev"},
            "imagePullSecrets": [{"name": "regcred"}]})],
    );
    let api = cluster(vec![secrets, accounts]);
    let yaml = format!(
        "profiles:\n- {{name: default, action: audit}}\nrules:\n  image-signature-missing: {{action: enforce}}\n  image-verification-failed: {{action: enforce}}\nimages:\n- name: app\n  match: [\"127.0.0.1:*/demo/*\"]\n  attestors:\n  - {{name: build, key: build.pub}}\nregistries:\n  \"{}\": {{ca: ca.pem}}\n",
        reg.host
    );
    let public = key.public_key_pem().unwrap();
    let s = serve(
        &api,
        &yaml,
        &[("ca.pem", &ca), ("build.pub", public.as_bytes())],
    );
    s.wait_ready();
    let pod = |secrets: Value, account: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "dev"},
            "spec": {"serviceAccountName": account, "imagePullSecrets": secrets,
                "containers": [{"name": "app", "image": image}]}})
    };
    // none usable (a missing one, one of the wrong type): denied with the
    // reason (first: a verdict cached by digest is not asked again)
    let r = s.validate(&review(
        "dev",
        pod(json!([{"name": "gone"}, {"name": "opaque"}]), "default"),
    ));
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    assert!(m.contains("[image-verification-failed]"), "{r}");
    assert!(m.contains("pull secret dev/gone: Secret not found"), "{r}");
    assert!(
        m.contains("pull secret dev/opaque: Secret is of type Opaque"),
        "{r}"
    );
    // the pod's own pull secret
    let r = s.validate(&review("dev", pod(json!([{"name": "regcred"}]), "default")));
    assert_eq!(r["allowed"], true, "{r}");
    // its service account's
    let r = s.validate(&review("dev", pod(json!([]), "builder")));
    assert_eq!(r["allowed"], true, "{r}");
    // only GETs of named Secrets, never a list or watch of them
    let log = api.log();
    let reads: Vec<_> = log
        .iter()
        .filter(|l| l.path.contains("/secrets"))
        .map(|l| (l.method.clone(), l.path.clone(), l.query.clone()))
        .collect();
    assert!(
        reads.iter().all(|(m, p, q)| m == "GET"
            && p.starts_with("/api/v1/namespaces/dev/secrets/")
            && !q.contains("watch")),
        "{reads:?}"
    );
    // a second pod within the TTL is answered from the cache
    let before = reads.len();
    let r = s.validate(&review("dev", pod(json!([{"name": "regcred"}]), "default")));
    assert_eq!(r["allowed"], true, "{r}");
    let after = api
        .log()
        .iter()
        .filter(|l| l.path.contains("/secrets"))
        .count();
    assert_eq!(before, after, "cached");
    let metrics = s.metrics();
    for line in [
        "palisade_image_verifications_total{result=\"passed\"}",
        "palisade_image_verifications_total{result=\"registry_error\"} 1",
        "palisade_image_registry_errors_total 1",
        "palisade_image_cache_total{result=\"hit\"} 2",
        "palisade_image_cache_total{result=\"miss\"} 1",
        "palisade_image_verification_duration_seconds_count 4",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    let all = format!("{}\n{}\n{r}", s.log(), metrics);
    assert!(!all.contains("pw-9f3k"), "the password never appears");
    assert!(!all.contains(&auth), "nor its base64");
}
