//! `palisade image inspect` through the real binary: images made from real
//! Debian content, read from a real registry (docker-registry on
//! 127.0.0.1), an OCI layout and a docker archive; the on-disk cache.

mod common;
#[path = "../../palisade-images/tests/it/registry_server.rs"]
mod registry_server;
#[path = "../../palisade-images/tests/it/test_images.rs"]
mod test_images;

use common::Out;
use registry_server::TestRegistry;
use std::path::Path;
use std::process::Command;

fn run(dir: &Path, cache: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("PALISADE_CACHE_DIR", cache)
        .current_dir(dir)
        .output()
        .expect("run palisade");
    Out::lossy(out)
}

#[test]
fn inspect_registry_images_as_json_and_table() {
    let reg = TestRegistry::plain();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let layout = test_images::layout(&dir.path().join("oci"));
    test_images::busybox(&layout, "busybox");
    test_images::distroless(&layout, "app", None);
    reg.push_layout(&dir.path().join("oci"), "busybox", "t/busybox:1", None);
    reg.push_layout(&dir.path().join("oci"), "app", "t/app:1", None);
    let bb = format!("{}/t/busybox:1", reg.host);
    let app = format!("{}/t/app:1", reg.host);
    let args = [
        "image",
        "inspect",
        &bb,
        &app,
        "--insecure-registry",
        &reg.host,
        "-f",
        "json",
    ];
    let out = run(dir.path(), cache.path(), &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    let images = v["images"].as_array().unwrap();
    let keys: Vec<&str> = images[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "image",
            "digest",
            "minimal",
            "shells",
            "packageManagers",
            "tools",
            "setuid",
            "user",
            "runsAsRoot",
            "created",
            "os",
            "sizeBytes"
        ]
    );
    assert_eq!(images[0]["image"], bb.as_str());
    assert_eq!(images[0]["minimal"], false);
    assert!(images[0]["shells"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "/bin/sh"));
    assert_eq!(images[0]["runsAsRoot"], true);
    assert_eq!(images[1]["minimal"], true);
    assert_eq!(images[1]["user"], "65532");
    assert_eq!(images[1]["runsAsRoot"], false);
    assert_eq!(images[1]["created"], serde_json::Value::Null);
    let cached = std::fs::read_dir(cache.path().join("inspect"))
        .unwrap()
        .count();
    assert_eq!(cached, 2, "one result per digest on disk");
    drop(reg);
    // The registry is gone: a pinned digest is answered from the disk cache,
    // a tag still needs the registry.
    let pinned = format!(
        "{}@{}",
        bb.trim_end_matches(":1"),
        images[0]["digest"].as_str().unwrap()
    );
    let table = run(
        dir.path(),
        cache.path(),
        &[
            "image",
            "inspect",
            &format!("oci:{}:busybox", dir.path().join("oci").display()),
        ],
    );
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("/bin/busybox") && table.stdout.contains("minimal"),
        "{}",
        table.stdout
    );
    let gone = run(
        dir.path(),
        cache.path(),
        &[
            "image",
            "inspect",
            &pinned,
            "--insecure-registry",
            "127.0.0.1:1",
            "-f",
            "json",
        ],
    );
    assert_eq!(gone.code, 0, "{}", gone.stderr);
    assert_eq!(gone.json()["images"][0]["shells"], images[0]["shells"]);
    let tagged = run(
        dir.path(),
        cache.path(),
        &[
            "image",
            "inspect",
            &bb,
            "--insecure-registry",
            "127.0.0.1:1",
        ],
    );
    assert_eq!(
        tagged.code, 2,
        "a tag is resolved at the registry: {}",
        tagged.stdout
    );
    assert!(
        tagged.stderr.contains(&format!("error: {bb}:")),
        "{}",
        tagged.stderr
    );
}

#[test]
fn inspect_reports_each_bad_image_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let layout = test_images::layout(&dir.path().join("oci"));
    test_images::busybox_whited_out(&layout, "opaque");
    let ok = format!("oci:{}:opaque", dir.path().join("oci").display());
    let missing = format!("oci:{}:nope", dir.path().join("oci").display());
    let out = run(
        dir.path(),
        cache.path(),
        &[
            "image",
            "inspect",
            &missing,
            &ok,
            "-f",
            "json",
            "--no-cache",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no manifest tagged \"nope\""),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["images"][0]["minimal"], true);
    let bad = run(dir.path(), cache.path(), &["image", "inspect", "Not/Valid"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("invalid image reference \"Not/Valid\""),
        "{}",
        bad.stderr
    );
}

/// The (rule, message) pairs of a JSON scan report.
fn findings(out: &Out) -> Vec<(String, String)> {
    let v = out.json();
    let mut found = Vec::new();
    let mut stack = vec![&v];
    while let Some(x) = stack.pop() {
        match x {
            serde_json::Value::Object(m) => {
                if let (Some(r), Some(msg)) = (m.get("rule"), m.get("message")) {
                    if let (Some(r), Some(msg)) = (r.as_str(), msg.as_str()) {
                        found.push((r.to_string(), msg.to_string()));
                    }
                }
                stack.extend(m.values());
            }
            serde_json::Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    found
        .retain(|(r, _)| r.starts_with("image-") && !r.contains("latest") && !r.contains("pinned"));
    found.sort();
    found
}

#[test]
fn scan_inspect_images_runs_the_content_rules() {
    let reg = TestRegistry::plain();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let d = dir.path();
    let layout = test_images::layout(&d.join("oci"));
    test_images::busybox(&layout, "busybox");
    test_images::distroless(&layout, "app", None);
    reg.push_layout(&d.join("oci"), "busybox", "t/busybox:1", None);
    reg.push_layout(&d.join("oci"), "app", "t/app:1", None);
    common::write(
        d,
        "deploy.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: shop}}\nspec:\n  containers:\n  - name: debug\n    image: {0}/t/busybox:1\n  - name: app\n    image: {0}/t/app:1\n  - name: gone\n    image: {0}/t/missing:1\n",
            reg.host
        ),
    );
    common::write(
        d,
        "palisade.yaml",
        &format!("registries:\n  \"{}\": {{insecure: true}}\n", reg.host),
    );
    let args = [
        "scan",
        "deploy.yaml",
        "--inspect-images",
        "--format",
        "json",
    ];
    let out = run(d, cache.path(), &args);
    let found = findings(&out);
    // busybox was built on test_images::CREATED: whether it is stale depends on today.
    let rules: Vec<&str> = found
        .iter()
        .filter(|(r, m)| r != "image-stale" || m.contains("t/app:1"))
        .map(|(r, _)| r.as_str())
        .collect();
    assert_eq!(
        rules,
        ["image-not-minimal", "image-runs-as-root", "image-stale"],
        "{found:#?}\n{}",
        out.stderr
    );
    assert!(found[0].1.contains("/bin/busybox"), "{}", found[0].1);
    assert!(found.iter().any(|(r, m)| r == "image-stale"
        && m.contains("unknown age (creation date: none)")
        && m.contains("t/app:1")));
    assert!(
        out.stderr
            .contains("t/missing:1\" not inspected: image not found"),
        "{}",
        out.stderr
    );
    let offline = run(
        d,
        cache.path(),
        &["scan", "deploy.yaml", "--format", "json"],
    );
    assert!(
        findings(&offline).is_empty(),
        "an offline scan does not look inside images"
    );
}
