//! The examples of the Kubernetes CEL documentation for the lists, regex,
//! URL and IP/CIDR libraries (`testdata/cel-docs/examples.yaml`), each run
//! through the policy layer as a ValidatingAdmissionPolicy would run it.

use palisade_core::{Context, Extensions, Inventory, Resource};
use palisade_policy::cel::{Binding, Policy, VapRule, Verdict};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn verdict(expr: &str, check: &str) -> Result<Verdict, String> {
    let vap = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "docs"},
        "spec": {
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["*"], "resources": ["configmaps"]}]},
            "variables": [{"name": "got", "expression": expr}],
            "validations": [{"expression": check}],
        }
    });
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "docs"},
        "spec": {"policyName": "docs", "validationActions": ["Deny"]}
    });
    let policy = Policy::compile(&Resource::from_value(vap).unwrap(), Duration::from_secs(2))
        .map_err(|e| format!("{e:?}"))?;
    let binding = Binding::parse(&Resource::from_value(binding).unwrap()).unwrap();
    let rule = VapRule::new(Arc::new(policy), binding, Arc::new(Vec::new()));
    let obj = Resource::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}}),
    )
    .unwrap();
    let (inv, ext) = (Inventory::new(Vec::new()), Extensions::default());
    Ok(rule.verdict(&obj, &Context::new(&inv, &ext, jiff::Timestamp::now())))
}

#[test]
fn kubernetes_documentation_examples() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/cel-docs/examples.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = palisade_core::yaml::parse_stream(&text)
        .remove(0)
        .unwrap()
        .value;
    let mut problems = Vec::new();
    let mut per_library = std::collections::BTreeMap::<String, usize>::new();
    for ex in doc["examples"].as_array().unwrap() {
        let expr = ex["expr"].as_str().unwrap();
        *per_library
            .entry(ex["library"].as_str().unwrap().to_string())
            .or_default() += 1;
        let got = match ex.get("value").and_then(Value::as_str) {
            Some(v) => verdict(expr, &format!("variables.got == ({v})")),
            None => verdict(expr, "variables.got == variables.got"),
        };
        let ok = match (&got, ex.get("value").is_some()) {
            (Ok(Verdict::Pass), true) => true,
            (Ok(Verdict::Fail(f)), false) => f.iter().any(|f| f.error),
            _ => false,
        };
        if !ok {
            problems.push(format!("{expr}: {got:?}"));
        }
    }
    println!("{per_library:?}");
    assert!(per_library.len() == 4 && per_library.values().all(|n| *n >= 5));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
