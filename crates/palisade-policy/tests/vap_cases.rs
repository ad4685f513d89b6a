//! Data-driven ValidatingAdmissionPolicy tests: each directory under
//! `tests/vap` has a `policy.yaml` (policies, bindings, params, namespaces)
//! and a `cases.yaml` of objects with the expected verdict (`allow`, `deny`
//! or `error`), messages (regexes, each matching one finding) and action.

use palisade_core::{
    Context, Emitter, Extensions, Inventory, Operation, RequestInfo, Resource, Severity,
};
use palisade_policy::files::{parse_resources, read_resources};
use palisade_policy::{load, LoadOptions};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

fn run_set(dir: &Path) -> Vec<String> {
    let resources = read_resources(&dir.join("policy.yaml")).unwrap();
    let loaded = load(&resources, LoadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()));
    assert!(!loaded.rules.is_empty());
    let others: Vec<Arc<Resource>> = resources
        .iter()
        .filter(|r| r.id.group() != "admissionregistration.k8s.io")
        .cloned()
        .map(Arc::new)
        .collect();
    let text = std::fs::read_to_string(dir.join("cases.yaml")).unwrap();
    let doc = parse_resources_doc(&text);
    let mut problems = Vec::new();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let obj = Resource::from_value(case["object"].clone()).unwrap();
        let mut items = others.clone();
        for extra in case
            .get("inventory")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            items.push(Arc::new(Resource::from_value(extra.clone()).unwrap()));
        }
        let inventory = Inventory::new(items);
        let ext = Extensions::default();
        let mut ctx = Context::new(&inventory, &ext, jiff::Timestamp::now());
        let op = match case.get("operation").and_then(Value::as_str) {
            Some("UPDATE") => Some(Operation::Update),
            Some("DELETE") => Some(Operation::Delete),
            Some("CONNECT") => Some(Operation::Connect),
            _ => case.get("oldObject").map(|_| Operation::Update),
        };
        let req = op.map(|operation| RequestInfo {
            operation,
            old_object: case.get("oldObject").cloned(),
            username: "alice".into(),
            groups: vec![],
            sub_resource: case
                .get("subResource")
                .and_then(Value::as_str)
                .map(str::to_string),
            dry_run: false,
            raw: serde_json::json!({
                "operation": format!("{operation:?}").to_uppercase(),
                "resource": case.get("resource").cloned().unwrap_or(Value::Null),
            }),
        });
        ctx.request = req.as_ref();
        let mut findings = Vec::new();
        for rule in &loaded.rules {
            let mut out = Emitter::new(
                rule.info(),
                Severity::High,
                palisade_core::Action::Enforce,
                &obj,
                &mut findings,
            );
            rule.check(&obj, &ctx, &mut out);
        }
        let errors = findings
            .iter()
            .filter(|f| f.message.contains("failed to evaluate"))
            .count();
        let got = match (findings.is_empty(), errors) {
            (true, _) => "allow",
            (false, 0) => "deny",
            _ => "error",
        };
        let want = case["expect"].as_str().unwrap();
        let msgs: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        if got != want {
            problems.push(format!(
                "{}: {name}: expected {want}, got {got}: {msgs:?}",
                dir.display()
            ));
            continue;
        }
        for re in case
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let re = regex::Regex::new(re.as_str().unwrap()).unwrap();
            if !msgs.iter().any(|m| re.is_match(m)) {
                problems.push(format!(
                    "{}: {name}: no message matches {re}: {msgs:?}",
                    dir.display()
                ));
            }
        }
        if let Some(action) = case.get("action").and_then(Value::as_str) {
            if let Some(f) = findings.iter().find(|f| f.action.as_str() != action) {
                problems.push(format!(
                    "{}: {name}: action {} instead of {action}",
                    dir.display(),
                    f.action.as_str()
                ));
            }
        }
    }
    problems
}

fn parse_resources_doc(text: &str) -> Value {
    let mut docs = palisade_core::yaml::parse_stream(text);
    docs.remove(0).unwrap().value
}

#[test]
fn vap_case_sets() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vap"));
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 7);
    let problems: Vec<String> = dirs.iter().flat_map(|d| run_set(d)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let _ = parse_resources;
}
