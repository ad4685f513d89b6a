//! Hostile input: each a denial with the reason, never a panic or a pass.

use crate::support::{config_in, read, rt};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use palisade_images::dsse::Envelope;
use palisade_images::legacy::{
    check_attestation, check_signature, signature_payload, AttestationCheck, SignatureCandidate,
};
use palisade_images::{ImagePolicies, PublicKey, Registry, SigningKey, Verifier, VerifierOptions};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const D: &str = "sha256:93a1533f6a5cfd5bb71caf2fb0b12fd403950fe334d83dcdcd4d20754b9aaed9";
const OTHER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

fn key_pair() -> (SigningKey, PublicKey) {
    let k = SigningKey::generate();
    let p = k.public_key();
    (k, p)
}

#[test]
fn garbage_truncated_and_misdirected_signatures_are_refused() {
    let (k, p) = key_pair();
    let payload = signature_payload("r/x", D);
    let good = k.sign(&payload);
    let cand = |sig: Result<Vec<u8>, String>, payload: Vec<u8>| SignatureCandidate {
        payload,
        signature: sig,
        keyless: None,
    };
    assert_eq!(
        check_signature(&p, &cand(Ok(good.clone()), payload.clone()), D),
        Ok(())
    );
    for bad in [vec![], b"garbage".to_vec(), good[..good.len() - 3].to_vec()] {
        let e = check_signature(&p, &cand(Ok(bad), payload.clone()), D).unwrap_err();
        assert!(e.contains("does not verify"), "{e}");
    }
    let e = check_signature(
        &p,
        &cand(
            B64.decode("%%%").map_err(|e| e.to_string()),
            payload.clone(),
        ),
        D,
    )
    .unwrap_err();
    assert!(!e.is_empty());
    // Payload for another digest, validly signed.
    let other = signature_payload("r/x", OTHER);
    let e = check_signature(&p, &cand(Ok(k.sign(&other)), other), D).unwrap_err();
    assert!(e.contains("not the image digest"), "{e}");
    // Signed garbage payload.
    let e = check_signature(&p, &cand(Ok(k.sign(b"{]")), b"{]".to_vec()), D).unwrap_err();
    assert!(e.contains("not JSON"), "{e}");
    // A valid signature by another attestor's key.
    let (_, p2) = key_pair();
    assert!(check_signature(&p2, &cand(Ok(good), payload), D)
        .unwrap_err()
        .contains("does not verify"));
}

fn envelope(k: &SigningKey, subject_digest: &str, ptype: &str) -> Result<Envelope, String> {
    let st = json!({"_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "r/x", "digest": {"sha256": subject_digest.trim_start_matches("sha256:")}}],
        "predicateType": ptype, "predicate": {}});
    Ok(Envelope::sign_statement(
        &serde_json::to_vec(&st).unwrap(),
        |m| k.sign(m),
    ))
}

#[test]
fn attestations_for_another_subject_or_type_are_refused() {
    let (k, p) = key_pair();
    let want = AttestationCheck {
        predicate_type: "https://t/v1",
        condition: None,
    };
    assert_eq!(
        check_attestation(&p, &envelope(&k, D, "https://t/v1"), D, &want),
        Ok(())
    );
    let e = check_attestation(&p, &envelope(&k, OTHER, "https://t/v1"), D, &want).unwrap_err();
    assert!(e.contains("another subject"), "{e}");
    let e = check_attestation(&p, &envelope(&k, D, "https://u/v1"), D, &want).unwrap_err();
    assert!(e.contains("predicate type"), "{e}");
    let (_, p2) = key_pair();
    let e = check_attestation(&p2, &envelope(&k, D, "https://t/v1"), D, &want).unwrap_err();
    assert!(e.contains("does not verify"), "{e}");
    // A tampered payload (signature kept) fails.
    let mut env = envelope(&k, D, "https://t/v1").unwrap();
    env.payload = B64.encode(br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://t/v1"}"#);
    assert!(check_attestation(&p, &Ok(env), D, &want).is_err());
    assert!(check_attestation(&p, &Err("unreadable".into()), D, &want).is_err());
}

#[test]
fn bad_policies_are_config_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.pub"), read("openssl-keys/x25519.pub")).unwrap();
    let cases = [
        ("images:\n- name: p\n  match: [a]\n  attestors:\n  - {name: a, key: x.pub}\n", "images[0].attestors[0].key", "unsupported key type"),
        ("images:\n- name: p\n  match: [a]\n  attestors:\n  - {name: a, key: missing.pub}\n", "images[0].attestors[0].key", "cannot read"),
        ("images:\n- name: p\n  match: [\"a[\"]\n  attestors:\n  - {name: a, key: x.pub}\n", "images[0].match[0]", "glob"),
        ("images:\n- name: p\n  match: [a]\n  require: {count: 3}\n  attestors:\n  - {name: a, key: x.pub}\n", "images[0].require", "count"),
        ("images:\n- name: p\n  match: [a]\n  require: most\n  attestors: []\n", "images[0].require", "all"),
    ];
    for (yaml, key, msg) in cases {
        let e = match config_in(dir.path(), yaml) {
            Err(e) => e,
            Ok(c) => ImagePolicies::from_config(&c).unwrap_err(),
        };
        assert_eq!(e.key, key, "{e}");
        assert!(e.to_string().contains(msg), "{e}");
        assert!(e.pos.is_some(), "{e}");
    }
    let pem = SigningKey::generate().public_key_pem().unwrap();
    std::fs::write(dir.path().join("k.pub"), pem).unwrap();
    let c = config_in(dir.path(), "images:\n- name: p\n  match: [a]\n  attestors:\n  - name: a\n    key: k.pub\n    attestation:\n      predicateType: t\n      condition: \"predicate.(\"\n").unwrap();
    let e = ImagePolicies::from_config(&c).unwrap_err();
    assert_eq!(e.key, "images[0].attestors[0].attestation.condition");
    assert_eq!(e.pos.map(|p| p.line), Some(9), "{e}");
}

