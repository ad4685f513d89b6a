//! `palisade image pin` through the real binary against a real registry
//! (docker-registry on 127.0.0.1): only the image scalars change, in YAML
//! (multi-document, comments, flow style, Lists) and JSON; `--check`; an
//! unresolvable reference leaves its file unchanged.

mod common;
#[path = "../../palisade-images/tests/it/registry_server.rs"]
mod registry_server;
#[path = "../../palisade-images/tests/it/test_images.rs"]
mod test_images;

use common::{palisade, write};
use registry_server::TestRegistry;

#[test]
fn pin_rewrites_only_the_image_scalars() {
    let reg = TestRegistry::plain();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let layout = test_images::layout(&d.join("oci"));
    test_images::distroless(&layout, "app", None);
    reg.push_layout(&d.join("oci"), "app", "t/app:1", None);
    let h = &reg.host;
    let yaml = format!(
        "# deployed by CI\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}  # keep me\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: {h}/t/app:1   # the app\n      - {{name: side, image: \"{h}/t/app:1\"}}\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {{name: p}}\n  spec:\n    containers:\n    - name: a\n      image: '{h}/t/app:1'\n"
    );
    write(d, "deploy.yaml", &yaml);
    let json = format!(
        "{{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {{\"name\": \"j\"}},\n  \"spec\": {{\"containers\": [{{\"name\": \"a\", \"image\": \"{h}/t/app:1\"}}]}}\n}}\n"
    );
    write(d, "pod.json", &json);
    write(
        d,
        "palisade.yaml",
        &format!("registries:\n  \"{h}\": {{insecure: true}}\n"),
    );

    let check = palisade(d, &["image", "pin", "deploy.yaml", "pod.json", "--check"]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("deploy.yaml:10: would pin"),
        "{}",
        check.stdout
    );
    assert_eq!(
        std::fs::read_to_string(d.join("deploy.yaml")).unwrap(),
        yaml,
        "--check changes nothing"
    );

    let pin = palisade(d, &["image", "pin", "deploy.yaml", "pod.json"]);
    assert_eq!(pin.code, 0, "{}{}", pin.stdout, pin.stderr);
    let digest = pin
        .stdout
        .split("@sha256:")
        .nth(1)
        .map(|s| format!("sha256:{}", &s[..64]))
        .expect("a digest in the output");
    let pinned = format!("{h}/t/app:1@{digest}");
    assert_eq!(
        std::fs::read_to_string(d.join("deploy.yaml")).unwrap(),
        yaml.replace(&format!("{h}/t/app:1"), &pinned),
        "only the image scalars changed; comments, quotes and layout kept"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("pod.json")).unwrap(),
        json.replace(&format!("{h}/t/app:1"), &pinned)
    );
    let again = palisade(d, &["image", "pin", "deploy.yaml", "pod.json", "--check"]);
    assert_eq!(again.code, 0, "pinned images stay: {}", again.stdout);
}

#[test]
fn an_unresolvable_image_is_an_error_and_its_file_is_unchanged() {
    let reg = TestRegistry::plain();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let layout = test_images::layout(&d.join("oci"));
    test_images::distroless(&layout, "app", None);
    reg.push_layout(&d.join("oci"), "app", "t/app:1", None);
    let h = &reg.host;
    let text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: a\n    image: {h}/t/app:1\n  - name: b\n    image: {h}/t/missing:1\n"
    );
    write(d, "pod.yaml", &text);
    write(
        d,
        "palisade.yaml",
        &format!("registries:\n  \"{h}\": {{insecure: true}}\n"),
    );
    let out = palisade(d, &["image", "pin", "pod.yaml"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "pod.yaml:9: cannot pin \"{h}/t/missing:1\": image not found"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("pod.yaml: left unchanged"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(d.join("pod.yaml")).unwrap(), text);
    write(
        d,
        "bad.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p\n",
    );
    let bad = palisade(d, &["image", "pin", "bad.yaml"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("bad.yaml"), "{}", bad.stderr);
}
