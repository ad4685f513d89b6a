//! Benchmark: a generated cluster of 10,000 bindings, 2,000 roles and 5,000
//! service accounts (100 namespaces), analysed end to end: graph build with
//! aggregation and default roles, effective permissions of every subject,
//! who-can questions, workload-creation paths, and every RBAC rule of
//! palisade-rules over every object. Target: under one second (release).
//!
//! Run: `cargo bench -p palisade-rbac --bench graph`

use palisade_core::{Config, Context, Inventory, PolicySet, Resource};
use palisade_rbac::resources::request;
use palisade_rbac::{Identity, RbacGraph, Scope};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAMESPACES: usize = 100;
const SAS: usize = 5_000;
const ROLES: usize = 2_000;
const BINDINGS: usize = 10_000;
const CLUSTER_ROLES: usize = 500;
const RUNS: usize = 5;

const VERBS: [&[&str]; 5] = [
    &["get", "list", "watch"],
    &["create", "update", "patch", "delete"],
    &["get"],
    &["*"],
    &["list"],
];
const RESOURCES: [(&str, &str); 8] = [
    ("", "pods"),
    ("", "configmaps"),
    ("", "secrets"),
    ("apps", "deployments"),
    ("batch", "jobs"),
    ("", "pods/exec"),
    ("", "services"),
    ("networking.k8s.io", "ingresses"),
];

fn role(i: usize) -> Value {
    let rules: Vec<Value> = (0..4)
        .map(|k| {
            let (g, r) = RESOURCES[(i + k) % RESOURCES.len()];
            json!({"apiGroups": [g], "resources": [r], "verbs": VERBS[(i + 2 * k) % VERBS.len()]})
        })
        .collect();
    if i < CLUSTER_ROLES {
        // cluster roles, every 40th of which aggregates by label
        let mut v = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": format!("cr-{i}"), "labels": {"tier": format!("t{}", i % 7)}},
            "rules": rules,
        });
        if i.is_multiple_of(40) {
            v["aggregationRule"] = json!({"clusterRoleSelectors": [
                {"matchLabels": {"tier": format!("t{}", i % 5)}},
                {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["t6"]}]}
            ]});
        }
        v
    } else {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": format!("role-{}", (i - CLUSTER_ROLES) / NAMESPACES), "namespace": format!("ns-{}", i % NAMESPACES)},
            "rules": rules,
        })
    }
}

fn binding(i: usize) -> Value {
    let ns = format!("ns-{}", i % NAMESPACES);
    let subject = match i % 5 {
        0 => json!({"kind": "User", "name": format!("user{}@example.com", i % 700)}),
        1 => json!({"kind": "Group", "name": format!("team-{}", i % 60)}),
        _ => {
            json!({"kind": "ServiceAccount", "name": format!("sa-{}", i % (SAS / NAMESPACES)), "namespace": ns})
        }
    };
    let mut meta = json!({"name": format!("b-{i}")});
    if i.is_multiple_of(3) {
        meta["annotations"] = json!({"palisade.io/expires-at": if i.is_multiple_of(6) { "2026-01-01T00:00:00Z" } else { "2027-01-01" }});
    }
    let builtin = ["cluster-admin", "admin", "edit", "view"][i / 50 % 4];
    let role_ref = match i % 50 {
        0 => {
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": builtin})
        }
        1..=20 => {
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("cr-{}", i % CLUSTER_ROLES)})
        }
        // a Role of the binding's namespace
        _ => {
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("role-{}", i % ((ROLES - CLUSTER_ROLES) / NAMESPACES))})
        }
    };
    if i % 10 == 7 {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta,
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("cr-{}", i % CLUSTER_ROLES)},
               "subjects": [subject]})
    } else {
        meta["namespace"] = json!(ns);
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
               "roleRef": role_ref, "subjects": [subject]})
    }
}

fn generate() -> Vec<Arc<Resource>> {
    let mut values = Vec::new();
    for n in 0..NAMESPACES {
        values.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("ns-{n}")}}));
    }
    for i in 0..SAS {
        values.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": format!("sa-{}", i / NAMESPACES), "namespace": format!("ns-{}", i % NAMESPACES)}}));
    }
    values.extend((0..ROLES).map(role));
    values.extend((0..BINDINGS).map(binding));
    values
        .into_iter()
        .filter_map(Resource::from_value)
        .map(Arc::new)
        .collect()
}

struct Figures {
    build: Duration,
    permissions: Duration,
    rules: Duration,
    findings: usize,
    grants: usize,
}

