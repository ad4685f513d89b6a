// Scratch evaluation (not part of Palisade): runs Palisade's extracted
// upstream CEL cases on kube-cel 0.8 (cel 0.13) and counts agreement, by
// the same rule as Palisade's conformance test (value equal; or error at
// the expected stage; kube-cel has no type-checker, so "compile" means a
// parse error).
use kube_cel::cel::{Context, Program, Value};
use kube_cel::KubeCelExt;
use std::collections::BTreeMap;

fn main() {
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string("cases.json") /* see RESULT.md for how it is made */.unwrap()).unwrap();
    let ctx = Context::default().with_all();
    let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut fails = Vec::new();
    for c in &cases {
        let file = c["file"].as_str().unwrap().to_string();
        let expr = c["expr"].as_str().unwrap();
        let got = match Program::compile(expr) {
            Err(_) => "compile".to_string(),
            Ok(p) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.execute(&ctx))) {
                Err(_) => "panic".to_string(),
                Ok(Err(_)) => "runtime".to_string(),
                Ok(Ok(v)) => match c["value"].as_str() {
                    Some(want) => match Program::compile(want).map(|w| w.execute(&ctx)) {
                        Ok(Ok(w)) if w == v => "value".to_string(),
                        _ => format!("wrong {v:?}"),
                    },
                    None => "value".to_string(),
                },
            },
        };
        let relaxed = c["relaxed"].as_bool().unwrap_or(false);
        let ok = match (c["value"].is_string(), c["stage"].as_str()) {
            (true, _) => got == "value" || relaxed && got == "compile",
            (false, Some("compile")) => got == "compile",
            (false, Some("runtime")) => got == "runtime",
            (false, _) => got == "compile" || got == "runtime",
        };
        let e = counts.entry(file.clone()).or_default();
        e.0 += 1;
        if ok { e.1 += 1 } else { fails.push(format!("{file}: {expr} -> {got}")) }
    }
    let (mut r, mut a) = (0, 0);
    for (f, (run, agree)) in &counts {
        println!("{f:32} run {run:4} agree {agree:4}");
        r += run; a += agree;
    }
    println!("{:32} run {r:4} agree {a:4}", "total");
    std::fs::write("failures.txt", fails.join("\n")).unwrap();
}
