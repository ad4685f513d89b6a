//! Keyless end to end, offline: npm's `@sigstore/mock` (a Fulcio CA with
//! its CT log and a Rekor log, keys ephemeral) and `@sigstore/sign` sign an
//! image digest (tests/keyless/sign.js); the trusted root is built from
//! the mock's keys; Palisade verifies the bundle, and refuses a wrong
//! identity, an untrusted CA and a tampered log entry.
//!
//! The npm packages come from `.ci/run` (PALISADE_SIGSTORE_NPM, or
//! `$CARGO_TARGET_DIR/ci-tools/npm/node_modules`).

use crate::live::{attestor, plain_client, policy};
use crate::registry_server::TestRegistry;
use crate::support::{config_in, rt, supply, verifier};
use palisade_images::bundle::oci::push_bundle;
use palisade_images::bundle::{
    self, verify_bundle, Artifact, BundleError, Expectation, Identity, Pattern, TrustedRoot,
};
use palisade_images::{ImagePolicies, ImageRef};
use std::path::{Path, PathBuf};
use std::process::Command;

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const SUBJECT: &str = "https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main";

/// The node_modules directory holding the @sigstore npm packages.
pub(crate) fn node_modules() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_SIGSTORE_NPM")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(|t| PathBuf::from(t).join("ci-tools/npm/node_modules"))
        })?;
    dir.join("@sigstore/mock").is_dir().then_some(dir)
}

/// The npm packages, or `None` with a note when they are missing outside
/// CI (under CI=true their absence fails the test).
pub(crate) fn npm_or_skip(test: &str) -> Option<PathBuf> {
    let found = node_modules();
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI: the @sigstore npm packages are not installed (PALISADE_SIGSTORE_NPM); .ci/run installs them"
        );
        eprintln!("{test}: SKIPPED, the @sigstore npm packages are not installed (run .ci/run)");
    }
    found
}

/// Runs the signing script; `None` when npm packages are missing outside CI.
fn sign(out: &Path, hex: &str, name: &str) -> Option<()> {
    let modules = npm_or_skip("keyless")?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keyless/sign.js");
    let status = Command::new("node")
        .arg(script)
        .args([out.to_str().unwrap(), hex, name, SUBJECT, ISSUER])
        .env("NODE_PATH", modules)
        .status()
        .expect("node");
    assert!(status.success(), "sign.js failed");
    Some(())
}

fn identity(issuer: &str, subject_re: &str) -> Expectation {
    Expectation::Identity(Identity {
        issuer: Pattern::Exact(issuer.into()),
        subject: Pattern::Regex(regex::Regex::new(subject_re).unwrap()),
    })
}

fn keyless_attestor(subject_re: &str, root: &str) -> String {
    format!("  - name: ci\n    keyless:\n      issuer: {ISSUER}\n      subjectRegExp: \"{subject_re}\"\n    trustedRoot: {root}\n")
}

