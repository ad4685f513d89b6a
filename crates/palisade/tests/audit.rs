//! `palisade audit --snapshot`: the recorded cluster snapshots in
//! testdata/audit/snapshots through the real binary, PolicyReports checked
//! against the CRD schemas, and the HTML page rendered by headless Chromium.

mod common;

use common::{corpora, palisade, write};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn snapshot(name: &str) -> PathBuf {
    corpora().join("audit/snapshots").join(name)
}

/// The kubehound kind cluster (v1.27.1 nodes and API server) with the
/// `kubectl version -o json` output such a cluster prints.
fn kind_cluster(dir: &Path) -> Vec<String> {
    write(
        dir,
        "version.json",
        r#"{"clientVersion": {"gitVersion": "v1.30.0", "major": "1", "minor": "30"},
           "serverVersion": {"gitVersion": "v1.27.1", "major": "1", "minor": "27", "platform": "linux/amd64"}}"#,
    );
    vec![
        "--snapshot".into(),
        snapshot("kubehound-kind-1.27").display().to_string(),
        "--snapshot".into(),
        dir.join("version.json").display().to_string(),
    ]
}

fn args<'a>(base: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["audit"];
    v.extend(base.iter().map(String::as_str));
    v.extend(more);
    v
}

fn rules_of(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["resource"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_kind_snapshot_gives_cluster_findings_and_says_what_was_not_audited() {
    let dir = tempfile::tempdir().unwrap();
    let base = kind_cluster(dir.path());
    let out = palisade(
        dir.path(),
        &args(&base, &["-f", "json", "--profile", "cluster"]),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    let found = rules_of(&doc);
    let has = |rule: &str, name: &str| found.iter().any(|(r, n)| r == rule && n == name);
    assert!(has("cluster-version-outdated", "cluster"), "{found:?}");
    assert!(has("cluster-version-unsupported", "cluster"));
    for node in [
        "kubehound.test.local-control-plane",
        "kubehound.test.local-worker",
    ] {
        assert!(has("node-version-outdated", node), "{node}");
    }
    let api = "kube-apiserver-kubehound.test.local-control-plane";
    for rule in [
        "apiserver-anonymous-auth",
        "apiserver-profiling",
        "apiserver-audit-log-missing",
        "secrets-not-encrypted-at-rest",
    ] {
        assert!(has(rule, api), "{rule}: {found:?}");
    }
    // kind runs --authorization-mode=Node,RBAC; its nodes have private addresses.
    assert!(!found
        .iter()
        .any(|(r, _)| r == "apiserver-authorization-mode" || r == "node-public-ip"));
    assert!(
        !found.iter().any(|(r, _)| r == "node-version-skew"),
        "same minor"
    );
    let message = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "cluster-version-outdated")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("v1.27.1 is 15 patches behind v1.27.16"),
        "{message}"
    );
    // No Namespace objects in this snapshot: said, not skipped silently.
    let not: Vec<&str> = doc["notAudited"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["what"].as_str().unwrap())
        .collect();
    assert_eq!(not, ["Namespaces"]);
    assert_eq!(doc["releaseData"]["asOf"], "2026-08-20");
    assert!(doc["releaseData"]["ageDays"].as_i64().unwrap() >= 100);
    assert_eq!(doc["summary"]["errors"], 0);
}

#[test]
fn releases_file_replaces_the_shipped_data_and_bad_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let base = kind_cluster(dir.path());
    let shipped = corpora().join("../crates/palisade-rules/data/k8s-releases.json");
    let mut data: Value = serde_json::from_str(&std::fs::read_to_string(shipped).unwrap()).unwrap();
    data["asOf"] = json!("2023-05-01");
    for m in data["minors"].as_array_mut().unwrap() {
        if m["minor"] == "1.27" {
            m["latestPatch"] = json!("1.27.1");
            m["endOfLife"] = json!("2024-06-28");
        }
    }
    write(dir.path(), "releases.json", &data.to_string());
    let out = palisade(
        dir.path(),
        &args(
            &base,
            &[
                "-f",
                "json",
                "--profile",
                "cluster",
                "--releases",
                "releases.json",
            ],
        ),
    );
    let doc = out.json();
    let found = rules_of(&doc);
    assert!(
        !found.iter().any(|(r, _)| r == "cluster-version-outdated"),
        "on the latest patch of this data"
    );
    assert_eq!(doc["releaseData"]["asOf"], "2023-05-01");
    write(
        dir.path(),
        "bad.json",
        r#"{"source": "x", "asOf": "yesterday", "minors": [], "kubeletSkew": {"source": "", "olderMinors": []}}"#,
    );
    let out = palisade(dir.path(), &args(&base, &["--releases", "bad.json"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("bad.json: asOf: not a YYYY-MM-DD date"),
        "{}",
        out.stderr
    );
}

#[test]
fn sonobuoy_array_files_are_read_and_items_without_kinds_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s121 = snapshot("sonobuoy-kind-1.21").display().to_string();
    let out = palisade(dir.path(), &["audit", "--snapshot", &s121, "-f", "json"]);
    let doc = out.json();
    assert_eq!(doc["summary"]["errors"], 0, "{}", out.stderr);
    assert!(doc["summary"]["resources"].as_u64().unwrap() > 700);
    let found = rules_of(&doc);
    assert!(found
        .iter()
        .any(|(r, _)| r == "namespace-missing-default-deny"));
    assert!(found.iter().any(|(r, _)| r == "node-version-outdated"));
    let s18 = snapshot("sonobuoy-aws-kubeadm-1.8").display().to_string();
    let out = palisade(dir.path(), &["audit", "--snapshot", &s18, "-f", "json"]);
    assert_eq!(out.code, 2);
    let doc = out.json();
    let errors = doc["errors"].as_array().unwrap();
    assert!(errors
        .iter()
        .any(|e| e["file"].as_str().unwrap().ends_with("Nodes.json")
            && e["message"]
                .as_str()
                .unwrap()
                .contains("array items without apiVersion and kind")));
}

/// The openAPIV3Schema of `version` in a CRD file, through Palisade's own YAML reader.
fn crd_schema(rel: &str, version: &str) -> Value {
    let text = std::fs::read_to_string(corpora().join("audit/policyreport").join(rel)).unwrap();
    let doc = palisade_core::yaml::parse_stream(&text)
        .remove(0)
        .unwrap()
        .value;
    doc["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap()["schema"]["openAPIV3Schema"]
        .clone()
}

fn validate(dir: &Path, schemas: Value, list: &str) {
    let s = write(dir, "schemas.json", &schemas.to_string());
    let l = write(dir, "list.json", list);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/crd_schema.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(s)
        .arg(l)
        .output()
        .expect("python3 is needed for the CRD schema test");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
}

#[test]
fn policy_reports_are_capped_complete_and_valid_against_both_crds() {
    let dir = tempfile::tempdir().unwrap();
    let base = kind_cluster(dir.path());
    let json_out = palisade(dir.path(), &args(&base, &["-f", "json"])).json();
    let total = json_out["summary"]["findings"].as_u64().unwrap();
    let out = palisade(
        dir.path(),
        &args(&base, &["-f", "policyreport", "--max-results", "5"]),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let list = out.json();
    let items = list["items"].as_array().unwrap();
    assert!(items.len() >= 3, "cluster report and namespaces");
    assert_eq!(items[0]["kind"], "ClusterPolicyReport");
    let mut counted = 0;
    for r in items {
        let results = r["results"].as_array().unwrap();
        assert!(results.len() <= 5);
        let s = &r["summary"];
        let n = s["fail"].as_u64().unwrap() + s["warn"].as_u64().unwrap();
        counted += n;
        if n > 5 {
            let omitted: u64 = r["metadata"]["annotations"]["palisade.io/results-omitted"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(omitted, n + s["skip"].as_u64().unwrap() - 5);
        }
    }
    assert_eq!(counted, total, "summaries count every finding");
    let wg = "wg-policy-prototypes/v1alpha2/wgpolicyk8s.io_";
    validate(
        dir.path(),
        json!({
            "PolicyReport": crd_schema(&format!("{wg}policyreports.yaml"), "v1alpha2"),
            "ClusterPolicyReport": crd_schema(&format!("{wg}clusterpolicyreports.yaml"), "v1alpha2"),
        }),
        &out.stdout,
    );
    let out = palisade(
        dir.path(),
        &args(
            &base,
            &[
                "-f",
                "policyreport",
                "--report-api",
                "openreports.io/v1alpha1",
            ],
        ),
    );
    assert_eq!(out.json()["items"][1]["kind"], "Report");
    validate(
        dir.path(),
        json!({
            "Report": crd_schema("openreports/openreports.io_reports.yaml", "v1alpha1"),
            "ClusterReport": crd_schema("openreports/openreports.io_clusterreports.yaml", "v1alpha1"),
        }),
        &out.stdout,
    );
}

/// Runs Debian's headless Chromium on `page` with `extra` flags.
fn chromium(profile: &Path, page: &Path, extra: &[&str]) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium is needed for the HTML test (.ci/run installs it)")
}

#[test]
fn the_html_page_renders_in_chromium_with_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let base = kind_cluster(dir.path());
    let doc = palisade(dir.path(), &args(&base, &["-f", "json"])).json();
    let out = palisade(
        dir.path(),
        &args(&base, &["-f", "html", "-o", "audit.html"]),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let page = dir.path().join("audit.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external fetch"
    );
    let dom = chromium(&dir.path().join("profile"), &page, &["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    let count = |id: &str| -> String {
        let at = dom
            .find(&format!("id=\"{id}\">"))
            .unwrap_or_else(|| panic!("{id} not in the DOM:\n{dom}"));
        let rest = &dom[at + id.len() + 6..];
        rest[..rest.find('<').unwrap()].to_string()
    };
    let s = &doc["summary"];
    assert_eq!(count("count-total"), s["findings"].to_string());
    for sev in ["critical", "high", "medium", "low", "info"] {
        assert_eq!(
            count(&format!("count-{sev}")),
            s["bySeverity"][sev].to_string(),
            "{sev}"
        );
    }
    // The filter script ran: every row shown, and counted.
    assert_eq!(count("shown"), s["findings"].to_string());
    assert!(dom.contains("id=\"chart-namespace\"") && dom.contains("data-label=\"kube-system\""));
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("audit-report.png");
    let _ = std::fs::remove_file(&shot);
    let out = chromium(
        &dir.path().join("profile2"),
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
        ],
    );
    assert!(shot.is_file(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
}
