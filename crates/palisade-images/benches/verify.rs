//! Image verification benchmark (prints figures; not a timed test):
//! cold verification of one image with four attestors (a build signature
//! and three attestations) against Debian's docker-registry on loopback,
//! and warm verification from the verdict cache.
//!
//! `cargo bench -p palisade-images --bench verify` (cosign's legacy layout);
//! `BENCH_LAYOUT=bundle cargo bench -p palisade-images --bench verify`
//! signs with Sigstore bundle referrers instead (the fallback tag on
//! docker-registry 2.8).

#[path = "../tests/it/registry_server.rs"]
mod registry_server;

use palisade_core::Config;
use palisade_images::{
    ImagePolicies, ImageRef, Registry, RegistryOptions, SigningKey, Verifier, VerifierOptions,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAMES: [&str; 4] = [
    "build",
    "vulnerability-scan",
    "dependency-review",
    "integration-test",
];

fn main() {
    let reg = registry_server::TestRegistry::plain();
    let layout = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/supply/synth-two-attestors/image-oci-layout");
    reg.push_layout(&layout, "v1", "demo/shop:v1", None);
    let image = format!("{}/demo/shop:v1", reg.host);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = Registry::new(RegistryOptions {
        insecure: vec![reg.host.clone()],
        ..Default::default()
    });
    let img = ImageRef::parse(&image).expect("reference");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut yaml =
        String::from("images:\n- name: shop\n  match: [\"127.0.0.1:*/demo/*\"]\n  attestors:\n");
    for (i, n) in NAMES.iter().enumerate() {
        let key = SigningKey::generate();
        let pub_path = dir.path().join(format!("{n}.pub"));
        std::fs::write(&pub_path, key.public_key_pem().expect("pem")).expect("write key");
        yaml.push_str(&format!("  - name: {n}\n    key: {}\n", pub_path.display()));
        let bundles = std::env::var("BENCH_LAYOUT").as_deref() == Ok("bundle");
        rt.block_on(async {
            use palisade_images::bundle::sign::{attest_bundle, sign_bundle};
            use palisade_images::sign::{attest_legacy, sign_legacy};
            if i == 0 {
                return match bundles {
                    true => sign_bundle(&client, &img, &key).await,
                    false => sign_legacy(&client, &img, &key).await,
                };
            }
            yaml.push_str(&format!(
                "    attestation:\n      predicateType: https://example.com/{n}/v1\n"
            ));
            let p = serde_json::json!({"scanner": {"result": {"criticalCount": 0}}});
            let t = format!("https://example.com/{n}/v1");
            match bundles {
                true => attest_bundle(&client, &img, &key, &t, p).await,
                false => attest_legacy(&client, &img, &key, &t, p).await,
            }
        })
        .expect("sign");
    }
    yaml.push_str(&format!(
        "registries:\n  \"{}\": {{insecure: true}}\n",
        reg.host
    ));
    let config = Config::parse(&yaml, "bench.yaml").expect("config");
    let policies = Arc::new(ImagePolicies::from_config(&config).expect("policies"));

    // Cold: a new verifier (empty caches, new connections) per verification.
    let mut cold = Vec::new();
    for _ in 0..50 {
        let v = Verifier::new(
            policies.clone(),
            Registry::new(policies.registry.clone()),
            VerifierOptions::default(),
        );
        let t = Instant::now();
        let verdict = rt.block_on(v.verify(&image));
        cold.push(t.elapsed());
        assert!(verdict.passed(), "{verdict:?}");
    }
    // Warm-connection, cold cache: one client, caches off.
    let opts = VerifierOptions {
        verdict_ttl: Duration::ZERO,
        tag_ttl: Duration::ZERO,
        ..Default::default()
    };
    let v = Verifier::new(
        policies.clone(),
        Registry::new(policies.registry.clone()),
        opts,
    );
    let mut uncached = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        assert!(rt.block_on(v.verify(&image)).passed());
        uncached.push(t.elapsed());
    }
    // Warm: verdict and tag cached.
    let v = Verifier::new(
        policies.clone(),
        Registry::new(policies.registry.clone()),
        VerifierOptions::default(),
    );
    assert!(rt.block_on(v.verify(&image)).passed());
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(rt.block_on(v.verify(&image)));
    }
    let warm = t.elapsed() / n;
    report("cold (new client, empty cache)", &mut cold);
    report("uncached (connections kept, caches off)", &mut uncached);
    println!(
        "warm (verdict cached): {:.2} µs per image",
        warm.as_secs_f64() * 1e6
    );
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{what}: median {:.2} ms, p90 {:.2} ms, max {:.2} ms ({} runs, four attestors)",
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 9 / 10]),
        ms(samples[samples.len() - 1]),
        samples.len()
    );
}
