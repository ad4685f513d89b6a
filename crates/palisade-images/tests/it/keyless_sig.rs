//! cosign's legacy keyless `.sig` layers, offline: containers/image's
//! real `dir-img-cosign-fulcio-rekor-valid` fixture (signed 2023-01-20 by
//! the public-good Fulcio and Rekor) verified against the public-good
//! trusted root, and tampered variants refused with their reason.

use crate::fixtures::{candidate, manifest_digest};
use crate::support::supply;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use palisade_images::bundle::keyless_sig::{
    verify_keyless_signature, CERTIFICATE_ANNOTATION, REKOR_BUNDLE_ANNOTATION,
};
use palisade_images::bundle::{Identity, Pattern, TrustedRoot};
use palisade_images::legacy::{check_keyless_signature, SignatureCandidate, NOT_KEYLESS};
use serde_json::Value;

const CASE: &str = "dir-img-cosign-fulcio-rekor-valid";
const ISSUER: &str = "https://github.com/login/oauth";
const SUBJECT: &str = "mitr@redhat.com";

fn root_json() -> Value {
    let path = supply("sigstore-conformance/trust-roots/production-trusted_root.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn production_root() -> TrustedRoot {
    TrustedRoot::from_json(&serde_json::to_vec(&root_json()).unwrap()).unwrap()
}

fn identity(issuer: &str, subject: &str) -> Identity {
    Identity {
        issuer: Pattern::Exact(issuer.into()),
        subject: Pattern::Exact(subject.into()),
    }
}

fn fixture() -> SignatureCandidate {
    candidate(CASE, 1).0
}

/// The failure class of verifying `c` for the fixture's identity.
fn class_of(c: &SignatureCandidate, id: &Identity, root: &TrustedRoot) -> String {
    let m = c.keyless.as_ref().expect("keyless material");
    let sig = c.signature.as_ref().unwrap();
    match verify_keyless_signature(m, &c.payload, sig, id, root) {
        Ok(()) => "ok".into(),
        Err(e) => e.class().into(),
    }
}

fn edit_rekor(c: &mut SignatureCandidate, f: impl FnOnce(&mut Value)) {
    let m = c.keyless.as_mut().unwrap();
    let mut v: Value = serde_json::from_str(m.rekor_bundle.as_ref().unwrap()).unwrap();
    f(&mut v);
    m.rekor_bundle = Some(v.to_string());
}

#[test]
fn the_real_fixture_verifies_for_its_identity() {
    let c = fixture();
    let m = c.keyless.as_ref().expect("the fixture is keyless");
    assert!(m.certificate.contains("BEGIN CERTIFICATE"));
    assert!(m.chain.is_some());
    let root = production_root();
    let digest = manifest_digest(CASE);
    check_keyless_signature(&identity(ISSUER, SUBJECT), &root, &c, &digest).unwrap();
    let re = Identity {
        issuer: Pattern::Regex(regex::Regex::new(r"^https://github\.com/").unwrap()),
        subject: Pattern::Regex(regex::Regex::new(r"@redhat\.com$").unwrap()),
    };
    check_keyless_signature(&re, &root, &c, &digest).unwrap();
}

#[test]
fn the_image_digest_must_be_the_signed_one() {
    let e = check_keyless_signature(
        &identity(ISSUER, SUBJECT),
        &production_root(),
        &fixture(),
        &format!("sha256:{}", "0".repeat(64)),
    )
    .unwrap_err();
    assert!(e.contains("not the image digest"), "{e}");
}

#[test]
fn a_wrong_identity_is_refused() {
    let root = production_root();
    let c = fixture();
    let digest = manifest_digest(CASE);
    for id in [
        identity(ISSUER, "someone@example.com"),
        identity("https://accounts.google.com", SUBJECT),
    ] {
        assert_eq!(class_of(&c, &id, &root), "identity");
        let e = check_keyless_signature(&id, &root, &c, &digest).unwrap_err();
        assert!(
            e.contains("identity:") && e.contains("does not match"),
            "{e}"
        );
    }
}

#[test]
fn a_swapped_certificate_is_refused() {
    // Another real public-good Fulcio leaf (the conformance suite's).
    let b: Value = serde_json::from_slice(
        &std::fs::read(supply(
            "sigstore-conformance/test/assets/bundle-verify/happy-path-v0.2/bundle.sigstore.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let der = b["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"]
        .as_str()
        .unwrap();
    let mut c = fixture();
    c.keyless.as_mut().unwrap().certificate =
        format!("-----BEGIN CERTIFICATE-----\n{der}\n-----END CERTIFICATE-----\n");
    let id = identity(ISSUER, SUBJECT);
    assert_eq!(class_of(&c, &id, &production_root()), "signature");
    // The chain annotation's intermediate as the leaf: not signed by it.
    let mut c = fixture();
    let chain = c.keyless.as_ref().unwrap().chain.clone().unwrap();
    c.keyless.as_mut().unwrap().certificate = chain;
    assert_eq!(class_of(&c, &id, &production_root()), "signature");
}

#[test]
fn a_flipped_set_byte_is_refused() {
    let mut c = fixture();
    edit_rekor(&mut c, |v| {
        let mut set = B64
            .decode(v["SignedEntryTimestamp"].as_str().unwrap())
            .unwrap();
        set[20] ^= 1;
        v["SignedEntryTimestamp"] = B64.encode(set).into();
    });
    let id = identity(ISSUER, SUBJECT);
    assert_eq!(
        class_of(&c, &id, &production_root()),
        "signed-entry-timestamp"
    );
    let e =
        check_keyless_signature(&id, &production_root(), &c, &manifest_digest(CASE)).unwrap_err();
    assert!(e.contains("signed entry timestamp"), "{e}");
    // A changed integration time is no longer what the log signed.
    let mut c = fixture();
    edit_rekor(&mut c, |v| {
        v["Payload"]["integratedTime"] = 1674247900.into()
    });
    assert_eq!(
        class_of(&c, &id, &production_root()),
        "signed-entry-timestamp"
    );
}

#[test]
fn a_rekor_body_of_another_signature_is_refused() {
    // The key-signed fixture's Rekor body names another signature and key.
    let other = candidate("dir-img-cosign-key-rekor-valid", 1).1;
    let body: Value = serde_json::from_str(
        other["annotations"][REKOR_BUNDLE_ANNOTATION]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut c = fixture();
    edit_rekor(&mut c, |v| {
        v["Payload"]["body"] = body["Payload"]["body"].clone()
    });
    let id = identity(ISSUER, SUBJECT);
    assert_eq!(class_of(&c, &id, &production_root()), "tlog-entry");
    // An unknown log.
    let mut c = fixture();
    edit_rekor(&mut c, |v| v["Payload"]["logID"] = "ab".repeat(32).into());
    assert_eq!(class_of(&c, &id, &production_root()), "tlog-entry");
}

#[test]
fn an_untrusted_ca_is_refused() {
    // The production root with the staging Fulcio CAs instead of its own.
    let mut json = root_json();
    let staging: Value = serde_json::from_slice(
        &std::fs::read(supply(
            "sigstore-conformance/trust-roots/staging-trusted_root.json",
        ))
        .unwrap(),
    )
    .unwrap();
    json["certificateAuthorities"] = staging["certificateAuthorities"].clone();
    let root = TrustedRoot::from_json(&serde_json::to_vec(&json).unwrap()).unwrap();
    let id = identity(ISSUER, SUBJECT);
    assert_eq!(class_of(&fixture(), &id, &root), "certificate");
    let e = check_keyless_signature(&id, &root, &fixture(), &manifest_digest(CASE)).unwrap_err();
    assert!(e.contains("does not chain to a trusted root"), "{e}");
}

#[test]
fn a_ca_not_yet_trusted_at_integrated_time_is_refused() {
    // The Fulcio CAs trusted only from after the entry was integrated.
    let mut json = root_json();
    for ca in json["certificateAuthorities"].as_array_mut().unwrap() {
        ca["validFor"]["start"] = "2024-01-01T00:00:00Z".into();
    }
    let root = TrustedRoot::from_json(&serde_json::to_vec(&json).unwrap()).unwrap();
    let e = check_keyless_signature(
        &identity(ISSUER, SUBJECT),
        &root,
        &fixture(),
        &manifest_digest(CASE),
    )
    .unwrap_err();
    assert!(
        e.contains("no certificate authority trusted at signing time"),
        "{e}"
    );
}

#[test]
fn key_signed_and_malformed_layers_are_refused_without_panic() {
    let id = identity(ISSUER, SUBJECT);
    let root = production_root();
    let keyed = candidate("dir-img-cosign-key-rekor-valid", 1).0;
    assert!(keyed.keyless.is_none());
    let e = check_keyless_signature(&id, &root, &keyed, &manifest_digest(CASE)).unwrap_err();
    assert!(e.ends_with(NOT_KEYLESS), "{e}");
    let mut c = fixture();
    c.keyless.as_mut().unwrap().rekor_bundle = None;
    assert_eq!(class_of(&c, &id, &root), "signed-entry-timestamp");
    for bad in ["", "{}", "[1]", "{\"SignedEntryTimestamp\":1}"] {
        let mut c = fixture();
        c.keyless.as_mut().unwrap().rekor_bundle = Some(bad.into());
        assert_eq!(class_of(&c, &id, &root), "malformed", "{bad}");
    }
    let mut c = fixture();
    c.keyless.as_mut().unwrap().certificate = format!("{CERTIFICATE_ANNOTATION} garbage");
    assert_eq!(class_of(&c, &id, &root), "malformed");
}

/// Writes an OCI layout holding cosign's `.sig` image for the fixture: one
/// simple-signing layer with the fixture's annotations.
fn sig_layout(dir: &std::path::Path, case: &str) {
    use palisade_images::registry::sha256_digest;
    let (c, v) = candidate(case, 1);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| {
        let d = sha256_digest(data);
        std::fs::write(blobs.join(d.strip_prefix("sha256:").unwrap()), data).unwrap();
        (d, data.len())
    };
    let (config, config_len) =
        put(br#"{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#);
    let (layer, layer_len) = put(&c.payload);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config, "size": config_len},
        "layers": [{"mediaType": v["mimeType"], "digest": layer, "size": layer_len,
                    "annotations": v["annotations"]}]
    });
    let body = serde_json::to_vec(&manifest).unwrap();
    let (m, m_len) = put(&body);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": m, "size": m_len,
                       "annotations": {"org.opencontainers.image.ref.name": "sig"}}]
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

#[test]
fn the_real_fixture_verifies_through_a_registry_and_a_policy() {
    use crate::live::{attestor, policy};
    use crate::registry_server::TestRegistry;
    use crate::support::{rt, verifier};
    let reg = TestRegistry::plain();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sig_layout(&d.join("layout"), CASE);
    let digest = manifest_digest(CASE);
    let hex = digest.strip_prefix("sha256:").unwrap();
    reg.push_layout(
        &d.join("layout"),
        "sig",
        &format!("demo/fulcio-rekor-1:sha256-{hex}.sig"),
        None,
    );
    let root = d.join("root.json");
    std::fs::write(&root, serde_json::to_vec(&root_json()).unwrap()).unwrap();
    let attestors = format!(
        "  - name: redhat\n    keyless:\n      issuer: {ISSUER}\n      subjectRegExp: \"@redhat\\\\.com$\"\n    trustedRoot: {r}\n  - name: other\n    keyless:\n      issuer: {ISSUER}\n      subject: someone@example.com\n    trustedRoot: {r}\n",
        r = root.display()
    );
    let yaml = policy(&reg.host, "{count: 1}", &attestors);
    let image = format!("{}/demo/fulcio-rekor-1@{digest}", reg.host);
    let v = rt().block_on(verifier(d, &yaml, None).verify(&image));
    assert!(v.passed(), "{v:?}");
    let ok = attestor(&v, "redhat");
    assert!(ok.passed, "{ok:?}");
    assert!(ok.reason.contains("keyless identity"), "{ok:?}");
    let other = attestor(&v, "other");
    assert!(!other.passed);
    assert!(
        other.reason.contains("identity") && other.reason.contains("does not match"),
        "{other:?}"
    );
    // A key-signed .sig (same image digest) does not satisfy a keyless attestor.
    let keyed = "dir-img-cosign-key-rekor-valid";
    sig_layout(&d.join("keyed"), keyed);
    let digest = manifest_digest(keyed);
    let hex = digest.strip_prefix("sha256:").unwrap();
    reg.push_layout(
        &d.join("keyed"),
        "sig",
        &format!("demo/key-1:sha256-{hex}.sig"),
        None,
    );
    let image = format!("{}/demo/key-1@{digest}", reg.host);
    let v = rt().block_on(verifier(d, &yaml, None).verify(&image));
    assert!(!v.passed(), "{v:?}");
    let a = attestor(&v, "redhat");
    assert_eq!(
        a.reason, "none of the 1 signatures found is keyless (a Fulcio certificate)",
        "{a:?}"
    );
}

#[test]
fn the_fixture_certificate_is_refused_outside_its_validity() {
    // The leaf is valid 20:51:31-21:01:31 on 2023-01-20; Rekor integrated
    // the entry at 1674247893 (20:51:33). The chain check runs at that
    // time; at a time past the leaf's expiry it names the expiry.
    use palisade_images::bundle::cert::{verify_chain, Leaf};
    let c = fixture();
    let pem = &c.keyless.as_ref().unwrap().certificate;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let leaf = Leaf::parse(&B64.decode(b64).unwrap()).unwrap();
    let root = production_root();
    assert!(verify_chain(&leaf, &root, 1674247893).is_ok());
    for t in [1674247893 + 601, 1674247891 - 1] {
        let e = verify_chain(&leaf, &root, t).unwrap_err();
        assert_eq!(e.class(), "certificate");
        assert!(e.to_string().contains("not valid at"), "{e}");
    }
}
