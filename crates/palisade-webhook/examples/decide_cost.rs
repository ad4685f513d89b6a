//! Time per decision for each benchmark body, split into parse, prepare
//! (context providers) and evaluate: `cargo run --release --example decide_cost -- bench/webhook/*.json`.

use palisade_core::{Config, Context, Inventory, PolicySet, Resource};
use palisade_webhook::review::Review;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let c = Config::default();
    let rules = palisade_rules::profile("default", &Default::default()).expect("profile");
    let mut b = PolicySet::builder(c.clone()).rules(rules);
    for p in palisade_rules::registry::providers_for(&c).expect("providers") {
        b = b.provider(p);
    }
    let set = b.build().expect("set");
    let n = 20_000u32;
    for f in std::env::args().skip(1) {
        let body = std::fs::read(&f).expect("read");
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(Review::parse(&body).expect("review"));
        }
        let parse = t.elapsed() / n;
        let review = Review::parse(&body).expect("review");
        let res =
            Arc::new(Resource::from_value(review.subject.clone().expect("object")).expect("res"));
        let inv = Inventory::new(vec![res.clone()]);
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(set.prepare(&inv));
        }
        let prepare = t.elapsed() / n;
        let ext = set.prepare(&inv);
        let mut ctx = Context::new(&inv, &ext, jiff::Timestamp::now());
        ctx.request = Some(&review.info);
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(set.evaluate(&res, &ctx));
        }
        let eval = t.elapsed() / n;
        println!("{f}: parse {parse:?} prepare {prepare:?} evaluate {eval:?}");
    }
}
