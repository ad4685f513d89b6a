//! Against a real registry (Debian's docker-registry 2.8 on 127.0.0.1):
//! the two-attestor layout, a real cosign signature, TLS with basic auth,
//! and the four-attestor pipeline signed by Palisade itself.

use crate::registry_server::TestRegistry;
use crate::support::{rt, supply, verifier};
use palisade_core::images::ImageVerdict;
use palisade_images::reference::attached_tag;
use palisade_images::{ImageRef, Registry, RegistryOptions, SigningKey};
use serde_json::json;

const SYNTH_DIGEST: &str =
    "sha256:93a1533f6a5cfd5bb71caf2fb0b12fd403950fe334d83dcdcd4d20754b9aaed9";

/// Pushes every blob of `dir/blobs` and `manifest.<tag>.json` files of `dir`
/// to `repo` on `reg`.
fn push_attached(client: &Registry, host: &str, repo: &str, dir: &str, manifests: &[&str]) {
    let image = ImageRef::parse(&format!("{host}/{repo}:x")).unwrap();
    rt().block_on(async {
        for entry in std::fs::read_dir(supply(&format!("{dir}/blobs"))).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            client.push_blob(image.oci(), data).await.unwrap();
        }
        for tag in manifests {
            let body = std::fs::read(supply(&format!("{dir}/manifest.{tag}.json"))).unwrap();
            client
                .push_manifest(
                    &image.with_tag(tag),
                    body,
                    "application/vnd.oci.image.manifest.v1+json",
                )
                .await
                .unwrap();
        }
    });
}

pub(crate) fn plain_client(host: &str) -> Registry {
    Registry::new(RegistryOptions {
        insecure: vec![host.to_string()],
        ..Default::default()
    })
}

pub(crate) fn policy(host: &str, require: &str, attestors: &str) -> String {
    format!(
        "images:\n- name: demo\n  match: [\"127.0.0.1:*/demo/*\"]\n  require: {require}\n  attestors:\n{attestors}registries:\n  \"{host}\": {{insecure: true}}\n"
    )
}

fn sig_attestor(name: &str, key: &str) -> String {
    format!("  - name: {name}\n    key: {}\n", supply(key).display())
}

fn att_attestor(name: &str, key: &str, ptype: &str) -> String {
    format!(
        "  - name: {name}\n    key: {}\n    attestation:\n      predicateType: {ptype}\n",
        supply(key).display()
    )
}

pub(crate) fn attestor<'a>(
    v: &'a ImageVerdict,
    name: &str,
) -> &'a palisade_core::images::AttestorVerdict {
    v.policies[0]
        .attestors
        .iter()
        .find(|a| a.name == name)
        .unwrap()
}

#[test]
fn two_attestor_layout_gives_the_documented_verdicts() {
    let reg = TestRegistry::plain();
    reg.push_layout(
        &supply("synth-two-attestors/image-oci-layout"),
        "v1",
        "demo/app:v1",
        None,
    );
    let sig = attached_tag(SYNTH_DIGEST, "sig");
    let att = attached_tag(SYNTH_DIGEST, "att");
    push_attached(
        &plain_client(&reg.host),
        &reg.host,
        "demo/app",
        "synth-two-attestors",
        &[&sig, &att],
    );
    let dir = tempfile::tempdir().unwrap();
    let image = format!("{}/demo/app:v1", reg.host);
    let a = sig_attestor("a", "synth-two-attestors/keys/attestor-a.pub");
    let b = sig_attestor("b", "synth-two-attestors/keys/attestor-b.pub");
    // attestor c: a key that signed nothing
    let c_pem = SigningKey::generate().public_key_pem().unwrap();
    std::fs::write(dir.path().join("c.pub"), c_pem).unwrap();
    let c = "  - name: c\n    key: c.pub\n".to_string();
    let run = |yaml: String| rt().block_on(verifier(dir.path(), &yaml, None).verify(&image));

    let v = run(policy(&reg.host, "all", &a));
    assert!(v.passed(), "{{a}} admits: {v:?}");
    assert_eq!(
        v.digest.as_deref(),
        Some(SYNTH_DIGEST),
        "the tag resolves to the signed digest"
    );
    assert!(
        run(policy(&reg.host, "all", &format!("{a}{b}"))).passed(),
        "{{a,b}} admits"
    );
    let v = run(policy(&reg.host, "all", &format!("{a}{b}{c}")));
    assert!(!v.passed(), "{{a,b,c}} denies");
    let cv = attestor(&v, "c");
    assert!(
        !cv.passed && cv.reason.contains("none of the 2 signatures"),
        "{cv:?}"
    );
    assert!(attestor(&v, "a").passed && attestor(&v, "b").passed);
    assert!(
        run(policy(&reg.host, "{count: 2}", &format!("{a}{b}{c}"))).passed(),
        "count 2 admits"
    );
    assert!(!run(policy(&reg.host, "{count: 3}", &format!("{a}{b}{c}"))).passed());

    let ptype = "https://cosign.sigstore.dev/attestation/v1";
    let aa = att_attestor("a-att", "synth-two-attestors/keys/attestor-a.pub", ptype);
    let ba = att_attestor("b-att", "synth-two-attestors/keys/attestor-b.pub", ptype);
    let v = run(policy(&reg.host, "all", &format!("{aa}{ba}")));
    assert!(v.passed(), "both attestations verify: {v:?}");
    let wrong = att_attestor(
        "vuln",
        "synth-two-attestors/keys/attestor-a.pub",
        "https://cosign.sigstore.dev/attestation/vuln/v1",
    );
    let v = run(policy(&reg.host, "all", &wrong));
    assert!(!v.passed());
    assert!(
        attestor(&v, "vuln")
            .reason
            .contains("no attestation of type"),
        "{v:?}"
    );
    // Not matched: another repository is admitted (imagesUnmatched: allow).
    let v = rt().block_on(
        verifier(dir.path(), &policy(&reg.host, "all", &a), None)
            .verify(&format!("{}/other/app:v1", reg.host)),
    );
    assert!(v.passed() && v.policies.is_empty());
}