#[test]
fn mock_signed_keyless_bundle_verifies_and_forgeries_are_refused() {
    let reg = TestRegistry::plain();
    reg.push_layout(
        &supply("synth-two-attestors/image-oci-layout"),
        "v1",
        "demo/keyless:v1",
        None,
    );
    let client = plain_client(&reg.host);
    let image = format!("{}/demo/keyless:v1", reg.host);
    let img = ImageRef::parse(&image).unwrap();
    let digest = rt().block_on(client.resolve(&img)).unwrap();
    let hex = digest.strip_prefix("sha256:").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    if sign(d, hex, &img.name()).is_none() {
        return;
    }
    let json = std::fs::read(d.join("bundle.json")).unwrap();
    let bundle = bundle::parse_bundle(&json).unwrap();
    let root =
        TrustedRoot::from_json(&std::fs::read(d.join("trusted_root.json")).unwrap()).unwrap();
    let mut sha = [0u8; 32];
    for (i, b) in sha.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    let artifact = Artifact::Sha256(sha);
    let check = |b: &bundle::Bundle, expect: &Expectation, root: &TrustedRoot| {
        verify_bundle(b, &artifact, expect, Some(root))
    };

    let ok = check(
        &bundle,
        &identity(ISSUER, "^https://github.com/acme/"),
        &root,
    )
    .unwrap();
    assert_eq!(ok.subject.as_deref(), Some(SUBJECT));
    assert_eq!(ok.times.len(), 1, "the Rekor SET gives the signing time");

    let class = |r: Result<bundle::Verified, BundleError>| r.unwrap_err().class();
    assert_eq!(
        class(check(
            &bundle,
            &identity(ISSUER, "^https://github.com/other/"),
            &root
        )),
        "identity"
    );
    assert_eq!(
        class(check(
            &bundle,
            &identity("https://accounts.google.com", ".*"),
            &root
        )),
        "identity"
    );
    let other =
        TrustedRoot::from_json(&std::fs::read(d.join("other_ca_root.json")).unwrap()).unwrap();
    assert_eq!(
        class(check(&bundle, &identity(ISSUER, ".*"), &other)),
        "certificate",
        "a CA the trusted root does not hold"
    );
    // A log entry whose body was altered (an extra field: the recorded
    // digest, signature and certificate still match) is not the one logged.
    let mut tampered = bundle.clone();
    let entry = &mut tampered.verification_material.tlog_entries[0];
    let mut body: serde_json::Value = serde_json::from_slice(&entry.canonicalized_body).unwrap();
    body["spec"]["note"] = "tampered".into();
    entry.canonicalized_body = serde_json::to_vec(&body).unwrap();
    let c = class(check(&tampered, &identity(ISSUER, ".*"), &root));
    assert!(
        c == "inclusion-proof" || c == "signed-entry-timestamp",
        "{c}"
    );
    // An integration time moved (to fit another certificate): the SET fails.
    let mut moved = bundle.clone();
    moved.verification_material.tlog_entries[0].integrated_time -= 60;
    assert_eq!(
        class(check(&moved, &identity(ISSUER, ".*"), &root)),
        "signed-entry-timestamp"
    );

    // Through the registry and the policy: the bundle as a referrer.
    rt().block_on(push_bundle(
        &client,
        &img,
        &digest,
        json,
        "https://sigstore.dev/cosign/sign/v1",
    ))
    .unwrap();
    let good = policy(
        &reg.host,
        "all",
        &keyless_attestor("^https://github.com/acme/.+", "trusted_root.json"),
    );
    let v = rt().block_on(verifier(d, &good, None).verify(&image));
    assert!(v.passed(), "{v:?}");
    assert!(
        attestor(&v, "ci").reason.contains("keyless identity"),
        "{v:?}"
    );
    let wrong = policy(
        &reg.host,
        "all",
        &keyless_attestor("^https://github.com/other/", "trusted_root.json"),
    );
    let v = rt().block_on(verifier(d, &wrong, None).verify(&image));
    assert!(!v.passed());
    assert!(attestor(&v, "ci").reason.contains("identity"), "{v:?}");
    let untrusted = policy(
        &reg.host,
        "all",
        &keyless_attestor(".*", "other_ca_root.json"),
    );
    let v = rt().block_on(verifier(d, &untrusted, None).verify(&image));
    assert!(!v.passed());
    assert!(attestor(&v, "ci").reason.contains("certificate"), "{v:?}");
}

#[test]
fn keyless_attestor_config_errors_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let err = |attestors: &str| {
        let config = config_in(d, &policy("127.0.0.1:5000", "all", attestors)).unwrap();
        ImagePolicies::from_config(&config).unwrap_err().to_string()
    };
    let e = err(&keyless_attestor("(", "trusted_root.json"));
    assert!(e.contains("subjectRegExp"), "{e}");
    let e = err(&keyless_attestor(".*", "missing.json"));
    assert!(
        e.contains("trustedRoot") && e.contains("missing.json"),
        "{e}"
    );
    let e = err("  - name: ci\n    keyless: {issuer: iss, subject: me}\n");
    assert!(e.contains("trustedRoot"), "{e}");
    std::fs::write(d.join("root.json"), "{\"tlogs\": [{}]}").unwrap();
    let e = err(&keyless_attestor(".*", "root.json"));
    assert!(e.contains("trustedRoot") && e.contains("root.json"), "{e}");
}
