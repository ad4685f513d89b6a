//! Data-driven graph tests: each `tests/cases/*.yaml` holds objects and
//! hand-worked questions (who-can with the expected chains, can with the
//! expected answer, expected input problems).

use palisade_core::yaml::parse_stream;
use palisade_core::Resource;
use palisade_rbac::resources::{custom_resources, request};
use palisade_rbac::{Identity, RbacGraph, Scope, Subject};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    objects: String,
    #[serde(default)]
    who_can: Vec<WhoCan>,
    #[serde(default)]
    can: Vec<Can>,
    #[serde(default)]
    problems: Vec<String>,
    /// Whether who-can answers list Kubernetes' bootstrap bindings too
    /// (`system:masters` and the controllers); off by default so a case
    /// lists only what its input grants.
    #[serde(default)]
    with_defaults: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhoCan {
    verb: String,
    resource: String,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
    expect: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Can {
    subject: String,
    verb: String,
    resource: String,
    namespace: Option<String>,
    name: Option<String>,
    allowed: bool,
}

fn scope(ns: &Option<String>) -> Scope<'_> {
    match ns.as_deref() {
        None => Scope::Cluster,
        Some("*") => Scope::Any,
        Some(ns) => Scope::Namespace(ns),
    }
}

fn run(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = parse_stream(&text).remove(0).unwrap();
    let case: Case = serde_json::from_value(doc.value).unwrap();
    let file: Arc<str> = Arc::from(path.display().to_string());
    let objects: Vec<Arc<Resource>> = parse_stream(&case.objects)
        .into_iter()
        .map(|d| d.unwrap())
        .flat_map(|d| Resource::from_document(d, &file))
        .map(Arc::new)
        .collect();
    let extra = custom_resources(objects.iter().map(|o| &**o));
    let g = RbacGraph::from_resources(objects);
    let mut failures = Vec::new();
    for q in &case.who_can {
        let req = request(
            &q.verb,
            &q.resource,
            q.subresource.as_deref(),
            q.name.as_deref(),
            &extra,
        )
        .unwrap();
        let mut got: Vec<String> = g
            .who_can(&req, scope(&q.namespace))
            .iter()
            .filter(|gr| case.with_defaults || !g.bindings[gr.binding].builtin)
            .map(|gr| g.chain(gr))
            .collect();
        got.sort();
        let mut want = q.expect.clone();
        want.sort();
        if got != want {
            failures.push(format!(
                "who-can {} {} -n {:?}:\n  want {want:#?}\n  got  {got:#?}",
                q.verb, q.resource, q.namespace
            ));
        }
    }
    for q in &case.can {
        let subject = Subject::parse_cli(&q.subject).unwrap();
        let req = request(&q.verb, &q.resource, None, q.name.as_deref(), &extra).unwrap();
        let got = g.allows(&Identity::of(&subject), &req, scope(&q.namespace));
        if got != q.allowed {
            failures.push(format!(
                "can {} {} {} -n {:?}: want {}, got {got}",
                q.subject, q.verb, q.resource, q.namespace, q.allowed
            ));
        }
    }
    let mut got: Vec<String> = g
        .problems
        .iter()
        .map(|p| format!("{} {}: {}", p.resource.id, p.path, p.message))
        .collect();
    got.sort();
    let mut want = case.problems.clone();
    want.sort();
    if got != want {
        failures.push(format!("problems:\n  want {want:#?}\n  got  {got:#?}"));
    }
    failures
}

#[test]
fn graph_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 5,
        "expected the graph cases in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for p in &paths {
        for f in run(p) {
            failures.push(format!("{}: {f}", p.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
