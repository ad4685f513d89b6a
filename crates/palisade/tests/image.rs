//! `palisade image` and `scan --verify-images` through the real binary,
//! against a real registry (Debian's docker-registry on 127.0.0.1): the
//! four-attestor pipeline of the talk, signed by `palisade image` itself.

mod common;
#[path = "../../palisade-images/tests/it/registry_server.rs"]
mod registry_server;

use common::{write, Out};
use registry_server::TestRegistry;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("PALISADE_PASSWORD", "pipeline-secret")
        .current_dir(dir)
        .output()
        .expect("run palisade");
    Out::lossy(out)
}

fn layout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/supply/synth-two-attestors/image-oci-layout")
}

const NAMES: [&str; 4] = [
    "build",
    "vulnerability-scan",
    "dependency-review",
    "integration-test",
];

fn config(host: &str, require: &str) -> String {
    let mut y = format!("images:\n- name: shop\n  match: [\"127.0.0.1:*/demo/*\"]\n  require: {require}\n  attestors:\n");
    for n in NAMES {
        y.push_str(&format!("  - name: {n}\n    key: {n}.pub\n"));
        if n != "build" {
            y.push_str(&format!(
                "    attestation:\n      predicateType: https://example.com/{n}/v1\n"
            ));
        }
        if n == "vulnerability-scan" {
            y.push_str("      condition: \"predicate.scanner.result.criticalCount == 0\"\n");
        }
    }
    y.push_str(&format!("registries:\n  \"{host}\": {{insecure: true}}\n"));
    y
}

fn failing(out: &Out) -> Vec<String> {
    let v: Value = out.json();
    v["images"][0]["policies"][0]["attestors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["passed"] == false)
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn four_attestor_pipeline_signed_and_verified_by_palisade() {
    let reg = TestRegistry::plain();
    reg.push_layout(&layout(), "v1", "demo/shop:v1", None);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let image = format!("{}/demo/shop:v1", reg.host);
    let insecure = ["--insecure-registry", reg.host.as_str()];
    for n in NAMES {
        let out = run(d, &["image", "keygen", "--output-key-prefix", n]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(std::fs::read_to_string(d.join(format!("{n}.key")))
            .unwrap()
            .contains("ENCRYPTED SIGSTORE PRIVATE KEY"));
    }
    let again = run(d, &["image", "keygen", "--output-key-prefix", "build"]);
    assert_eq!(again.code, 2, "never overwrites a key");
    write(
        d,
        "vuln.json",
        r#"{"scanner": {"result": {"criticalCount": 0}}}"#,
    );
    write(d, "ok.json", r#"{"result": "pass"}"#);
    let sign = run(
        d,
        &[
            // The default layout: a Sigstore bundle referrer (docker-registry
            // 2.8 has no referrers API: the fallback tag).
            &["image", "sign", &image, "--key", "build.key"][..],
            &insecure,
        ]
        .concat(),
    );
    assert_eq!(sign.code, 0, "{}", sign.stderr);
    assert!(
        sign.stderr.contains("referrers fallback tag"),
        "{}",
        sign.stderr
    );
    // One attestation in cosign's legacy .att layout, one in a bundle.
    for (n, pred, layout) in [
        ("vulnerability-scan", "vuln.json", "--legacy"),
        ("dependency-review", "ok.json", ""),
    ] {
        let t = format!("https://example.com/{n}/v1");
        let key = format!("{n}.key");
        let args: Vec<&str> = [
            &[
                "image",
                "attest",
                &image,
                "--key",
                &key,
                layout,
                "--predicate",
                pred,
                "--type",
                &t,
            ][..],
            &insecure,
        ]
        .concat()
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect();
        let out = run(d, &args);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    write(d, "palisade.yaml", &config(&reg.host, "all"));
    let out = run(d, &["image", "verify", &image, "--format", "json"]);
    assert_eq!(
        out.code, 1,
        "three of four: denied\n{}{}",
        out.stdout, out.stderr
    );
    assert_eq!(failing(&out), ["integration-test"]);
    let table = run(d, &["image", "verify", &image]);
    assert_eq!(table.code, 1);
    assert!(
        table.stdout.contains("integration-test") && table.stdout.contains("FAIL"),
        "{}",
        table.stdout
    );

    // scan --verify-images reports the missing attestation; a plain scan does not look.
    write(d, "deploy.yaml", &format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: shop, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: shop}}}}\n  template:\n    metadata: {{labels: {{app: shop}}}}\n    spec:\n      containers:\n      - name: shop\n        image: {image}\n"
    ));
    let scan = run(
        d,
        &["scan", "deploy.yaml", "--verify-images", "--format", "json"],
    );
    assert!(
        scan.stdout.contains("image-attestation-missing")
            && scan.stdout.contains("integration-test"),
        "{}{}",
        scan.stdout,
        scan.stderr
    );
    assert!(
        !scan.stdout.contains("image-signature-missing"),
        "the build signature is there"
    );
    let offline = run(d, &["scan", "deploy.yaml", "--format", "json"]);
    assert!(
        !offline.stdout.contains("image-attestation-missing"),
        "{}",
        offline.stdout
    );

    write(d, "palisade.yaml", &config(&reg.host, "{count: 3}"));
    let out = run(d, &["image", "verify", &image, "--format", "json"]);
    assert_eq!(out.code, 0, "count 3 admits: {}", out.stdout);

    let key = "integration-test.key";
    let args = [
        &[
            "image",
            "attest",
            &image,
            "--key",
            key,
            "--legacy",
            "--predicate",
            "ok.json",
            "--type",
            "https://example.com/integration-test/v1",
        ][..],
        &insecure,
    ]
    .concat();
    assert_eq!(run(d, &args).code, 0);
    write(d, "palisade.yaml", &config(&reg.host, "all"));
    let out = run(d, &["image", "verify", &image, "--format", "json"]);
    assert_eq!(out.code, 0, "all four: {}", out.stdout);
    let v = out.json();
    assert!(v["images"][0]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(v["images"][0]["policies"][0]["passed"], true);
    let scan = run(
        d,
        &["scan", "deploy.yaml", "--verify-images", "--format", "json"],
    );
    assert!(
        !scan.stdout.contains("image-attestation-missing"),
        "{}",
        scan.stdout
    );
}

#[test]
fn bad_image_config_is_a_usage_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "palisade.yaml",
        "images:\n- name: p\n  match: [a]\n  attestors:\n  - {name: a, key: nope.pub}\n",
    );
    let out = run(d, &["image", "verify", "127.0.0.1:1/demo/x:v1"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("palisade.yaml:5:")
            && out.stderr.contains("images[0].attestors[0].key"),
        "{}",
        out.stderr
    );
    let wrong = run(
        d,
        &["image", "sign", "x", "--key", "missing.key", "--legacy"],
    );
    assert_eq!(wrong.code, 2);
}
