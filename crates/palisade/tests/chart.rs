//! `charts/palisade` rendered without Helm (packaging/chart-render: Go's
//! text/template with the Sprig functions the chart uses and YAML through
//! sigs.k8s.io/yaml, built here from Debian's golang-go and
//! golang-k8s-sigs-yaml-dev in GOPATH mode) gives the objects of
//! `palisade install --print` with the same settings, and scans clean.

mod common;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Builds the renderer once per test run.
fn renderer() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chart-render");
        std::fs::create_dir_all(&tmp).unwrap();
        let bin = tmp.join("chart-render");
        let out = Command::new("go")
            .args(["build", "-o"])
            .arg(&bin)
            .arg("main.go")
            .current_dir(root().join("packaging/chart-render"))
            .env("GO111MODULE", "off")
            .env("GOPATH", "/usr/share/gocode")
            .env("GOCACHE", tmp.join("go-cache"))
            .output()
            .expect("`go` (Debian golang-go, installed by .ci/run) is needed to render the chart");
        assert!(
            out.status.success(),
            "go build: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        bin
    })
}

/// Renders the chart with `values` (YAML) over values.yaml; `format` json or yaml.
fn render(dir: &Path, values: &str, format: &str) -> Result<String, String> {
    let file = common::write(dir, "values.yaml", values);
    let out = Command::new(renderer())
        .args(["-o", format, "-f"])
        .arg(file)
        .arg(root().join("charts/palisade"))
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Objects by (kind, name), with what differs by design made equal: the
/// generated keys and certificates, and the managed-by label.
fn normalised(objects: &[Value]) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for o in objects {
        let mut o = o.clone();
        if let Some(l) = o["metadata"]["labels"].as_object_mut() {
            assert!(l.remove("app.kubernetes.io/managed-by").is_some(), "{o}");
        }
        if o["kind"] == "Secret" {
            for v in o["data"].as_object_mut().unwrap().values_mut() {
                assert!(v.as_str().is_some_and(|s| s.len() > 100));
                *v = json!("(generated)");
            }
        }
        if let Some(hooks) = o["webhooks"].as_array_mut() {
            for h in hooks {
                if let Some(ca) = h["clientConfig"].get_mut("caBundle") {
                    *ca = json!("(generated)");
                }
            }
        }
        let key = (
            o["kind"].as_str().unwrap().to_string(),
            o["metadata"]["name"].as_str().unwrap().to_string(),
        );
        assert!(out.insert(key.clone(), o).is_none(), "{key:?} twice");
    }
    out
}

fn install(dir: &Path, args: &[&str]) -> Vec<Value> {
    let image = format!("registry.example/palisade:0.1.0@{DIGEST}");
    let mut all = vec!["install", "--print", "--image", &image];
    all.extend_from_slice(args);
    let out = common::palisade(dir, &all);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()["items"].as_array().unwrap().clone()
}

fn image_values() -> String {
    format!(
        "image: {{repository: registry.example/palisade, tag: \"0.1.0\", digest: \"{DIGEST}\"}}\n"
    )
}

fn assert_same(dir: &Path, values: &str, args: &[&str]) {
    assert_same_with(dir, values, args, &[]);
}

/// [`assert_same`], the rendered chart's scan giving exactly the findings
/// of `rules` (the ones a mode is known to cost).
fn assert_same_with(dir: &Path, values: &str, args: &[&str], rules: &[&str]) {
    let rendered: Vec<Value> = serde_json::from_str(&render(dir, values, "json").unwrap()).unwrap();
    let chart = normalised(&rendered);
    let cli = normalised(&install(dir, args));
    assert_eq!(
        chart.keys().collect::<Vec<_>>(),
        cli.keys().collect::<Vec<_>>(),
        "{args:?}"
    );
    for (k, v) in &cli {
        assert_eq!(&chart[k], v, "{k:?} differs ({args:?})");
    }
    // The rendered YAML itself (not the converted JSON) scans clean.
    let yaml = render(dir, values, "yaml").unwrap();
    let file = common::write(dir, "rendered.yaml", &yaml);
    let out = common::palisade(dir, &["scan", "--format", "json", file.to_str().unwrap()]);
    let doc = out.json();
    let found: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    let code = if rules.is_empty() { 0 } else { 1 };
    assert_eq!(
        (out.code, found, &doc["errors"]),
        (code, rules.to_vec(), &json!([])),
        "{args:?}"
    );
    assert_eq!(
        doc["summary"]["resources"],
        json!(cli.len()),
        "{}",
        doc["summary"]
    );
}

#[test]
fn default_values_render_the_objects_of_install_print() {
    let dir = tempfile::tempdir().unwrap();
    assert_same(dir.path(), &image_values(), &[]);
}

