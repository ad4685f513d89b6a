//! Benchmark: every gatekeeper-library pod-security template with its sample
//! constraints, evaluated over the real-world corpus, in documents per
//! second, beside the built-in rules (`default` profile) doing the same
//! checks. Run with `cargo bench -p palisade-policy --bench policy`.

use palisade_core::{Config, Context, Inventory, PolicySet, Resource, Rule};
use palisade_policy::files::{policy_files, read_resources};
use palisade_policy::{load, LoadOptions, PolicyEngine};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn corpora() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata"))
}

fn psp_policies() -> Vec<Resource> {
    let root = corpora().join("gatekeeper-library/library/pod-security-policy");
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        out.extend(read_resources(&dir.join("template.yaml")).unwrap());
        for f in files(&dir.join("samples")) {
            if f.file_name().is_some_and(|n| n == "constraint.yaml") {
                out.extend(read_resources(&f).unwrap());
            }
        }
    }
    // Some samples are variants of one constraint under the same name (a
    // cluster holds one of them): rename the others so that all are run.
    let mut seen = std::collections::HashMap::new();
    for r in out.iter_mut() {
        let n = seen
            .entry((r.id.kind.clone(), r.id.name.clone()))
            .or_insert(0);
        *n += 1;
        if *n > 1 {
            r.id.name = format!("{}-{n}", r.id.name);
            r.value["metadata"]["name"] = serde_json::Value::from(r.id.name.clone());
        }
    }
    out
}

fn corpus() -> (Vec<Arc<Resource>>, usize) {
    let mut res = Vec::new();
    let mut errors = 0;
    for f in files(&corpora().join("real-world")) {
        match read_resources(&f) {
            Ok(r) => res.extend(r.into_iter().map(Arc::new)),
            Err(_) => errors += 1,
        }
    }
    (res, errors)
}

/// Best of `runs` passes over the inventory: (seconds, findings).
fn time(set: &PolicySet, inv: &Inventory, runs: usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut findings = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let ext = set.prepare(inv);
        let ctx = Context::new(inv, &ext, jiff::Timestamp::now());
        findings = inv
            .iter()
            .map(|r| set.evaluate(r, &ctx).findings.len())
            .sum();
        best = best.min(start.elapsed());
    }
    (best, findings)
}

fn report(name: &str, rules: usize, docs: usize, (d, findings): (Duration, usize)) {
    println!(
        "{name:<44} {rules:>4} rules  {docs} objects in {:>8.1} ms  {:>9.0} objects/s  {findings} findings",
        d.as_secs_f64() * 1000.0,
        docs as f64 / d.as_secs_f64()
    );
}

fn set_of(
    rules: Vec<Arc<dyn Rule>>,
    providers: Vec<Arc<dyn palisade_core::ContextProvider>>,
) -> PolicySet {
    let mut b = PolicySet::builder(Config::default()).rules(rules);
    for p in providers {
        b = b.provider(p);
    }
    b.build().unwrap()
}

fn main() {
    let policies = psp_policies();
    let (items, unreadable) = corpus();
    let inv = Inventory::new(items);
    let docs = inv.len();
    println!("real-world corpus: {docs} objects ({unreadable} unreadable files skipped); single thread, best of 3");
    let compile = Instant::now();
    let rego = load(&policies, LoadOptions::default()).unwrap();
    let templates = policies
        .iter()
        .filter(|r| r.id.kind == "ConstraintTemplate")
        .count();
    println!(
        "compile {templates} templates with {} constraints (Rego): {:.1} ms",
        rego.rules.len(),
        compile.elapsed().as_secs_f64() * 1000.0
    );
    let opts = LoadOptions {
        engine: PolicyEngine::Cel,
        ..LoadOptions::default()
    };
    let cel = load(&policies, opts).unwrap();
    let on_cel = cel
        .rules
        .iter()
        .filter(|r| r.info().description.contains("Engine: CEL"))
        .count();
    let builtin = palisade_rules::profile("default", &Default::default()).unwrap();
    let n_builtin = builtin.len();
    let (nr, nc) = (rego.rules.len(), cel.rules.len());
    let rego_set = set_of(rego.rules, rego.providers);
    let cel_set = set_of(cel.rules, cel.providers);
    let builtin_set = set_of(
        builtin,
        palisade_rules::registry::providers_for(&Config::default()).unwrap_or_default(),
    );
    report(
        "gatekeeper pod-security, Rego (regorus)",
        nr,
        docs,
        time(&rego_set, &inv, 3),
    );
    report(
        &format!("gatekeeper pod-security, CEL where present ({on_cel} on CEL)"),
        nc,
        docs,
        time(&cel_set, &inv, 3),
    );
    report(
        "built-in rules, profile default",
        n_builtin,
        docs,
        time(&builtin_set, &inv, 3),
    );
}

/// The policy files under `dir`; the corpus must be readable.
fn files(dir: &Path) -> Vec<PathBuf> {
    let (files, errors) = policy_files(dir);
    assert!(errors.is_empty(), "{errors:?}");
    files
}
