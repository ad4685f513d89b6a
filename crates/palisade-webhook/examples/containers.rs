//! Review time against container count: what `/validate` does for a pod
//! review with N containers (each privileged, so every container gives
//! findings), in process: parse the AdmissionReview, decide with the default
//! profile, encode the response. Prints one line per N with the body size,
//! the median time of a few runs and the response size (the findings listed
//! are capped, the count stays exact).
//!
//! `cargo run --release -p palisade-webhook --example containers [N...]`
//! (default 1 10 100 1000 5000 10000 20000).

use palisade_core::{Config, PolicySet};
use palisade_webhook::decide::{decide, Endpoint};
use palisade_webhook::review::Review;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn body(n: usize) -> Vec<u8> {
    let containers: Vec<_> = (0..n)
        .map(|i| json!({"name": format!("c{i}"), "image": "nginx:latest", "securityContext": {"privileged": true}}))
        .collect();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": "bench"},
        "spec": {"containers": containers}});
    serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "big", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "bench", "name": "big",
        "operation": "CREATE", "userInfo": {"username": "bench"}, "object": pod}}))
    .unwrap_or_default()
}

fn main() {
    let factory: palisade_webhook::PolicyFactory = Arc::new(|c: &Config| {
        let rules = palisade_rules::profile("default", &Default::default())?;
        let mut b = PolicySet::builder(c.clone()).rules(rules);
        for p in palisade_rules::registry::providers_for(c)? {
            b = b.provider(p);
        }
        Ok(b.build()?)
    });
    let engine = match palisade_webhook::Engine::new(Config::default(), &factory) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let ns: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let ns = if ns.is_empty() {
        vec![1, 10, 100, 1000, 5000, 10000, 20000]
    } else {
        ns
    };
    println!(
        "{:>10} {:>10} {:>12} {:>12} {:>10}",
        "containers", "body KiB", "review ms", "findings", "resp KiB"
    );
    for n in ns {
        let b = body(n);
        let runs = if n >= 5000 { 1 } else { 5 };
        let mut times = Vec::new();
        let (mut findings, mut resp) = (0, 0);
        for _ in 0..runs {
            let t = Instant::now();
            let Ok(mut r) = Review::parse_with(&b, false) else {
                eprintln!("bad review");
                std::process::exit(2);
            };
            let d = decide(&engine, &mut r, Endpoint::Validate, None);
            let out = d.response.to_json().unwrap_or_default();
            times.push(t.elapsed());
            findings = d.findings.len();
            resp = out.len();
        }
        times.sort();
        let med: Duration = times[times.len() / 2];
        println!(
            "{:>10} {:>10} {:>12.1} {:>12} {:>10}",
            n,
            b.len() / 1024,
            med.as_secs_f64() * 1e3,
            findings,
            resp / 1024
        );
    }
}
