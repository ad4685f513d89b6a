//! The authorizer question table: `tests/questions/*.yaml` hold objects and
//! questions (`SUBJECT VERB RESOURCE [-n NS | -A] [--name N]`), each with the
//! answer the Kubernetes RBAC authorizer gives and the authorizer rule that
//! decides it. Every question is asked twice: `allows` for the subject, and
//! `who_can` for the request, whose answer must name a subject that applies
//! to the identity exactly when the request is allowed.

use palisade_core::yaml::parse_stream;
use palisade_core::Resource;
use palisade_rbac::resources::{custom_resources, request};
use palisade_rbac::{Identity, RbacGraph, Scope, Subject};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    objects: String,
    questions: Vec<Question>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Question {
    q: String,
    allow: bool,
    by: String,
}

/// A parsed question.
struct Ask {
    subject: Subject,
    verb: String,
    resource: String,
    namespace: Option<String>,
    all: bool,
    name: Option<String>,
}

fn parse(q: &str) -> Result<Ask, String> {
    let words: Vec<&str> = q.split_whitespace().collect();
    let [subject, verb, resource, rest @ ..] = words.as_slice() else {
        return Err(format!("`{q}`: expected SUBJECT VERB RESOURCE [flags]"));
    };
    let mut ask = Ask {
        subject: Subject::parse_cli(subject)?,
        verb: verb.to_string(),
        resource: resource.to_string(),
        namespace: None,
        all: false,
        name: None,
    };
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        match *flag {
            "-n" => ask.namespace = it.next().map(|s| s.to_string()),
            "-A" => ask.all = true,
            "--name" => ask.name = it.next().map(|s| s.to_string()),
            other => return Err(format!("`{q}`: unknown flag {other}")),
        }
    }
    Ok(ask)
}

fn check(
    g: &RbacGraph,
    extra: &[palisade_rbac::discovery::ApiResource],
    q: &Question,
) -> Result<(), String> {
    if q.by.trim().is_empty() {
        return Err(format!("`{}`: no authorizer rule given", q.q));
    }
    let ask = parse(&q.q)?;
    let req = request(&ask.verb, &ask.resource, None, ask.name.as_deref(), extra)?;
    let scope = match (&ask.namespace, ask.all) {
        (Some(ns), _) => Scope::Namespace(ns),
        (None, true) => Scope::Any,
        (None, false) => Scope::Cluster,
    };
    let id = Identity::of(&ask.subject);
    let got = g.allows(&id, &req, scope);
    if got != q.allow {
        return Err(format!("`{}`: want {}, got {got} ({})", q.q, q.allow, q.by));
    }
    let subjects = id.subjects();
    let via_who_can = g
        .who_can(&req, scope)
        .iter()
        .filter_map(|gr| g.grant_subject(gr))
        .any(|s| subjects.contains(s));
    if via_who_can != q.allow {
        return Err(format!(
            "`{}`: who-can disagrees with can: {via_who_can}",
            q.q
        ));
    }
    Ok(())
}

#[test]
fn authorizer_questions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/questions");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let (mut asked, mut failures) = (0, Vec::new());
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let doc = parse_stream(&text).remove(0).unwrap();
        let table: Table = serde_json::from_value(doc.value).unwrap();
        let file: Arc<str> = Arc::from(path.display().to_string());
        let objects: Vec<Arc<Resource>> = parse_stream(&table.objects)
            .into_iter()
            .map(|d| d.unwrap())
            .flat_map(|d| Resource::from_document(d, &file))
            .map(Arc::new)
            .collect();
        let extra = custom_resources(objects.iter().map(|o| &**o));
        let g = RbacGraph::from_resources(objects);
        for q in &table.questions {
            asked += 1;
            if let Err(e) = check(&g, &extra, q) {
                let name = path.file_name().unwrap().to_string_lossy();
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    println!(
        "authorizer questions: {asked}, passed {}",
        asked - failures.len()
    );
    assert!(
        asked >= 150,
        "the table has {asked} questions; at least 150"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