#[test]
fn real_cosign_signature_verifies_from_the_registry() {
    // containers/image's cosign-made signature, in cosign's .sig layout; the
    // signed image itself is not in the registry: it is named by digest.
    let reg = TestRegistry::plain();
    let digest = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
    let client = plain_client(&reg.host);
    let image = ImageRef::parse(&format!("{}/demo/signed@{digest}", reg.host)).unwrap();
    let dir = "containers-image-cosign/registry-replay";
    rt().block_on(async {
        for f in ["blob-payload.json", "blob-config.json"] {
            client
                .push_blob(
                    image.oci(),
                    std::fs::read(supply(&format!("{dir}/{f}"))).unwrap(),
                )
                .await
                .unwrap();
        }
        let tag = attached_tag(digest, "sig");
        let body = std::fs::read(supply(&format!("{dir}/manifest.{tag}.json"))).unwrap();
        client
            .push_manifest(
                &image.with_tag(&tag),
                body,
                "application/vnd.oci.image.manifest.v1+json",
            )
            .await
            .unwrap();
    });
    let tmp = tempfile::tempdir().unwrap();
    let yaml = policy(
        &reg.host,
        "all",
        &sig_attestor(
            "cosign",
            "containers-image-cosign/signature/fixtures/cosign.pub",
        ),
    );
    let v = rt().block_on(verifier(tmp.path(), &yaml, None).verify(&image.oci().whole()));
    assert!(v.passed(), "{v:?}");
    let yaml = policy(
        &reg.host,
        "all",
        &sig_attestor(
            "cosign2",
            "containers-image-cosign/signature/fixtures/cosign2.pub",
        ),
    );
    let v = rt().block_on(verifier(tmp.path(), &yaml, None).verify(&image.oci().whole()));
    assert!(!v.passed(), "another key: {v:?}");
}

#[test]
fn tls_registry_with_basic_auth() {
    let reg = TestRegistry::tls_with_auth("ci", "s3cret");
    reg.push_layout(
        &supply("synth-two-attestors/image-oci-layout"),
        "v1",
        "demo/app:v1",
        Some("ci:s3cret"),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), reg.ca_pem.as_ref().unwrap()).unwrap();
    let key = SigningKey::generate();
    std::fs::write(dir.path().join("k.pub"), key.public_key_pem().unwrap()).unwrap();
    let yaml = |on_error: &str| {
        format!(
            "images:\n- name: demo\n  match: [\"127.0.0.1:*/demo/*\"]\n  onRegistryError: {on_error}\n  attestors:\n  - {{name: build, key: k.pub}}\nregistries:\n  \"{}\": {{ca: ca.pem}}\n",
            reg.host
        )
    };
    let image = format!("{}/demo/app:v1", reg.host);
    let creds = Some((reg.host.as_str(), "ci", "s3cret"));
    // Sign over TLS with credentials, then verify with them.
    let v = verifier(dir.path(), &yaml("deny"), creds);
    let mut opts = v.policies().registry.clone();
    opts.credentials
        .insert(reg.host.clone(), ("ci".into(), "s3cret".into()));
    let client = Registry::new(opts);
    let img = ImageRef::parse(&image).unwrap();
    rt().block_on(palisade_images::sign::sign_legacy(&client, &img, &key))
        .unwrap();
    let verdict = rt().block_on(v.verify(&image));
    assert!(verdict.passed(), "{verdict:?}");
    // Without credentials: an authentication error, denied by default ...
    let verdict = rt().block_on(verifier(dir.path(), &yaml("deny"), None).verify(&image));
    assert!(!verdict.passed());
    let err = verdict.policies[0].registry_error.as_deref().unwrap();
    assert!(
        err.contains("authentication") || err.contains("unauthorized"),
        "{err}"
    );
    // ... and allowed when the policy says so.
    let verdict = rt().block_on(verifier(dir.path(), &yaml("allow"), None).verify(&image));
    assert!(verdict.passed() && verdict.policies[0].registry_error.is_some());
    // Wrong CA: a TLS error, never a pass.
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    std::fs::write(dir.path().join("ca.pem"), other.cert.pem()).unwrap();
    let verdict = rt().block_on(verifier(dir.path(), &yaml("deny"), creds).verify(&image));
    assert!(
        !verdict.passed() && verdict.policies[0].registry_error.is_some(),
        "{verdict:?}"
    );
}