/// A fake registry on 127.0.0.1 that misbehaves in one way.
#[derive(Clone, Copy)]
enum Misbehave {
    ServerError,
    Hang,
    SlowBody,
    HugeManifest,
}

async fn fake_registry(mode: Misbehave) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = l.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                match mode {
                    Misbehave::ServerError => {
                        let _ = s.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\nboom").await;
                    }
                    Misbehave::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
                    Misbehave::SlowBody => {
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ndocker-content-digest: sha256:93a1533f6a5cfd5bb71caf2fb0b12fd403950fe334d83dcdcd4d20754b9aaed9\r\ncontent-length: 100000\r\n\r\n").await;
                        for _ in 0..1000 {
                            if s.write_all(b" ").await.is_err() {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                    Misbehave::HugeManifest => {
                        let body = vec![b' '; 5 << 20];
                        let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ncontent-length: {}\r\n\r\n", body.len());
                        let _ = s.write_all(head.as_bytes()).await;
                        let _ = s.write_all(&body).await;
                    }
                }
            });
        }
    });
    host
}

#[test]
fn misbehaving_registries_are_denials_within_the_budget() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k.pub"),
        SigningKey::generate().public_key_pem().unwrap(),
    )
    .unwrap();
    for (mode, expect) in [
        (Misbehave::ServerError, "HTTP 500"),
        (Misbehave::Hang, "timeout"),
        (Misbehave::SlowBody, "timeout"),
        (Misbehave::HugeManifest, "cap"),
    ] {
        let host = rt.block_on(fake_registry(mode));
        let yaml = format!("images:\n- name: p\n  match: [\"127.0.0.1:*/**\"]\n  attestors:\n  - {{name: a, key: k.pub}}\nregistries:\n  \"{host}\": {{insecure: true}}\n");
        let config = config_in(dir.path(), &yaml).unwrap();
        let policies = ImagePolicies::from_config(&config).unwrap();
        let registry = Registry::new(policies.registry.clone());
        let opts = VerifierOptions {
            budget: Duration::from_millis(600),
            ..Default::default()
        };
        let v = Verifier::new(Arc::new(policies), registry, opts);
        // By digest: the .sig manifest read misbehaves; by tag: the HEAD does.
        for image in [
            format!("{host}/demo/app@{D}"),
            format!("{host}/demo/app:v1"),
        ] {
            let start = Instant::now();
            let verdict = rt.block_on(v.verify(&image));
            assert!(
                start.elapsed() < Duration::from_secs(3),
                "bounded by the budget"
            );
            assert!(!verdict.passed(), "{image}: {verdict:?}");
            let err = verdict.policies[0]
                .registry_error
                .clone()
                .unwrap_or_default();
            if image.contains('@') || !matches!(mode, Misbehave::HugeManifest | Misbehave::SlowBody)
            {
                assert!(err.contains(expect), "{image}: {err}");
            }
        }
    }
}
