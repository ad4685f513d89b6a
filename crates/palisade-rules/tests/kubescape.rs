//! Conformance with kubescape's regolibrary rule tests (testdata/audit/
//! snapshots/kubescape-regolibrary-rule-tests): for the kube-apiserver
//! controls that Palisade's `cluster` rules also check, every test case's
//! inputs are evaluated with the `cluster` profile, and the number of
//! objects a Palisade rule reports must equal the number of alerts
//! kubescape expects (`expected.json`).
//!
//! kubescape's host-scanner `ControlPlaneInfo` inputs carry the API
//! server's encryption configuration file (base64); the test gives that file
//! to Palisade as the `EncryptionConfiguration` object it is, as a user
//! would. Not compared: `exposure-to-internet` (kubescape also alerts on
//! Ingress routes, which Palisade treats as the intended way in) and
//! `internal-networking` (kubescape accepts any NetworkPolicy in the
//! namespace, Palisade asks for default deny in both directions).

use palisade_core::yaml::parse_stream;
use palisade_core::{Config, Inventory, PolicySet, Resource};
use palisade_rules::{profile, ProfileOptions};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// kubescape rule directory -> Palisade rule.
const SUITES: [(&str, &str); 7] = [
    (
        "ensure-that-the-api-server-encryption-providers-are-appropriately-configured",
        "secrets-not-encrypted-at-rest",
    ),
    (
        "ensure-that-the-api-server-anonymous-auth-argument-is-set-to-false",
        "apiserver-anonymous-auth",
    ),
    (
        "ensure-that-the-api-server-authorization-mode-argument-includes-RBAC",
        "apiserver-authorization-mode",
    ),
    (
        "ensure-that-the-api-server-encryption-provider-config-argument-is-set-as-appropriate",
        "secrets-not-encrypted-at-rest",
    ),
    (
        "ensure-that-the-api-server-profiling-argument-is-set-to-false",
        "apiserver-profiling",
    ),
    ("etcd-encryption-native", "secrets-not-encrypted-at-rest"),
    (
        "k8s-audit-logs-enabled-native",
        "apiserver-audit-log-missing",
    ),
];

/// Cases where Palisade disagrees on purpose, with the reason.
const ALLOWED: [(&str, &str); 2] = [
    (
        "k8s-audit-logs-enabled-native/rke2-args",
        "kubescape accepts --audit-policy-file alone; without --audit-log-path (or a webhook) \
         the API server writes no audit log, and CIS 1.2.16 asks for --audit-log-path",
    ),
    (
        "k8s-audit-logs-enabled-native/test-passed",
        "same: only --audit-policy-file is set",
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/audit/snapshots/kubescape-regolibrary-rule-tests")
}

fn sorted_dir(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// The objects Palisade reports with `rule` in the case's inputs.
fn reported(set: &PolicySet, case: &Path, rule: &str) -> usize {
    let mut resources = Vec::new();
    for file in sorted_dir(&case.join("input")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let name: Arc<str> = Arc::from(file.display().to_string());
        for doc in parse_stream(&text) {
            let doc = doc.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if let Some(config) = encryption_file(&doc.value) {
                for doc in parse_stream(&config) {
                    let doc = doc.unwrap();
                    resources.extend(
                        Resource::from_document(doc, &name)
                            .into_iter()
                            .map(Arc::new),
                    );
                }
            }
            resources.extend(
                Resource::from_document(doc, &name)
                    .into_iter()
                    .map(Arc::new),
            );
        }
    }
    let inventory = Inventory::new(resources);
    let now = "2026-11-29T00:00:00Z".parse().unwrap();
    let objects: HashSet<String> = set
        .evaluate_inventory(&inventory, now)
        .into_iter()
        .flat_map(|e| e.findings)
        .filter(|f| &*f.rule == rule)
        .map(|f| format!("{} {}", f.where_(), f.resource))
        .collect();
    objects.len()
}

/// The encryption configuration file inside a kubescape `ControlPlaneInfo`.
fn encryption_file(v: &serde_json::Value) -> Option<String> {
    use base64::Engine as _;
    if v["kind"] != "ControlPlaneInfo" {
        return None;
    }
    let content = v["data"]["APIServerInfo"]["encryptionProviderConfigFile"]["content"].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[test]
fn apiserver_controls_agree_with_kubescape() {
    let rules = profile("cluster", &ProfileOptions::default()).unwrap();
    let set = PolicySet::builder(Config::default())
        .rules(rules)
        .build()
        .unwrap();
    let mut cases = 0;
    let mut wrong = Vec::new();
    for (suite, rule) in SUITES {
        for case in sorted_dir(&root().join(suite).join("test")) {
            let expected: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap())
                    .unwrap();
            let alerts = expected.as_array().map_or(0, Vec::len);
            let got = reported(&set, &case, rule);
            cases += 1;
            let id = format!("{suite}/{}", case.file_name().unwrap().to_string_lossy());
            if ALLOWED.iter().any(|(c, _)| *c == id) {
                assert_ne!(got, alerts, "{id} now agrees: take it off the allowlist");
                continue;
            }
            if got != alerts {
                wrong.push(format!(
                    "{suite}/{}: kubescape {alerts} alerts, {rule} reported {got} objects",
                    case.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert_eq!(cases, 26, "every case ran");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