/// The pipeline of the talk: a build signature and three attestations,
/// each by its own key, signed by Palisade itself.
#[test]
fn four_attestors_all_admit_three_deny_count_three_admits() {
    let reg = TestRegistry::plain();
    reg.push_layout(
        &supply("synth-two-attestors/image-oci-layout"),
        "v1",
        "demo/shop:v1",
        None,
    );
    let client = plain_client(&reg.host);
    let image = format!("{}/demo/shop:v1", reg.host);
    let img = ImageRef::parse(&image).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "build",
        "vulnerability-scan",
        "dependency-review",
        "integration-test",
    ];
    let keys: Vec<SigningKey> = names.iter().map(|_| SigningKey::generate()).collect();
    let mut attestors = String::new();
    for (n, k) in names.iter().zip(&keys) {
        std::fs::write(
            dir.path().join(format!("{n}.pub")),
            k.public_key_pem().unwrap(),
        )
        .unwrap();
        attestors.push_str(&format!("  - name: {n}\n    key: {n}.pub\n"));
        if *n != "build" {
            attestors.push_str(&format!(
                "    attestation:\n      predicateType: https://example.com/{n}/v1\n"
            ));
            if *n == "vulnerability-scan" {
                attestors
                    .push_str("      condition: \"predicate.scanner.result.criticalCount == 0\"\n");
            }
        }
    }
    let yaml = |require: &str| policy(&reg.host, require, &attestors);
    rt().block_on(async {
        palisade_images::sign::sign_legacy(&client, &img, &keys[0])
            .await
            .unwrap();
        let predicate = json!({"scanner": {"result": {"criticalCount": 0}}});
        palisade_images::sign::attest_legacy(
            &client,
            &img,
            &keys[1],
            "https://example.com/vulnerability-scan/v1",
            predicate,
        )
        .await
        .unwrap();
        palisade_images::sign::attest_legacy(
            &client,
            &img,
            &keys[2],
            "https://example.com/dependency-review/v1",
            json!({"ok": true}),
        )
        .await
        .unwrap();
    });
    let v = rt().block_on(verifier(dir.path(), &yaml("all"), None).verify(&image));
    assert!(!v.passed(), "three of four: denied");
    let missing: Vec<_> = v.policies[0]
        .attestors
        .iter()
        .filter(|a| !a.passed)
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(missing, ["integration-test"], "{v:?}");
    assert!(rt()
        .block_on(verifier(dir.path(), &yaml("{count: 3}"), None).verify(&image))
        .passed());
    rt().block_on(palisade_images::sign::attest_legacy(
        &client,
        &img,
        &keys[3],
        "https://example.com/integration-test/v1",
        json!({}),
    ))
    .unwrap();
    let v = rt().block_on(verifier(dir.path(), &yaml("all"), None).verify(&image));
    assert!(v.passed(), "all four: {v:?}");
    // A failing vulnerability scan (criticalCount 2), by the right key, does not count.
    let img2 = format!("{}/demo/shop2:v1", reg.host);
    reg.push_layout(
        &supply("synth-two-attestors/image-oci-layout"),
        "v1",
        "demo/shop2:v1",
        None,
    );
    let i2 = ImageRef::parse(&img2).unwrap();
    rt().block_on(palisade_images::sign::attest_legacy(
        &client,
        &i2,
        &keys[1],
        "https://example.com/vulnerability-scan/v1",
        json!({"scanner": {"result": {"criticalCount": 2}}}),
    ))
    .unwrap();
    let v = rt().block_on(verifier(dir.path(), &yaml("all"), None).verify(&img2));
    assert!(
        attestor(&v, "vulnerability-scan")
            .reason
            .contains("is false"),
        "{v:?}"
    );
}
