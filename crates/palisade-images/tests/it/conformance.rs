//! The Sigstore client conformance suite's bundle verification cases
//! (testdata/supply/sigstore-conformance, pinned; see its SOURCES.md), run
//! through `palisade_images::bundle`: every happy path verifies, every
//! `_fail` case fails, and for the reason its README states (the error
//! class, not just any failure).

use palisade_images::bundle::{
    self, verify_bundle, Artifact, BundleError, Expectation, Identity, Pattern, TrustedRoot,
};
use std::path::{Path, PathBuf};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The error class each `_fail` case must end with, from its README.
const EXPECTED: &[(&str, &str)] = &[
    ("bundle-empty-certificate-chain_fail", "material"),
    // A staging bundle: its log (and CA) are not in the production root.
    ("bundle-from-wrong-instance_fail", "tlog-entry"),
    ("bundle-invalid-base64-signature_fail", "malformed"),
    ("bundle-malformed-json_fail", "malformed"),
    ("bundle-negative-log-index_fail", "malformed"),
    ("bundle-unknown-version_fail", "unsupported-version"),
    ("bundle-with-root-cert_fail", "material"),
    ("checkpoint-bad-keyhint_fail", "checkpoint"),
    ("checkpoint-wrong-roothash_fail", "checkpoint"),
    ("dsse-invalid-sig_fail", "signature"),
    ("dsse-mismatch-envelope_fail", "tlog-entry"),
    ("dsse-mismatch-sig_fail", "tlog-entry"),
    ("inclusion-proof-corrupted-hash_fail", "inclusion-proof"),
    ("incorrect-public-key_fail", "tlog-entry"),
    ("integrated-time-in-future_fail", "certificate"),
    ("intoto-expired-certificate_fail", "certificate"),
    ("intoto-log-entry-mismatch_fail", "tlog-entry"),
    ("intoto-missing-inclusion-proof_fail", "inclusion-proof"),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        "certificate",
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "certificate",
    ),
    ("invalid-checkpoint-signature_fail", "checkpoint"),
    ("invalid-ct-key_fail", "sct"),
    ("invalid-inclusion-proof_fail", "inclusion-proof"),
    ("managed-key-no-key_fail", "material"),
    // Its key.pub is a corrupted key (base64 ending in "wrongkey=="): refused
    // as key material before any signature is tried.
    ("managed-key-wrong-key_fail", "material"),
    ("message-digest-mismatch_fail", "artifact"),
    ("rekor2-checkpoint-missing-log-signature_fail", "checkpoint"),
    ("rekor2-checkpoint-missing-origin_fail", "checkpoint"),
    ("rekor2-checkpoint-missing-root-hash_fail", "checkpoint"),
    ("rekor2-checkpoint-missing-size_fail", "checkpoint"),
    ("rekor2-checkpoint-no-matching-signature_fail", "checkpoint"),
    ("rekor2-dsse-invalid-sig_fail", "signature"),
    ("rekor2-dsse-mismatch-envelope_fail", "tlog-entry"),
    ("rekor2-dsse-mismatch-sig_fail", "tlog-entry"),
    ("rekor2-no-inclusion-proof_fail", "inclusion-proof"),
    ("rekor2-no-timestamp_fail", "timestamp"),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "timestamp",
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        "timestamp",
    ),
    ("rekor2-timestamp-payload-mismatch_fail", "timestamp"),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "timestamp",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "timestamp",
    ),
    ("rekor2-timestamp-with-incorrect-time_fail", "certificate"),
    ("set-invalid-signature_fail", "signed-entry-timestamp"),
    ("signature-mismatch_fail", "signature"),
    (
        "trust-root-tlog-missing-validity-start_fail",
        "trusted-root",
    ),
    ("wrong-hashedrekord-artifact_fail", "tlog-entry"),
    ("wrong-hashedrekord-cert-and-sig_fail", "tlog-entry"),
    ("wrong-hashedrekord-entry_fail", "tlog-entry"),
    ("wrong-material_fail", "artifact"),
];

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/supply/sigstore-conformance")
}

fn read_opt(dir: &Path, name: &str) -> Option<Vec<u8>> {
    std::fs::read(dir.join(name)).ok()
}

fn text_or(dir: &Path, name: &str, default: &str) -> String {
    read_opt(dir, name)
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_else(|| default.to_string())
}

