//! Interop the other way: bundles written by `palisade image sign` and
//! `attest` (fetched back from the registry's referrers fallback tag)
//! verify with npm's `@sigstore/verify` (tests/interop/verify.js), and not
//! with another key.

use crate::keyless::npm_or_skip;
use crate::live::plain_client;
use crate::registry_server::TestRegistry;
use crate::support::{rt, supply};
use palisade_images::bundle::oci::fetch_bundles;
use palisade_images::bundle::sign::{attest_bundle, sign_bundle};
use palisade_images::{ImageRef, SigningKey};
use std::path::Path;
use std::process::Command;

fn node_verify(modules: &Path, bundle: &Path, key: &Path, hex: &str) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/verify.js");
    let out = Command::new("node")
        .arg(script)
        .args([bundle.as_os_str(), key.as_os_str(), hex.as_ref()])
        .env("NODE_PATH", modules)
        .output()
        .expect("node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn palisade_bundles_verify_with_sigstore_js() {
    let Some(modules) = npm_or_skip("interop") else {
        return;
    };
    let reg = TestRegistry::plain();
    reg.push_layout(
        &supply("synth-two-attestors/image-oci-layout"),
        "v1",
        "demo/interop:v1",
        None,
    );
    let client = plain_client(&reg.host);
    let img = ImageRef::parse(&format!("{}/demo/interop:v1", reg.host)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ecdsa = SigningKey::generate();
    let predicate = serde_json::json!({"scanner": {"result": {"criticalCount": 0}}});
    let vuln = "https://cosign.sigstore.dev/attestation/vuln/v1";
    let written = rt().block_on(sign_bundle(&client, &img, &ecdsa)).unwrap();
    rt().block_on(attest_bundle(&client, &img, &ecdsa, vuln, predicate))
        .unwrap();
    let hex = written.digest.strip_prefix("sha256:").unwrap().to_string();
    std::fs::write(d.join("key.pub"), ecdsa.public_key_pem().unwrap()).unwrap();
    let other = SigningKey::generate();
    std::fs::write(d.join("other.pub"), other.public_key_pem().unwrap()).unwrap();

    let found = rt()
        .block_on(fetch_bundles(&client, &img, &written.digest))
        .unwrap();
    assert_eq!(found.len(), 2);
    let mut types = Vec::new();
    for (i, b) in found.iter().enumerate() {
        let path = d.join(format!("bundle{i}.json"));
        std::fs::write(
            &path,
            serde_json::to_vec(b.bundle.as_ref().unwrap()).unwrap(),
        )
        .unwrap();
        let (ok, text) = node_verify(&modules, &path, &d.join("key.pub"), &hex);
        assert!(ok, "@sigstore/verify refused Palisade's bundle: {text}");
        types.push(text.trim().to_string());
        let (ok, text) = node_verify(&modules, &path, &d.join("other.pub"), &hex);
        assert!(!ok, "verified with another key: {text}");
        let (ok, _) = node_verify(&modules, &path, &d.join("key.pub"), &"00".repeat(32));
        assert!(!ok, "verified for another digest");
    }
    types.sort();
    assert_eq!(types, [vuln, "https://sigstore.dev/cosign/sign/v1"]);
}
