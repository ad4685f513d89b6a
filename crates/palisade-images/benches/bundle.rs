//! Offline bundle verification benchmark (prints figures; not a timed
//! test): parse the trusted root and a bundle, then verify it fully
//! (certificate chain and SCT, log entry, inclusion proof and checkpoint,
//! SET or RFC 3161 timestamp, identity), for conformance-suite bundles.
//!
//! `cargo bench -p palisade-images --bench bundle`

use palisade_images::bundle::{
    self, verify_bundle, Artifact, Expectation, Identity, Pattern, TrustedRoot,
};
use std::path::PathBuf;
use std::time::Instant;

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";

fn main() {
    let suite = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/supply/sigstore-conformance");
    let cases = suite.join("test/assets/bundle-verify");
    let artifact = std::fs::read(cases.join("a.txt")).expect("a.txt");
    let expect = Expectation::Identity(Identity {
        issuer: Pattern::Exact(ISSUER.into()),
        subject: Pattern::Exact(IDENTITY.into()),
    });
    for case in ["happy-path-v0.3", "rekor2-happy-path"] {
        let dir = cases.join(case);
        let root_file = match dir.join("trusted_root.json").exists() {
            true => dir.join("trusted_root.json"),
            false => suite.join("trust-roots/production-trusted_root.json"),
        };
        let root_json = std::fs::read(root_file).expect("root");
        let bundle_json = std::fs::read(dir.join("bundle.sigstore.json")).expect("bundle");
        let n = 200;
        let t = Instant::now();
        for _ in 0..n {
            let root = TrustedRoot::from_json(&root_json).expect("root");
            let b = bundle::parse_bundle(&bundle_json).expect("bundle");
            let v = verify_bundle(&b, &Artifact::Bytes(&artifact), &expect, Some(&root));
            assert!(std::hint::black_box(v).is_ok());
        }
        let per = t.elapsed() / n;
        println!(
            "{case}: {:.3} ms per bundle (trusted root parsed each time, {n} runs)",
            per.as_secs_f64() * 1e3
        );
    }
}
