//! Pod Security Standards speed: evaluates every upstream PSA fixture
//! (`testdata/psa`, 4,537 pods) at its level and version in one
//! process, and prints the time spent reading and parsing the files apart
//! from the time spent evaluating them (the figure the issue bounds at 0.5 s).
//!
//! `cargo bench -p palisade-rules --bench pss` (add `-- N` to repeat N times
//! and report the best and median runs).

use palisade_core::yaml::parse_stream;
use palisade_core::{Action, Config, Context, Extensions, Inventory, PolicySet, Resource};
use palisade_rules::{profile, ProfileOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn corpora() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata")).to_path_buf()
}

fn fail(message: &str) -> ! {
    eprintln!("pss bench: {message}");
    std::process::exit(2)
}

fn sorted_dir(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(p) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => fail(&format!("cannot read {}: {e}", p.display())),
    };
    v.sort();
    v
}

/// The fixtures of one level and version, parsed, with the policy set that
/// evaluates them and the verdicts expected.
struct Group {
    set: PolicySet,
    pods: Vec<(Resource, bool)>,
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5)
        .max(1);
    let root = corpora().join("psa");
    let t0 = Instant::now();
    let mut groups = Vec::new();
    for level in ["baseline", "restricted"] {
        for vdir in sorted_dir(&root.join(level)) {
            let version = vdir
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let opts = ProfileOptions {
                pss_version: Some(version.clone()),
            };
            let set = match profile(&format!("pss-{level}"), &opts) {
                Ok(rules) => PolicySet::builder(Config::default()).rules(rules).build(),
                Err(e) => fail(&format!("{level} {version}: {e}")),
            };
            let set = set.unwrap_or_else(|e| fail(&e.to_string()));
            let mut pods = Vec::new();
            for verdict in ["pass", "fail"] {
                for file in sorted_dir(&vdir.join(verdict)) {
                    let text = std::fs::read_to_string(&file)
                        .unwrap_or_else(|e| fail(&format!("{}: {e}", file.display())));
                    let name: Arc<str> = Arc::from(file.display().to_string());
                    for doc in parse_stream(&text).into_iter().flatten() {
                        for r in Resource::from_document(doc, &name) {
                            pods.push((r, verdict == "pass"));
                        }
                    }
                }
            }
            groups.push(Group { set, pods });
        }
    }
    let load = t0.elapsed();
    let total: usize = groups.iter().map(|g| g.pods.len()).sum();
    let inventory = Inventory::default();
    let ext = Extensions::default();
    let ctx = Context::new(&inventory, &ext, jiff::Timestamp::UNIX_EPOCH);
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut wrong = 0usize;
    for _ in 0..runs {
        wrong = 0;
        let t = Instant::now();
        for g in &groups {
            for (pod, pass) in &g.pods {
                let eval = g.set.evaluate(pod, &ctx);
                let denied = eval.findings.iter().any(|f| f.action == Action::Enforce);
                if denied == *pass {
                    wrong += 1;
                }
            }
        }
        times.push(t.elapsed());
    }
    times.sort();
    let best = times[0];
    let median = times[times.len() / 2];
    println!(
        "pss bench: {total} PSA fixtures in {} level versions",
        groups.len()
    );
    println!(
        "  read + parse + build policy sets: {:>8.1} ms",
        load.as_secs_f64() * 1e3
    );
    println!(
        "  evaluate all fixtures:            {:>8.1} ms (best of {runs}), {:.1} ms median, {:.0} pods/s",
        best.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        total as f64 / best.as_secs_f64()
    );
    println!(
        "  total (load + one evaluation):    {:>8.1} ms",
        (load + median).as_secs_f64() * 1e3
    );
    println!(
        "  wrong verdicts: {wrong}; target: evaluation under 500 ms -> {}",
        if median.as_millis() < 500 {
            "met"
        } else {
            "NOT met"
        }
    );
    if wrong > 0 || total == 0 {
        std::process::exit(1);
    }
}
