//! `palisade serve`, `palisade certs` and `palisade webhook-config` through
//! the real binary: the server on an ephemeral port, reviews over TLS.

mod common;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
}

fn certs(dir: &Path) {
    let out = bin()
        .args([
            "certs",
            "--service",
            "palisade",
            "--namespace",
            "palisade-system",
            "--san",
            "localhost",
            "--out-dir",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `palisade serve`, killed on drop.
struct Served {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
    ca: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, extra: &[&str]) -> Served {
    let mut child = bin()
        .arg("serve")
        .arg("--tls-cert")
        .arg(dir.join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.join("tls.key"))
        .args(["--addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0"])
        .args(extra)
        .current_dir(dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let l = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("palisade: listening on https://") {
                let _ = tx.send(a.to_string());
            }
            let mut g = l.lock().unwrap();
            g.push_str(&line);
            g.push('\n');
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("server did not start: {}", log.lock().unwrap()));
    Served {
        child,
        addr,
        log,
        ca: dir.join("ca.crt"),
    }
}

impl Served {
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        common::https::post(&self.ca, &self.addr, path, body)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

fn review(uid: &str, object: Value) -> Value {
    let kind = object["kind"].clone();
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid, "kind": {"group": "", "version": "v1", "kind": kind}, "operation": "CREATE",
        "namespace": "team-a", "userInfo": {"username": "alice"}, "object": object}})
}

fn host_network_pod() -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "team-a"},
        "spec": {"hostNetwork": true, "containers": [{"name": "app", "image": "nginx"}]}})
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn serve_without_config_runs_the_default_profile() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    let s = serve(dir.path(), &[]);
    let (status, v) = s.post("/validate", &review("u1", host_network_pod()));
    assert_eq!(status, 200);
    let r = &v["response"];
    assert_eq!(
        (r["uid"].as_str(), r["allowed"].as_bool()),
        (Some("u1"), Some(false))
    );
    assert_eq!(r["status"]["code"], 403);
    assert!(r["status"]["message"]
        .as_str()
        .unwrap()
        .contains("[host-network] high"));
    // Medium and low findings are warnings.
    assert!(
        r["warnings"].to_string().contains("image-latest-tag"),
        "{r}"
    );
}

#[test]
fn sighup_reloads_and_a_bad_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(&cfg, "enforceAt: high\n").unwrap();
    // Polling is effectively off: only SIGHUP reloads.
    let s = serve(
        dir.path(),
        &["--config", "palisade.yaml", "--reload-interval", "3600"],
    );
    let denied = |s: &Served| {
        s.post("/validate", &review("x", host_network_pod())).1["response"]["allowed"] == false
    };
    assert!(denied(&s));
    std::fs::write(&cfg, "enforceAt: critical\n").unwrap();
    s.signal("-HUP");
    wait_for("the reload", || !denied(&s));
    std::fs::write(&cfg, "enforceAt: severe\n").unwrap();
    s.signal("-HUP");
    wait_for("the refusal", || {
        s.log().contains("new policy configuration refused")
    });
    let log = s.log();
    assert!(
        log.contains("palisade.yaml:1:") && log.contains("enforceAt"),
        "{log}"
    );
    assert!(!denied(&s), "the previous policy stays in force");
}

