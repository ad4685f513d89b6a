//! Sigstore bundles on images against the real registry (Debian's
//! docker-registry 2.8, which has no referrers API): `sign`/`attest`
//! write bundle v0.3 referrers under the fallback tag, verification finds
//! them there, and keys, subjects, predicate types and conditions decide.

use crate::live::{attestor, plain_client, policy};
use crate::registry_server::TestRegistry;
use crate::support::{rt, supply, verifier};
use palisade_images::bundle::oci::{fetch_bundles, push_bundle};
use palisade_images::bundle::sign::{attest_bundle, bundle_for, sign_bundle, statement};
use palisade_images::{ImageRef, SigningKey};
use serde_json::{json, Value};

const VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

fn key_attestors(dir: &std::path::Path, sign: &SigningKey, scan: &SigningKey) -> String {
    std::fs::write(dir.join("build.pub"), sign.public_key_pem().unwrap()).unwrap();
    std::fs::write(dir.join("scan.pub"), scan.public_key_pem().unwrap()).unwrap();
    format!(
        "  - name: build\n    key: build.pub\n  - name: scan\n    key: scan.pub\n    attestation:\n      predicateType: {VULN}\n      condition: \"predicate.scanner.result.criticalCount == 0\"\n"
    )
}

#[test]
fn bundles_are_written_under_the_fallback_tag_and_verify() {
    let reg = TestRegistry::plain();
    reg.push_layout(
        &supply("synth-two-attestors/image-oci-layout"),
        "v1",
        "demo/bundled:v1",
        None,
    );
    let client = plain_client(&reg.host);
    let image = format!("{}/demo/bundled:v1", reg.host);
    let img = ImageRef::parse(&image).unwrap();
    let (build, scan) = (SigningKey::generate(), SigningKey::generate());
    let dir = tempfile::tempdir().unwrap();
    let attestors = key_attestors(dir.path(), &build, &scan);
    let yaml = policy(&reg.host, "all", &attestors);

    let v = rt().block_on(verifier(dir.path(), &yaml, None).verify(&image));
    assert!(!v.passed(), "nothing signed yet: {v:?}");
    assert!(
        attestor(&v, "build").reason.contains("bundle referrer"),
        "{v:?}"
    );

    let written = rt().block_on(sign_bundle(&client, &img, &build)).unwrap();
    assert!(
        written.reference.contains("referrers fallback tag"),
        "{written:?}"
    );
    let predicate = json!({"scanner": {"result": {"criticalCount": 0}}});
    rt().block_on(attest_bundle(&client, &img, &scan, VULN, predicate))
        .unwrap();

    // The fallback tag holds an image index listing both bundle manifests.
    let tag = written.digest.replace(':', "-");
    let (body, _) = rt()
        .block_on(client.manifest(&img.with_tag(&tag)))
        .unwrap()
        .expect("fallback tag");
    let index: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{index}");
    assert!(entries
        .iter()
        .all(|e| e["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"));
    let found = rt()
        .block_on(fetch_bundles(&client, &img, &written.digest))
        .unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|f| f.bundle.is_ok()));
    let mut types: Vec<_> = found
        .iter()
        .filter_map(|f| f.predicate_type.clone())
        .collect();
    types.sort();
    assert_eq!(types, [VULN, "https://sigstore.dev/cosign/sign/v1"]);

    let v = rt().block_on(verifier(dir.path(), &yaml, None).verify(&image));
    assert!(
        v.passed(),
        "signature and attestation bundles verify: {v:?}"
    );

    // Another key for the build attestor: refused, naming why.
    let other = SigningKey::generate();
    std::fs::write(
        dir.path().join("build.pub"),
        other.public_key_pem().unwrap(),
    )
    .unwrap();
    let v = rt().block_on(verifier(dir.path(), &yaml, None).verify(&image));
    assert!(!v.passed());
    let reason = &attestor(&v, "build").reason;
    // The attestation bundle is not even tried (its descriptor announces
    // another predicate type): one signature candidate.
    assert!(reason.contains("none of the 1 signatures"), "{reason}");
}

#[test]
fn bundle_content_decides_not_its_annotations() {
    let reg = TestRegistry::plain();
    reg.push_layout(
        &supply("synth-two-attestors/image-oci-layout"),
        "v1",
        "demo/hostile:v1",
        None,
    );
    let client = plain_client(&reg.host);
    let image = format!("{}/demo/hostile:v1", reg.host);
    let img = ImageRef::parse(&image).unwrap();
    let (build, scan) = (SigningKey::generate(), SigningKey::generate());
    let dir = tempfile::tempdir().unwrap();
    let yaml = policy(&reg.host, "all", &key_attestors(dir.path(), &build, &scan));
    let digest = rt().block_on(client.resolve(&img)).unwrap();
    let other = format!("sha256:{}", "ab".repeat(32));
    rt().block_on(async {
        // A signature statement about another image, pushed as a referrer
        // of this one.
        let st = statement(&img, &other, "https://sigstore.dev/cosign/sign/v1", None);
        let b = serde_json::to_vec(&bundle_for(&st, &build).unwrap()).unwrap();
        push_bundle(
            &client,
            &img,
            &digest,
            b,
            "https://sigstore.dev/cosign/sign/v1",
        )
        .await
        .unwrap();
        // A scan with critical findings, annotated as the right type.
        let bad = json!({"scanner": {"result": {"criticalCount": 3}}});
        attest_bundle(&client, &img, &scan, VULN, bad)
            .await
            .unwrap();
        // A scan of the wrong predicate type.
        let st = statement(
            &img,
            &digest,
            "https://example.com/other/v1",
            Some(json!({})),
        );
        let b = serde_json::to_vec(&bundle_for(&st, &scan).unwrap()).unwrap();
        push_bundle(&client, &img, &digest, b, VULN).await.unwrap();
        // A garbage bundle.
        push_bundle(&client, &img, &digest, b"{\"mediaType\":".to_vec(), VULN)
            .await
            .unwrap();
    });
    let v = rt().block_on(verifier(dir.path(), &yaml, None).verify(&image));
    assert!(!v.passed(), "{v:?}");
    let build_reason = &attestor(&v, "build").reason;
    assert!(build_reason.contains("another subject"), "{build_reason}");
    let scan_reason = &attestor(&v, "scan").reason;
    assert!(!attestor(&v, "scan").passed, "{scan_reason}");
}
