//! Time per decision for each benchmark body, split into parse, prepare
//! (context providers) and evaluate, and the costliest rules:
//! `cargo run --release --example decide_cost -- bench/webhook/*.json`.

use palisade_core::{Action, Config, Context, Emitter, Inventory, PolicySet, Resource, Severity};
use palisade_webhook::review::Review;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn time<T>(n: u32, mut f: impl FnMut() -> T) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    t.elapsed() / n
}

fn main() {
    let c = Config::default();
    let rules = palisade_rules::profile("default", &Default::default()).expect("profile");
    let mut b = PolicySet::builder(c.clone()).rules(rules.clone());
    for p in palisade_rules::registry::providers_for(&c).expect("providers") {
        b = b.provider(p);
    }
    let set = b.build().expect("set");
    let n = 20_000u32;
    for f in std::env::args().skip(1) {
        let body = std::fs::read(&f).expect("read");
        let parse = time(n, || Review::parse_with(&body, false).expect("review"));
        let review = Review::parse_with(&body, false).expect("review");
        let res =
            Arc::new(Resource::from_value(review.subject.clone().expect("object")).expect("res"));
        let inv = Inventory::new(vec![res.clone()]);
        let prepare = time(n, || set.prepare(&inv));
        let ext = set.prepare(&inv);
        let mut ctx = Context::new(&inv, &ext, jiff::Timestamp::now());
        ctx.request = Some(&review.info);
        let eval = time(n, || set.evaluate(&res, &ctx));
        println!("{f}: parse {parse:?} prepare {prepare:?} evaluate {eval:?}");
        let mut per_rule: Vec<(Duration, String)> = rules
            .iter()
            .filter(|r| r.scope().matches(&res.id.kind))
            .map(|r| {
                let d = time(n / 10, || {
                    let mut out = Vec::new();
                    let mut em =
                        Emitter::new(r.info(), Severity::High, Action::Enforce, &res, &mut out);
                    r.check(&res, &ctx, &mut em);
                    out
                });
                (d, r.info().id.clone())
            })
            .collect();
        per_rule.sort_by(|a, b| b.0.cmp(&a.0));
        let total: Duration = per_rule.iter().map(|p| p.0).sum();
        let top: Vec<String> = per_rule
            .iter()
            .take(40)
            .map(|(d, id)| format!("{id} {d:?}"))
            .collect();
        println!(
            "  {} rules, sum {total:?}; costliest: {}",
            per_rule.len(),
            top.join(", ")
        );
    }
}