#[test]
fn json_logs_one_line_per_decision_without_secret_values_and_clean_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    let mut s = serve(
        dir.path(),
        &["--log-format", "json", "--log-level", "debug"],
    );
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "team-a"},
        "data": {"password": "aHVudGVyMi1zM2NyZXQ="}, "stringData": {"token": "hunter2-s3cret"}});
    let (status, v) = s.post("/validate", &review("sec", secret));
    assert_eq!(status, 200, "{v}");
    wait_for("the decision line", || s.log().contains("\"uid\":\"sec\""));
    s.signal("-TERM");
    let code = s.child.wait().unwrap();
    assert!(code.success(), "SIGTERM is a clean shutdown: {code:?}");
    std::thread::sleep(Duration::from_millis(100));
    let log = s.log();
    let line = log.lines().find(|l| l.contains("\"uid\":\"sec\"")).unwrap();
    let entry: Value = serde_json::from_str(line).unwrap();
    assert_eq!(entry["level"], "DEBUG");
    assert_eq!(entry["decision"], "allowed");
    assert_eq!(entry["kind"], "Secret");
    assert!(
        !log.contains("hunter2") && !log.contains("aHVudGVyMi"),
        "{log}"
    );
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn bad_config_and_tls_files_fail_at_start() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    std::fs::write(dir.path().join("bad.yaml"), "webhook:\n  mutate: maybe\n").unwrap();
    let out = bin()
        .args([
            "serve",
            "--config",
            "bad.yaml",
            "--tls-cert",
            "tls.crt",
            "--tls-key",
            "tls.key",
            "--addr",
            "127.0.0.1:0",
            "--health-addr",
            "off",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:2:") && err.contains("webhook.mutate"),
        "{err}"
    );
    let out = bin()
        .args([
            "serve",
            "--tls-cert",
            "ca.key",
            "--tls-key",
            "tls.key",
            "--addr",
            "127.0.0.1:0",
            "--health-addr",
            "off",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ca.key: no CERTIFICATE"));
}

/// The documents `webhook-config` prints (JSON, which is YAML).
fn documents(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .split("\n---\n")
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

#[test]
fn certs_are_private_and_the_ca_signs_no_ca() {
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // An existing key file keeps its mode unless it is set explicitly.
        for f in ["ca.key", "tls.key"] {
            std::fs::write(dir.path().join(f), "old").unwrap();
            std::fs::set_permissions(dir.path().join(f), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }
        certs(dir.path());
        for f in ["ca.key", "tls.key"] {
            let mode = std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}: {mode:o}");
        }
    }
    #[cfg(not(unix))]
    certs(dir.path());
    let pem = std::fs::read(dir.path().join("ca.crt")).unwrap();
    let der = CertificateDer::from_pem_slice(&pem).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&der).unwrap();
    let bc = ca.basic_constraints().unwrap().unwrap().value;
    assert!(bc.ca);
    assert_eq!(bc.path_len_constraint, Some(0));
}

#[test]
fn webhook_config_prints_the_configurations() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    std::fs::write(
        dir.path().join("vap.yaml"),
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: ing}\nspec:\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [networking.k8s.io], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [ingresses]}\n  validations: [{expression: 'true'}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("palisade.yaml"),
        "podTemplates:\n- {apiVersion: example.com/v1, kind: Trainer, paths: [spec.template]}\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "webhook-config",
            "--service",
            "palisade",
            "--namespace",
            "sec",
        ])
        .args(["--service-account", "palisade-sa", "--ca-bundle"])
        .arg(dir.path().join("ca.crt"))
        .args(["--with-connect", "--timeout-seconds", "3", "--policy"])
        .arg(dir.path().join("vap.yaml"))
        .args(["--resource", "example.com/widgets", "--config"])
        .arg(dir.path().join("palisade.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = documents(&out.stdout);
    assert_eq!(
        docs.len(),
        1,
        "mutation is opt-in: no mutating configuration"
    );
    let v = &docs[0];
    assert_eq!(v["kind"], "ValidatingWebhookConfiguration");
    let hook = &v["webhooks"][0];
    assert_eq!(hook["sideEffects"], "None");
    assert_eq!(hook["timeoutSeconds"], 3);
    assert_eq!(hook["failurePolicy"], "Fail");
    assert_eq!(hook["admissionReviewVersions"], json!(["v1"]));
    assert_eq!(hook["clientConfig"]["service"]["path"], "/validate");
    assert_eq!(
        hook["namespaceSelector"]["matchExpressions"][0],
        json!({"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["sec", "kube-system"]})
    );
    assert!(hook["matchConditions"][0]["expression"]
        .as_str()
        .unwrap()
        .contains("'system:serviceaccount:sec:palisade-sa'"));
    let resources: Vec<&str> = hook["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["resources"].as_array().unwrap())
        .map(|r| r.as_str().unwrap())
        .collect();
    for want in [
        "pods",
        "pods/ephemeralcontainers",
        "deployments",
        "pods/exec",
        "ingresses",
        "widgets",
        // custom resources with pod templates: built in, and configured
        "rollouts",
        "jobsets",
        "mpijobs",
        "workflows",
        "trainers",
    ] {
        assert!(resources.contains(&want), "{want} not in {resources:?}");
    }
    let trainers = hook["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resources"] == json!(["trainers"]))
        .expect("a rule for the configured kind");
    assert_eq!(trainers["apiGroups"], json!(["example.com"]));
    assert_eq!(trainers["apiVersions"], json!(["v1"]));

    let out = bin()
        .args([
            "webhook-config",
            "--service",
            "palisade",
            "--namespace",
            "sec",
            "--ca-bundle",
        ])
        .arg(dir.path().join("ca.crt"))
        .args(["--mutating", "--exclude-kube-system", "false"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let docs = documents(&out.stdout);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1]["kind"], "MutatingWebhookConfiguration");
    assert!(
        !docs[1]["webhooks"][0]["rules"]
            .to_string()
            .contains("\"jobsets\""),
        "mutation patches the built-in pod kinds only: {}",
        docs[1]
    );
    assert_eq!(
        docs[1]["webhooks"][0]["failurePolicy"], "Ignore",
        "mutation never blocks"
    );
    assert_eq!(
        docs[0]["webhooks"][0]["namespaceSelector"]["matchExpressions"][0]["values"],
        json!(["sec"])
    );
    let out = bin()
        .args([
            "webhook-config",
            "--service",
            "p",
            "--namespace",
            "n",
            "--ca-bundle",
        ])
        .arg(dir.path().join("tls.key"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no PEM CERTIFICATE"));
}

#[test]
fn profile_actions_warn_audit_or_enforce_and_a_rule_action_wins() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    let decide = |config: &str| {
        std::fs::write(dir.path().join("palisade.yaml"), config).unwrap();
        let s = serve(dir.path(), &["--config", "palisade.yaml"]);
        let (status, v) = s.post("/validate", &review("p1", host_network_pod()));
        assert_eq!(status, 200);
        v["response"].clone()
    };
    // The profile in warn: admitted, with the PSS findings as warnings.
    let r = decide("profiles:\n- name: pss-restricted\n  action: warn\n");
    assert_eq!(r["allowed"], true, "{r}");
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("[pss-host-namespaces]"), "{r}");
    assert!(warnings.contains("hostNetwork=true"), "{r}");
    // In audit: admitted, findings in auditAnnotations only.
    let r = decide("profiles:\n- {name: pss-restricted, action: audit}\n");
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r["warnings"].is_null(), "{r}");
    assert!(
        r["auditAnnotations"]["pss-host-namespaces"].is_string(),
        "{r}"
    );
    // In enforce: denied even where severity alone would only warn.
    let r = decide("enforceAt: critical\nprofiles:\n- {name: pss-restricted, action: enforce}\n");
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["status"]["code"], 403, "{r}");
    assert!(
        r["status"]["message"]
            .to_string()
            .contains("[pss-host-namespaces]"),
        "{r}"
    );
    // A rule's own action wins over its profile's.
    let r = decide(
        "profiles:\n- {name: pss-restricted, action: warn}\nrules:\n  pss-host-namespaces: {action: enforce}\n",
    );
    assert_eq!(r["allowed"], false, "{r}");
    let msg = r["status"]["message"].to_string();
    assert!(msg.contains("[pss-host-namespaces]"), "{r}");
    assert!(
        !msg.contains("[pss-seccomp-profile]"),
        "others still warn: {r}"
    );
    assert!(r["warnings"].to_string().contains("pss-"), "{r}");
}

#[test]
fn invalid_profile_action_fails_at_start_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    std::fs::write(
        dir.path().join("palisade.yaml"),
        "profiles:\n- default\n- name: pss-restricted\n  action: block\n",
    )
    .unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args([
            "serve",
            "--config",
            "palisade.yaml",
            "--tls-cert",
            "tls.crt",
        ])
        .args([
            "--tls-key",
            "tls.key",
            "--addr",
            "127.0.0.1:0",
            "--health-addr",
            "off",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("palisade.yaml:4:") && err.contains("profiles[1].action"),
        "{err}"
    );
}

/// CEL policies read the whole admission request (`request.uid`,
/// `request.resource`...): the webhook still builds it for them although
/// the built-in rules go without.
#[test]
fn cel_policies_read_the_request_that_built_in_rules_do_without() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    std::fs::write(
        dir.path().join("vap.yaml"),
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-bad-uid}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}]
  validations:
  - expression: "request.uid != 'bad-uid' && request.resource.resource == 'pods'"
    messageExpression: "'request ' + request.uid + ' for ' + request.resource.resource + ' refused'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-bad-uid}
