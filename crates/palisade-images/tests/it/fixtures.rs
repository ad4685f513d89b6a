//! Real cosign output, offline: containers/image's signature fixtures and
//! cosign's attestation envelopes, checked with the same functions the
//! registry path uses.

use crate::support::{read, supply};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use palisade_images::dsse::Envelope;
use palisade_images::legacy::{
    check_signature, keyless_material, SignatureCandidate, SIGNATURE_ANNOTATION,
};
use palisade_images::registry::sha256_digest;
use palisade_images::PublicKey;
use serde_json::Value;
use std::collections::BTreeMap;

const FIXTURES: &str = "containers-image-cosign/signature/fixtures";

/// A containers/image `dir:` signature file: 0x00, "sigstore-json\n", JSON.
pub(crate) fn candidate(case: &str, n: u32) -> (SignatureCandidate, Value) {
    let raw = fixture(&format!("{case}/signature-{n}"));
    let json = raw
        .strip_prefix(b"\x00sigstore-json\n")
        .expect("containers/image sigstore signature file");
    let v: Value = serde_json::from_slice(json).unwrap();
    let payload = B64.decode(v["payload"].as_str().unwrap()).unwrap();
    let signature = B64
        .decode(
            v["annotations"][SIGNATURE_ANNOTATION]
                .as_str()
                .unwrap_or(""),
        )
        .map_err(|e| e.to_string());
    let annotations: BTreeMap<String, String> =
        serde_json::from_value(v["annotations"].clone()).unwrap_or_default();
    let keyless = keyless_material(&annotations);
    (
        SignatureCandidate {
            payload,
            signature,
            keyless,
        },
        v,
    )
}

/// A fixture file; upstream git symlinks are stored here as files holding
/// the link target (`../dir/file`), followed.
fn fixture(rel: &str) -> Vec<u8> {
    let raw = std::fs::read(supply(&format!("{FIXTURES}/{rel}"))).unwrap();
    match raw.strip_prefix(b"../") {
        Some(target) => fixture(String::from_utf8(target.to_vec()).unwrap().trim()),
        None => raw,
    }
}

pub(crate) fn manifest_digest(case: &str) -> String {
    sha256_digest(&fixture(&format!("{case}/manifest.json")))
}

fn key(name: &str) -> PublicKey {
    PublicKey::from_pem(&read(&format!("{FIXTURES}/{name}"))).unwrap()
}

#[test]
fn containers_image_cosign_fixtures_give_the_expected_verdicts() {
    let cosign = key("cosign.pub");
    let cosign2 = key("cosign2.pub");
    let ok = |case: &str, n, k: &PublicKey| {
        let (c, _) = candidate(case, n);
        check_signature(k, &c, &manifest_digest(case))
    };
    assert_eq!(ok("dir-img-cosign-valid", 1, &cosign), Ok(()));
    assert_eq!(ok("dir-img-cosign-valid-2", 1, &cosign), Ok(()));
    assert_eq!(ok("dir-img-cosign-valid-2", 2, &cosign), Ok(()));
    assert_eq!(ok("dir-img-cosign-valid-with-tag", 1, &cosign), Ok(()));
    assert_eq!(ok("dir-img-cosign-key-rekor-valid", 1, &cosign2), Ok(()));
    let e = ok("dir-img-cosign-key-rekor-valid", 1, &cosign).unwrap_err();
    assert!(e.contains("does not verify"), "another key: {e}");
    for bad in [
        "dir-img-cosign-manifest-digest-error",
        "dir-img-cosign-modified-manifest",
    ] {
        let e = ok(bad, 1, &cosign).unwrap_err();
        assert!(e.contains("not the image digest"), "{bad}: {e}");
    }
}

#[test]
fn fulcio_signed_fixture_verifies_with_the_certificate_key_only() {
    // The certificate's key is not an attestor key: only keyed attestors are
    // supported, so cosign.pub must refuse it.
    let (c, _) = candidate("dir-img-cosign-fulcio-rekor-valid", 1);
    let e = check_signature(
        &key("cosign.pub"),
        &c,
        &manifest_digest("dir-img-cosign-fulcio-rekor-valid"),
    );
    assert!(e.is_err());
}

#[test]
fn other_attachment_and_unknown_key_are_refused() {
    let (c, v) = candidate("dir-img-cosign-other-attachment", 1);
    assert_eq!(v["mimeType"], "text/plain");
    assert!(check_signature(
        &key("cosign.pub"),
        &c,
        &manifest_digest("dir-img-cosign-other-attachment")
    )
    .is_err());
    let raw = std::fs::read(supply(&format!("{FIXTURES}/unknown-cosign-key.signature"))).unwrap();
    let v: Value =
        serde_json::from_slice(raw.strip_prefix(b"\x00sigstore-json\n").unwrap()).unwrap();
    let c = SignatureCandidate {
        payload: B64.decode(v["payload"].as_str().unwrap()).unwrap(),
        signature: B64
            .decode(v["annotations"][SIGNATURE_ANNOTATION].as_str().unwrap())
            .map_err(|e| e.to_string()),
        keyless: None,
    };
    for k in ["cosign.pub", "cosign2.pub"] {
        let e = check_signature(&key(k), &c, "sha256:00").unwrap_err();
        assert!(e.contains("does not verify"), "{k}: {e}");
    }
}

#[test]
fn cosign_attestation_layers_parse_as_dsse() {
    for case in ["valid/custom", "valid/vuln"] {
        let text = read(&format!("cosign-testdata/pkg/policy/testdata/{case}"));
        let env: Envelope = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(env.payload_type, "application/vnd.in-toto+json");
        let st: palisade_images::dsse::Statement =
            serde_json::from_slice(&env.body().unwrap()).unwrap();
        assert!(st
            .predicate_type
            .starts_with("https://cosign.sigstore.dev/attestation/"));
    }
    // cosign's "malformed" case: a predicate type that is not the URI, so a
    // policy asking for https://cosign.sigstore.dev/attestation/v1 refuses it.
    let text = read("cosign-testdata/pkg/policy/testdata/malformed/custom");
    let env: Envelope = serde_json::from_str(&text).unwrap();
    let st: palisade_images::dsse::Statement =
        serde_json::from_slice(&env.body().unwrap()).unwrap();
    assert_eq!(st.predicate_type, "cosign.sigstore.dev/attestation/v1");
}

#[test]
fn synth_two_attestors_envelopes_verify_only_with_their_own_key() {
    let a = PublicKey::from_pem(&read("synth-two-attestors/keys/attestor-a.pub")).unwrap();
    let b = PublicKey::from_pem(&read("synth-two-attestors/keys/attestor-b.pub")).unwrap();
    for (file, own, other) in [
        ("att-envelope-a.json", &a, &b),
        ("att-envelope-b.json", &b, &a),
    ] {
        let env: Envelope =
            serde_json::from_str(&read(&format!("synth-two-attestors/{file}"))).unwrap();
        let body = env.body().unwrap();
        assert!(env.verified_by(&body, |m, s| own.verify(m, s)), "{file}");
        assert!(!env.verified_by(&body, |m, s| other.verify(m, s)), "{file}");
    }
}