fn analyse(inventory: &Inventory, policy: &PolicySet) -> Figures {
    let t0 = Instant::now();
    let graph = RbacGraph::build(inventory);
    let build = t0.elapsed();

    let t1 = Instant::now();
    let mut grants = 0;
    let subjects: Vec<_> = graph.subjects().cloned().collect();
    for s in &subjects {
        grants += graph.grants_of(&Identity::of(s), Scope::Any).len();
    }
    for (verb, res) in [
        ("get", "secrets"),
        ("create", "pods"),
        ("create", "pods/exec"),
        ("escalate", "clusterroles"),
    ] {
        let req = request(verb, res, None, None, &[]).unwrap_or_else(|e| panic!("{e}"));
        grants += graph.who_can(&req, Scope::Any).len();
    }
    for b in 0..graph.bindings.len() {
        grants += graph.workload_paths(b).len();
    }
    let permissions = t1.elapsed();

    let t2 = Instant::now();
    let ext = policy.prepare(inventory);
    let ctx = Context::new(inventory, &ext, jiff::Timestamp::now());
    let findings: usize = inventory
        .iter()
        .map(|r| policy.evaluate(r, &ctx).findings.len())
        .sum();
    let rules = t2.elapsed();
    Figures {
        build,
        permissions,
        rules,
        findings,
        grants,
    }
}

fn main() {
    let items = generate();
    let count = |k: &str| items.iter().filter(|r| r.id.kind.ends_with(k)).count();
    println!(
        "generated: {} objects: {} bindings, {} roles, {} service accounts, {} namespaces",
        items.len(),
        count("Binding"),
        count("Role"),
        count("ServiceAccount"),
        count("Namespace")
    );
    let inventory = Inventory::new(items);
    let rules =
        palisade_rules::profile("rbac", &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    let policy = palisade_rules::registry::providers()
        .into_iter()
        .fold(PolicySet::builder(Config::default()), |b, p| b.provider(p))
        .rules(rules)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut totals = Vec::new();
    for run in 0..RUNS {
        let f = analyse(&inventory, &policy);
        let total = f.build + f.permissions + f.rules;
        println!(
            "run {run}: graph build {:>7.1} ms | permissions, who-can, workload paths {:>7.1} ms ({} grants) | rbac rules over every object (graph rebuilt by the provider) {:>7.1} ms ({} findings) | total {:>7.1} ms",
            ms(f.build), ms(f.permissions), f.grants, ms(f.rules), f.findings, ms(total)
        );
        totals.push(total);
    }
    totals.sort();
    if let Some(items) = real_world() {
        let rbac = items
            .iter()
            .filter(|r| r.id.group() == "rbac.authorization.k8s.io")
            .count();
        let inventory = Inventory::new(items);
        let mut best = Duration::MAX;
        let mut findings = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let ext = policy.prepare(&inventory);
            let ctx = Context::new(&inventory, &ext, jiff::Timestamp::now());
            findings = inventory
                .iter()
                .map(|r| policy.evaluate(r, &ctx).findings.len())
                .sum();
            best = best.min(t.elapsed());
        }
        println!(
            "real-world corpus: {} objects ({rbac} RBAC): graph and every rbac rule in {:.1} ms (best of {RUNS}), {findings} findings",
            inventory.len(),
            ms(best)
        );
    }
    let median = totals[RUNS / 2];
    println!(
        "rbac analysis of 10,000 bindings / 2,000 roles / 5,000 service accounts: median {:.1} ms, best {:.1} ms (target < 1000 ms) {}",
        ms(median),
        ms(totals[0]),
        if median < Duration::from_secs(1) { "OK" } else { "TOO SLOW" }
    );
}

/// The real-world corpus (testdata/real-world), when present: every object parsed.
fn real_world() -> Option<Vec<Arc<Resource>>> {
    let root = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/real-world"
    ))
    .to_path_buf();
    if !root.is_dir() {
        return None;
    }
    let mut stack = vec![root];
    let mut out = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                let Ok(text) = std::fs::read_to_string(&p) else {
                    continue;
                };
                let file: Arc<str> = Arc::from(p.display().to_string());
                for doc in palisade_core::yaml::parse_stream(&text)
                    .into_iter()
                    .flatten()
                {
                    out.extend(
                        Resource::from_document(doc, &file)
                            .into_iter()
                            .map(Arc::new),
                    );
                }
            }
        }
    }
    Some(out)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
