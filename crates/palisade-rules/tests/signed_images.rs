//! The image rules read the verification verdicts from the context: each
//! names the image, the policy, the missing attestor and why; without
//! verdicts (an offline scan) they say nothing.

use palisade_core::images::{AttestorVerdict, ImageVerdict, ImageVerdicts, PolicyVerdict};
use palisade_core::{Config, Context, Extensions, Inventory, PolicySet, Resource};
use serde_json::json;

fn set() -> PolicySet {
    let rules = palisade_rules::images::rules();
    PolicySet::builder(Config::default())
        .rules(rules)
        .build()
        .unwrap()
}

fn pod(image: &str) -> Resource {
    Resource::from_value(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {"template": {"spec": {
            "initContainers": [{"name": "init", "image": "busybox:1"}],
            "containers": [{"name": "app", "image": image}]}}}}))
    .unwrap()
}

fn attestor(name: &str, attestation: bool, passed: bool, reason: &str) -> AttestorVerdict {
    AttestorVerdict {
        name: name.into(),
        attestation,
        passed,
        reason: reason.into(),
    }
}

fn verdict(image: &str, policies: Vec<PolicyVerdict>) -> ImageVerdict {
    ImageVerdict {
        image: image.into(),
        digest: Some(format!("sha256:{}", "a".repeat(64))),
        policies,
        error: None,
        unmatched_denied: false,
    }
}

fn findings(verdicts: Vec<ImageVerdict>, image: &str) -> Vec<(String, String, String)> {
    let mut ext = Extensions::default();
    ext.insert(ImageVerdicts {
        images: verdicts.into_iter().map(|v| (v.image.clone(), v)).collect(),
    });
    let inv = Inventory::default();
    let ctx = Context::new(&inv, &ext, jiff::Timestamp::UNIX_EPOCH);
    let mut out: Vec<_> = set()
        .evaluate(&pod(image), &ctx)
        .findings
        .into_iter()
        .map(|f| (f.rule.to_string(), f.path.to_string(), f.message.clone()))
        .collect();
    out.sort();
    out
}

#[test]
fn missing_attestors_are_named_with_their_reason() {
    let image = "reg.example/shop/app:v1";
    let p = PolicyVerdict {
        name: "shop".into(),
        passed: false,
        require: "all".into(),
        registry_error: None,
        attestors: vec![
            attestor("build", false, false, "no signature found (.sig)"),
            attestor("vuln", true, true, "attestation verified"),
            attestor(
                "integration-test",
                true,
                false,
                "no attestation of type t found (.att)",
            ),
        ],
    };
    let f = findings(vec![verdict(image, vec![p])], image);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f[0].0, "image-attestation-missing");
    assert_eq!(f[0].1, "spec.template.spec.containers[0].image");
    assert!(
        f[0].2
            .contains("integration-test (no attestation of type t found (.att))")
            && f[0].2.contains("`shop`"),
        "{}",
        f[0].2
    );
    assert!(!f[0].2.contains("vuln"));
    assert_eq!(f[1].0, "image-signature-missing");
    assert!(
        f[1].2.contains("build (no signature found (.sig))"),
        "{}",
        f[1].2
    );
}

#[test]
fn passing_policies_registry_errors_and_unmatched_images() {
    let image = "reg.example/shop/app:v1";
    let ok = PolicyVerdict {
        name: "shop".into(),
        passed: true,
        require: "2".into(),
        registry_error: None,
        attestors: vec![
            attestor("a", false, true, "ok"),
            attestor("b", false, true, "ok"),
            attestor("c", false, false, "none"),
        ],
    };
    assert!(
        findings(vec![verdict(image, vec![ok])], image).is_empty(),
        "count met: no finding"
    );
    let down = PolicyVerdict {
        name: "shop".into(),
        passed: false,
        require: "all".into(),
        registry_error: Some("registry timeout after 3000 ms".into()),
        attestors: vec![],
    };
    let f = findings(vec![verdict(image, vec![down.clone()])], image);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, "image-verification-failed");
    assert!(f[0].2.contains("timeout"), "{}", f[0].2);
    let allowed = PolicyVerdict {
        passed: true,
        ..down
    };
    assert!(
        findings(vec![verdict(image, vec![allowed])], image).is_empty(),
        "onRegistryError: allow"
    );
    let mut unmatched = verdict(image, vec![]);
    unmatched.unmatched_denied = true;
    let f = findings(vec![unmatched], image);
    assert_eq!(f[0].0, "image-signature-missing");
    assert!(f[0].2.contains("matches no image policy"));
    assert!(
        findings(vec![verdict(image, vec![])], image).is_empty(),
        "unmatched, allowed"
    );
}

#[test]
fn no_verdicts_no_findings() {
    let inv = Inventory::default();
    let ext = Extensions::default();
    let ctx = Context::new(&inv, &ext, jiff::Timestamp::UNIX_EPOCH);
    assert!(set().evaluate(&pod("x:1"), &ctx).findings.is_empty());
}