/// Runs one case directory the way the suite's harness does.
fn run_case(dir: &Path) -> Result<bundle::Verified, BundleError> {
    let root_json = read_opt(dir, "trusted_root.json").unwrap_or_else(|| {
        std::fs::read(suite().join("trust-roots/production-trusted_root.json"))
            .expect("production trusted root")
    });
    let root = TrustedRoot::from_json(&root_json)?;
    let bundle = bundle::parse_bundle(&std::fs::read(dir.join("bundle.sigstore.json")).unwrap())?;
    let artifact = read_opt(dir, "artifact")
        .unwrap_or_else(|| std::fs::read(dir.join("../a.txt")).expect("a.txt"));
    let expect = match read_opt(dir, "key.pub") {
        Some(pem) => Expectation::key_from_pem(&String::from_utf8_lossy(&pem))?,
        None => Expectation::Identity(Identity {
            issuer: Pattern::Exact(text_or(dir, "issuer", DEFAULT_ISSUER)),
            subject: Pattern::Exact(text_or(dir, "identity", DEFAULT_IDENTITY)),
        }),
    };
    verify_bundle(&bundle, &Artifact::Bytes(&artifact), &expect, Some(&root))
}

#[test]
fn every_conformance_case_verifies_or_fails_for_its_reason() {
    let cases_dir = suite().join("test/assets/bundle-verify");
    let mut names: Vec<String> = std::fs::read_dir(&cases_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 70, "the pinned suite has 70 cases");
    let (mut passed, mut problems) = (0, Vec::new());
    for name in &names {
        let result = run_case(&cases_dir.join(name));
        if std::env::var_os("CONFORMANCE_VERBOSE").is_some() {
            eprintln!("{name}: {:?}", result.as_ref().map(|v| &v.times));
        }
        let problem = match (name.ends_with("_fail"), &result) {
            (false, Ok(_)) => None,
            (false, Err(e)) => Some(format!("{name}: should verify, got {e}")),
            (true, Ok(_)) => Some(format!("{name}: verified, should fail")),
            (true, Err(e)) => {
                let want = EXPECTED.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
                match want {
                    Some(c) if c == e.class() => None,
                    Some(c) => Some(format!(
                        "{name}: failed as {} ({e}), expected {c}",
                        e.class()
                    )),
                    None => Some(format!("{name}: no expected reason recorded ({e})")),
                }
            }
        };
        match problem {
            None => passed += 1,
            Some(p) => problems.push(p),
        }
    }
    eprintln!(
        "sigstore-conformance: {passed}/{} cases as expected",
        names.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_wrong_identity_is_refused_for_the_identity() {
    let dir = suite().join("test/assets/bundle-verify/happy-path-v0.3");
    let root = TrustedRoot::from_json(
        &std::fs::read(suite().join("trust-roots/production-trusted_root.json")).unwrap(),
    )
    .unwrap();
    let bundle =
        bundle::parse_bundle(&std::fs::read(dir.join("bundle.sigstore.json")).unwrap()).unwrap();
    let artifact = std::fs::read(dir.join("../a.txt")).unwrap();
    let check = |issuer: &str, subject: Pattern| {
        let expect = Expectation::Identity(Identity {
            issuer: Pattern::Exact(issuer.into()),
            subject,
        });
        verify_bundle(&bundle, &Artifact::Bytes(&artifact), &expect, Some(&root))
    };
    let good = check(DEFAULT_ISSUER, Pattern::Exact(DEFAULT_IDENTITY.into())).unwrap();
    assert_eq!(good.subject.as_deref(), Some(DEFAULT_IDENTITY));
    let re = regex::Regex::new("^https://github.com/sigstore-conformance/").unwrap();
    assert!(check(DEFAULT_ISSUER, Pattern::Regex(re)).is_ok());
    let other = regex::Regex::new("^https://github.com/acme/").unwrap();
    let e = check(DEFAULT_ISSUER, Pattern::Regex(other)).unwrap_err();
    assert_eq!(e.class(), "identity", "{e}");
    let e = check(
        "https://accounts.google.com",
        Pattern::Exact(DEFAULT_IDENTITY.into()),
    )
    .unwrap_err();
    assert_eq!(e.class(), "identity", "{e}");
}
