//! Upstream CEL conformance: the cases of Kubernetes' CEL library tests,
//! of apiextensions-apiserver's CRD validation tests and of cel-spec's
//! simple tests (extracted into `testdata/cel-conformance/upstream` by
//! `extract.py`), each run as Kubernetes would run it: as a variable of a
//! ValidatingAdmissionPolicy whose validation compares it with the
//! expected value, compiled by the policy layer and evaluated on an object.
//! A case agrees when the value is the expected one, or when it fails at
//! the expected stage (load or evaluation). Known differences are named
//! and explained in `testdata/cel-conformance/allowlist.yaml`.

use palisade_core::{Context, Extensions, Inventory, Resource};
use palisade_policy::cel::{Binding, Policy, VapRule, Verdict};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/cel-conformance")
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let mut docs = palisade_core::yaml::parse_stream(&text);
    docs.remove(0)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .value
}

/// What the policy layer made of one case.
#[derive(Debug, PartialEq)]
enum Got {
    /// Refused at load.
    Compile(String),
    /// Evaluation failed.
    Runtime(String),
    /// The value equals the expected one.
    Value,
    /// The value differs.
    Wrong(String),
}

fn policy(expr: &str, check: &str) -> Vec<Resource> {
    let vap = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "conformance"},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["*"], "resources": ["configmaps"]}]},
            "variables": [{"name": "got", "expression": expr}],
            "validations": [{"expression": check, "message": "the value differs"}],
        }
    });
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "conformance"},
        "spec": {"policyName": "conformance", "validationActions": ["Deny"]}
    });
    vec![
        Resource::from_value(vap).unwrap(),
        Resource::from_value(binding).unwrap(),
    ]
}

fn run(expr: &str, value: Option<&str>) -> Got {
    let check = match value {
        Some(v) => format!("variables.got == ({v})"),
        None => "variables.got == variables.got".to_string(),
    };
    let res = policy(expr, &check);
    let pol = match Policy::compile(&res[0], Duration::from_secs(2)) {
        Ok(p) => p,
        Err(e) => {
            let msgs: Vec<String> = e.iter().map(|e| e.to_string()).collect();
            return Got::Compile(msgs.join("; "));
        }
    };
    let binding = Binding::parse(&res[1]).unwrap();
    let rule = VapRule::new(Arc::new(pol), binding, Arc::new(Vec::new()));
    let obj = Resource::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default"}
    }))
    .unwrap();
    let inventory = Inventory::new(Vec::new());
    let ext = Extensions::default();
    let ctx = Context::new(&inventory, &ext, jiff::Timestamp::now());
    match rule.verdict(&obj, &ctx) {
        Verdict::Pass => Got::Value,
        Verdict::Fail(f) => match f.iter().find(|f| f.error) {
            Some(e) => Got::Runtime(e.message.clone()),
            None => Got::Wrong(f.first().map(|f| f.message.clone()).unwrap_or_default()),
        },
        Verdict::Error(e) => Got::Runtime(e),
        Verdict::NotApplicable => Got::Wrong("policy did not apply".into()),
    }
}

/// A scalar as text (a YAML 1.1 reader may have typed it).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn agrees(case: &Value, got: &Got) -> bool {
    // cel-spec runs some cases unchecked; Kubernetes always type-checks, so
    // refusing such a case at load is what the API server does
    let relaxed = case.get("disable_check").and_then(Value::as_bool) == Some(true);
    if case.get("value").is_some() {
        return *got == Got::Value || relaxed && matches!(got, Got::Compile(_));
    }
    let stage = case["error"]["stage"].as_str().unwrap_or("any");
    match got {
        Got::Compile(_) => stage == "compile" || stage == "any" || relaxed,
        Got::Runtime(_) => stage == "runtime" || stage == "any",
        _ => false,
    }
}

/// The rules of `kubernetes-environment.yaml`: (name, message regex).
fn kubernetes_rules() -> Vec<(String, regex::Regex)> {
    let doc = yaml(&root().join("kubernetes-environment.yaml"));
    doc["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                text(&r["name"]),
                regex::Regex::new(r["message"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

/// The rule under which Kubernetes, too, refuses a cel-spec case at load.
fn kubernetes_refuses<'a>(
    file: &str,
    got: &Got,
    rules: &'a [(String, regex::Regex)],
) -> Option<&'a str> {
    let Got::Compile(m) = got else { return None };
    if !file.starts_with("cel-spec") {
        return None;
    }
    rules
        .iter()
        .find(|(_, re)| re.is_match(m))
        .map(|(n, _)| n.as_str())
}

#[test]
fn upstream_cel_cases_agree_with_kubernetes() {
    let rules = kubernetes_rules();
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    let allow = yaml(&root().join("allowlist.yaml"));
    let mut allowed: HashMap<(String, String), String> = HashMap::new();
    for a in allow["differences"].as_array().into_iter().flatten() {
        allowed.insert(
            (
                a["file"].as_str().unwrap().to_string(),
                a["name"].as_str().unwrap().to_string(),
            ),
            a["why"].as_str().unwrap_or_default().to_string(),
        );
    }
    let mut files: Vec<PathBuf> = ["upstream", "regressions"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root().join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "upstream case files are missing");
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut problems = Vec::new();
    for f in &files {
        let file = f.file_stem().unwrap().to_string_lossy().to_string();
        let doc = yaml(f);
        for case in doc["cases"].as_array().into_iter().flatten() {
            let name = text(&case["name"]);
            let expr = text(&case["expr"]);
            let expr = expr.as_str();
            let got = run(expr, case.get("value").and_then(Value::as_str));
            let mut ok = agrees(case, &got);
            if !ok {
                if let Some(rule) = kubernetes_refuses(&file, &got, &rules) {
                    *by_rule.entry(rule.to_string()).or_default() += 1;
                    ok = true;
                }
            }
            let entry = counts.entry(file.clone()).or_default();
            entry.0 += 1;
            let key = (file.clone(), name.clone());
            match (ok, allowed.remove(&key)) {
                (true, None) => entry.1 += 1,
                (true, Some(_)) => {
                    entry.1 += 1;
                    problems.push(format!("{file}: {name}: allowlisted but agrees now"));
                }
                (false, Some(_)) => entry.2 += 1,
                (false, None) => problems.push(format!(
                    "{file}: {name}: `{expr}` expected {}, got {got:?}",
                    case.get("value")
                        .map(|v| format!("value {v}"))
                        .unwrap_or_else(|| format!("error {}", case["error"]))
                )),
            }
        }
    }
    for ((file, name), _) in allowed {
        problems.push(format!("{file}: {name}: allowlisted but not run"));
    }
    let (mut run_all, mut agree_all) = (0, 0);
    for (file, (run, agree, listed)) in &counts {
        println!("{file:32} run {run:4}  agree {agree:4}  allowlisted {listed:3}");
        run_all += run;
        agree_all += agree;
    }
    println!("{:32} run {run_all:4}  agree {agree_all:4}", "total");
    for (rule, n) in &by_rule {
        println!("agree because Kubernetes refuses at load too ({rule}): {n}");
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
