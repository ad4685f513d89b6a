//! Time per decision for each benchmark body: what `/noop` does (decode the
//! review, encode the answer) against what `/validate` does on top (decide:
//! build the resource and context, evaluate, respond; metrics), the split of
//! evaluation into prepare (context providers) and rules, and the costliest
//! rules: `cargo run --release --example decide_cost -- bench/webhook/*.json`.

use palisade_core::{Action, Config, Context, Emitter, Inventory, PolicySet, Resource, Severity};
use palisade_webhook::decide::{decide, Endpoint};
use palisade_webhook::review::{Response, Review};
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The server's allocator (see the `palisade` binary), so that costs here
/// are the server's, counting allocations.
#[global_allocator]
static GLOBAL: Counting = Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

struct Counting;

// SAFETY: every call is passed on unchanged to mimalloc.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is mimalloc's.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from mimalloc with `layout`.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from mimalloc with `layout`.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

fn time<T>(n: u32, mut f: impl FnMut() -> T) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    t.elapsed() / n
}

fn main() {
    let rules = palisade_rules::profile("default", &Default::default()).expect("profile");
    let factory: palisade_webhook::PolicyFactory = Arc::new(|c: &Config| {
        let rules = palisade_rules::profile("default", &Default::default())?;
        let mut b = PolicySet::builder(c.clone()).rules(rules);
        for p in palisade_rules::registry::providers_for(c)? {
            b = b.provider(p);
        }
        Ok(b.build()?)
    });
    let set = factory(&Config::default()).expect("set");
    let engine = palisade_webhook::Engine::new(Config::default(), &factory).expect("engine");
    let metrics = palisade_webhook::metrics::Metrics::new();
    let n: u32 = std::env::var("DECIDE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let (mut noop_total, mut validate_total) = (Duration::ZERO, Duration::ZERO);
    let files: Vec<String> = std::env::args().skip(1).collect();
    if let Ok(mode) = std::env::var("DECIDE_MODE") {
        // Only `noop` or `validate`, the bodies interleaved, n rounds: for
        // instruction counts (valgrind --tool=callgrind at two values of
        // DECIDE_N; the difference is the per-round cost).
        let bodies: Vec<Vec<u8>> = files
            .iter()
            .map(|f| std::fs::read(f).expect("read"))
            .collect();
        for _ in 0..n {
            for body in &bodies {
                let mut r = Review::parse_with(body, false).expect("review");
                let out = if mode == "noop" {
                    Response::allow(&r.uid).to_json().expect("json")
                } else {
                    let d = decide(&engine, &mut r, Endpoint::Validate, None);
                    for f in &d.findings {
                        metrics.rule_hit(&f.rule, f.action);
                    }
                    metrics.request("validate", "CREATE", &r.kind, d.label, 0.0001);
                    d.response.to_json().expect("json")
                };
                std::hint::black_box(out);
            }
        }
        return;
    }
    for f in &files {
        let body = std::fs::read(f).expect("read");
        let parse = time(n, || Review::parse_with(&body, false).expect("review"));
        let noop = time(n, || {
            let r = Review::parse_with(&body, false).expect("review");
            Response::allow(&r.uid).to_json().expect("json")
        });
        let validate = time(n, || {
            let mut r = Review::parse_with(&body, false).expect("review");
            let d = decide(&engine, &mut r, Endpoint::Validate, None);
            for f in &d.findings {
                metrics.rule_hit(&f.rule, f.action);
            }
            metrics.request("validate", "CREATE", &r.kind, d.label, 0.0001);
            d.response.to_json().expect("json")
        });
        noop_total += noop;
        validate_total += validate;
        println!(
            "{f}: noop {noop:?} validate {validate:?} (+{:?})",
            validate.saturating_sub(noop)
        );
        let review = Review::parse_with(&body, false).expect("review");
        let res =
            Arc::new(Resource::from_value(review.subject.clone().expect("object")).expect("res"));
        let inv = Inventory::new(vec![res.clone()]);
        let prepare = time(n, || set.prepare(&inv));
        let ext = set.prepare(&inv);
        let mut ctx = Context::new(&inv, &ext, jiff::Timestamp::now());
        ctx.request = Some(&review.info);
        let eval = time(n, || set.evaluate(&res, &ctx));
        println!("  parse {parse:?} prepare {prepare:?} evaluate {eval:?}");
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
        per_rule.sort_by_key(|p| std::cmp::Reverse(p.0));
        let total: Duration = per_rule.iter().map(|p| p.0).sum();
        let pss: Duration = per_rule
            .iter()
            .filter(|p| p.1.starts_with("pss-"))
            .map(|p| p.0)
            .sum();
        let top: Vec<String> = per_rule
            .iter()
            .take(6)
            .map(|(d, id)| format!("{id} {d:?}"))
            .collect();
        println!(
            "  {} rules, sum {total:?} (pss-* {pss:?}); costliest: {}",
            per_rule.len(),
            top.join(", ")
        );
    }
    // Allocations (and reallocations) per request, each loop once more.
    let per_request = |validate: bool| {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let mut requests = 0u64;
        for f in &files {
            let body = std::fs::read(f).expect("read");
            for _ in 0..100 {
                let mut r = Review::parse_with(&body, false).expect("review");
                let out = if validate {
                    let d = decide(&engine, &mut r, Endpoint::Validate, None);
                    for f in &d.findings {
                        metrics.rule_hit(&f.rule, f.action);
                    }
                    metrics.request("validate", "CREATE", &r.kind, d.label, 0.0001);
                    d.response.to_json().expect("json")
                } else {
                    Response::allow(&r.uid).to_json().expect("json")
                };
                std::hint::black_box(out);
                requests += 1;
            }
        }
        (ALLOCATIONS.load(Ordering::Relaxed) - before) / requests.max(1)
    };
    println!(
        "allocations per request: noop {}, validate {}",
        per_request(false),
        per_request(true)
    );
    let count = u32::try_from(files.len().max(1)).unwrap_or(u32::MAX);
    println!(
        "mix: noop {:?} validate {:?} per request (+{:?})",
        noop_total / count,
        validate_total / count,
        validate_total.saturating_sub(noop_total) / count
    );
}