spec: {policyName: no-bad-uid, validationActions: [Deny]}
"#,
    )
    .unwrap();
    let s = serve(dir.path(), &["--profile", "rbac", "--policy", "vap.yaml"]);
    let with_resource = |uid: &str| {
        let mut r = review(uid, host_network_pod());
        r["request"]["resource"] = json!({"group": "", "version": "v1", "resource": "pods"});
        r
    };
    let (_, v) = s.post("/validate", &with_resource("good-uid"));
    assert_eq!(v["response"]["allowed"], true, "{v}");
    let (_, v) = s.post("/validate", &with_resource("bad-uid"));
    assert_eq!(v["response"]["allowed"], false, "{v}");
    assert!(
        v["response"]["status"]["message"]
            .to_string()
            .contains("request bad-uid for pods refused"),
        "{v}"
    );
}

/// Issue 14: a label the requester writes does not make an object
/// Kubernetes' own at admission. The binding of cluster-admin to every
/// authenticated user, labelled `kubernetes.io/bootstrapping: rbac-defaults`,
/// is denied as critical.
#[test]
fn a_bootstrapping_label_does_not_admit_cluster_admin_for_everyone() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    let s = serve(dir.path(), &[]);
    let binding = |group: &str| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]})
    };
    let review = |uid: &str, object: Value| {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": uid, "kind": {"group": "rbac.authorization.k8s.io", "version": "v1", "kind": "ClusterRoleBinding"},
            "resource": {"group": "rbac.authorization.k8s.io", "version": "v1", "resource": "clusterrolebindings"},
            "operation": "CREATE", "name": "cluster-admin", "userInfo": {"username": "alice"}, "object": object}})
    };
    let (status, v) = s.post(
        "/validate",
        &review("forged", binding("system:authenticated")),
    );
    assert_eq!(status, 200);
    let r = &v["response"];
    assert_eq!(r["allowed"], false, "{r}");
    let message = r["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("[rbac-cluster-admin-binding] critical"),
        "{r}"
    );
    // Kubernetes' own binding, the same as the bootstrap policy's, is not reported
    let (_, v) = s.post("/validate", &review("own", binding("system:masters")));
    assert!(
        !v["response"]
            .to_string()
            .contains("rbac-cluster-admin-binding"),
        "{v}"
    );
}
