//! The entry points the fuzz targets drive, one function per target, shared
//! by the libFuzzer binaries (fuzz/fuzz_targets) and the regression test that
//! replays the seed corpus and every crash found
//! (crates/palisade/tests/fuzz_regressions.rs). Each must return, never panic.
#![allow(dead_code)]

const KEY: &str = include_str!("../testdata/supply/openssl-keys/p256.pub");
use palisade_core::Resource;
use palisade_images::{dsse, legacy, reference::ImageRef, PublicKey};
use palisade_webhook::review::Review;
use serde_json::json;
use std::sync::Arc;

/// The manifest loader: a YAML/JSON stream as kubectl reads it, to resources.
pub fn yaml_stream(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file: Arc<str> = Arc::from("fuzz.yaml");
    for doc in palisade_core::yaml::parse_stream(text)
        .into_iter()
        .flatten()
    {
        let _ = palisade_core::Resource::from_document(doc, &file);
    }
}

/// The webhook's AdmissionReview decoder, with and without the raw object.
pub fn admission_review(data: &[u8]) {
    let _ = Review::parse(data);
    let _ = Review::parse_with(data, true);
}

/// The configuration loader (palisade.yaml) and the sections read from it:
/// webhook settings and image policies.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = palisade_core::Config::parse(text, "palisade.yaml") else {
        return;
    };
    let _ = palisade_webhook::WebhookSettings::from_config(&config);
    let _ = palisade_images::policy::ImagePolicies::from_config(&config);
}

/// The CEL policy loader: the input is a ValidatingAdmissionPolicy's
/// validation expression (with a binding), compiled as `scan` and `serve` do.
pub fn cel_policy(data: &[u8]) {
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    let policy = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "fuzz"},
        "spec": {
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["CREATE"], "resources": ["pods"]}]},
            "variables": [{"name": "v", "expression": expr}],
            "validations": [{"expression": expr, "messageExpression": expr}],
        },
    });
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "fuzz"},
        "spec": {"policyName": "fuzz", "validationActions": ["Deny"]},
    });
    let resources: Vec<Resource> = [policy, binding]
        .into_iter()
        .filter_map(Resource::from_value)
        .collect();
    let _ = palisade_policy::load_lenient(&resources, palisade_policy::LoadOptions::default());
}

/// The Rego policy loader: the input is a Gatekeeper ConstraintTemplate's
/// Rego module (with a constraint), compiled as `scan` and `serve` do.
pub fn rego_policy(data: &[u8]) {
    let Ok(rego) = std::str::from_utf8(data) else {
        return;
    };
    let template = json!({
        "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
        "metadata": {"name": "k8sfuzz"},
        "spec": {
            "crd": {"spec": {"names": {"kind": "K8sFuzz"}}},
            "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": rego}],
        },
    });
    let constraint = json!({
        "apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sFuzz",
        "metadata": {"name": "fuzz"},
        "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}},
    });
    let resources: Vec<Resource> = [template, constraint]
        .into_iter()
        .filter_map(Resource::from_value)
        .collect();
    let _ = palisade_policy::load_lenient(&resources, palisade_policy::LoadOptions::default());
}

/// The image signature parsers: references, public keys (PEM), cosign's
/// signature manifests, DSSE envelopes and in-toto statements, and the
/// simple-signing payload check. The first byte picks the parser.
pub fn image_parsers(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 5 {
        0 => {
            if let Ok(r) = ImageRef::parse(&text) {
                let _ = (r.name(), r.digest());
            }
        }
        1 => {
            if let Ok(k) = PublicKey::from_pem(&text) {
                let _ = k.verify(b"payload", rest);
            }
        }
        2 => {
            let _ = serde_json::from_slice::<legacy::Manifest>(rest);
        }
        3 => {
            if let Ok(env) = serde_json::from_slice::<dsse::Envelope>(rest) {
                if let Ok(body) = env.body() {
                    let _ = serde_json::from_slice::<dsse::Statement>(&body);
                }
            }
        }
        _ => {
            if let Ok(key) = PublicKey::from_pem(KEY) {
                let c = legacy::SignatureCandidate {
                    payload: rest.to_vec(),
                    signature: Ok(rest.to_vec()),
                    keyless: None,
                };
                let _ = legacy::check_signature(&key, &c, "sha256:00");
            }
        }
    }
}