#[test]
fn every_value_renders_what_the_matching_flags_print() {
    let dir = tempfile::tempdir().unwrap();
    let values = format!(
        "{}namespace: guard\nreplicas: 2\nfailurePolicy: Ignore\nexcludedNamespaces: [legacy, ci]\n\
         certManager: {{enabled: true}}\nregistryCIDRs: [192.0.2.0/24]\n\
         audit: {{enabled: true, apiServerCIDRs: [10.0.0.1/32, 10.0.0.2/32]}}\n",
        image_values()
    );
    let args = [
        "--namespace",
        "guard",
        "--replicas",
        "2",
        "--failure-policy",
        "ignore",
        "--exclude-namespace",
        "ci",
        "--exclude-namespace",
        "legacy",
        "--cert-manager",
        "--registry-cidr",
        "192.0.2.0/24",
        "--with-audit",
        "--api-server-cidr",
        "10.0.0.1/32",
        "--api-server-cidr",
        "10.0.0.2/32",
    ];
    // The chart keeps the order given; install sorts: give it sorted.
    let values = values.replace("[legacy, ci]", "[ci, legacy]");
    assert_same(dir.path(), &values, &args);
}

#[test]
fn cluster_mode_renders_what_install_cluster_prints() {
    let dir = tempfile::tempdir().unwrap();
    let values = format!(
        "{}cluster: {{enabled: true}}\napiServerCIDRs: [10.0.0.1/32]\n",
        image_values()
    );
    // The one finding the mode costs (see install.rs): a get of any Secret.
    let costs = ["rbac-secrets-access"];
    assert_same_with(
        dir.path(),
        &values,
        &["--cluster", "--api-server-cidr", "10.0.0.1/32"],
        &costs,
    );
    let values = format!(
        "{}cluster: {{enabled: true}}\naudit: {{enabled: true, apiServerCIDRs: [10.0.0.1/32]}}\n",
        image_values()
    );
    assert_same_with(
        dir.path(),
        &values,
        &[
            "--cluster",
            "--with-audit",
            "--api-server-cidr",
            "10.0.0.1/32",
        ],
        &costs,
    );
    let values = format!("{}cluster: {{enabled: true}}\n", image_values());
    let e = render(dir.path(), &values, "json").unwrap_err();
    assert!(e.contains("cluster.enabled needs apiServerCIDRs"), "{e}");
}

#[test]
fn policies_go_into_a_config_map_read_with_policy() {
    let dir = tempfile::tempdir().unwrap();
    let values = format!(
        "{}policies:\n  labels.yaml: |\n    apiVersion: admissionregistration.k8s.io/v1\n    kind: ValidatingAdmissionPolicy\n    metadata: {{name: team-label}}\n",
        image_values()
    );
    let rendered: Vec<Value> =
        serde_json::from_str(&render(dir.path(), &values, "json").unwrap()).unwrap();
    let cm = rendered
        .iter()
        .find(|o| o["metadata"]["name"] == "palisade-policies")
        .unwrap();
    assert!(cm["data"]["labels.yaml"]
        .as_str()
        .unwrap()
        .contains("team-label"));
    let d = rendered.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert!(c["args"]
        .as_array()
        .unwrap()
        .contains(&json!("--policy=/etc/palisade/policies")));
}

#[test]
fn an_unpinned_image_or_an_auditor_without_api_server_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let e = render(dir.path(), "image: {tag: latest}\n", "json").unwrap_err();
    assert!(e.contains("image.digest is required"), "{e}");
    let values = format!("{}audit: {{enabled: true}}\n", image_values());
    let e = render(dir.path(), &values, "json").unwrap_err();
    assert!(e.contains("audit.apiServerCIDRs is required"), "{e}");
}

#[test]
fn the_chart_version_is_the_workspace_version() {
    let chart = std::fs::read_to_string(root().join("charts/palisade/Chart.yaml")).unwrap();
    let v = env!("CARGO_PKG_VERSION");
    assert!(chart.contains(&format!("\nversion: {v}\n")), "{chart}");
    assert!(
        chart.contains(&format!("\nappVersion: \"{v}\"\n")),
        "{chart}"
    );
}

#[test]
fn create_namespace_false_leaves_the_namespace_to_helm() {
    let dir = tempfile::tempdir().unwrap();
    let values = format!("{}createNamespace: false\n", image_values());
    let rendered: Vec<Value> =
        serde_json::from_str(&render(dir.path(), &values, "json").unwrap()).unwrap();
    assert!(!rendered.iter().any(|o| o["kind"] == "Namespace"));
    assert!(rendered.iter().any(|o| o["kind"] == "Deployment"));
}
