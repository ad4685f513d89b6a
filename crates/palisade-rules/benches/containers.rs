//! Evaluation time against the number of containers in one pod: the
//! default profile (workload, RBAC and Pod Security rules, findings merged)
//! on a pod with N containers, each of them breaking several rules (a
//! privileged container with a hostPort, a literal password, no resource
//! limits, running as root), for N from 1 to 20,000. Work must grow linearly:
//! the time per container is printed and stays flat. Besides wall time, the
//! thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`) is printed: on a shared
//! machine it moves far less with other load than wall time.
//!
//! `cargo bench -p palisade-rules --bench containers` (add `-- N` to repeat
//! each size N times and report the best; default 3).

use palisade_core::{Config, Context, Extensions, Inventory, PolicySet, Resource};
use palisade_rules::{profile, ProfileOptions};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SIZES: [usize; 9] = [1, 10, 100, 1_000, 2_000, 5_000, 10_000, 15_000, 20_000];

fn fail(message: &str) -> ! {
    eprintln!("containers bench: {message}");
    std::process::exit(2)
}

/// A pod with `n` containers, each breaking several rules.
fn pod(n: usize) -> Resource {
    let containers: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "name": format!("c{i}"),
                "image": "nginx:latest",
                "ports": [{"containerPort": 80, "hostPort": 8000 + (i % 1000)}],
                "env": [{"name": "DB_PASSWORD", "value": "hunter2-hunter2"}],
                "securityContext": {"privileged": true, "runAsUser": 0},
            })
        })
        .collect();
    let value = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "wide", "namespace": "team-a"},
        "spec": {"hostNetwork": true, "containers": containers},
    });
    Resource::from_value(value).unwrap_or_else(|| fail("not an object"))
}

/// The CPU time this thread has run (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3)
        .max(1);
    let rules =
        profile("default", &ProfileOptions::default()).unwrap_or_else(|e| fail(&e.to_string()));
    let set = PolicySet::builder(Config::default())
        .rules(rules)
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let inventory = Inventory::default();
    let ext = Extensions::default();
    let ctx = Context::new(&inventory, &ext, jiff::Timestamp::UNIX_EPOCH);
    println!("containers bench: default profile, one pod of N containers (best of {runs})");
    println!(
        "{:>8} {:>10} {:>12} {:>14} {:>12} {:>14}",
        "N", "findings", "wall", "per container", "CPU", "per container"
    );
    let mut per_container = Vec::new();
    for n in SIZES {
        let res = pod(n);
        let (mut wall, mut cpu) = (Duration::MAX, Duration::MAX);
        let mut findings = 0;
        for _ in 0..runs {
            let c0 = thread_cpu();
            let t = Instant::now();
            let eval = set.evaluate(&res, &ctx);
            wall = wall.min(t.elapsed());
            if let (Some(a), Some(b)) = (c0, thread_cpu()) {
                cpu = cpu.min(b.saturating_sub(a));
            }
            findings = eval.findings.len();
            drop(eval);
        }
        if cpu == Duration::MAX {
            cpu = wall; // no schedstat: wall time stands in
        }
        let per = cpu.as_secs_f64() / n as f64;
        per_container.push(per);
        println!(
            "{n:>8} {findings:>10} {:>9.2} ms {:>11.2} us {:>9.2} ms {:>11.2} us",
            wall.as_secs_f64() * 1e3,
            wall.as_secs_f64() / n as f64 * 1e6,
            cpu.as_secs_f64() * 1e3,
            per * 1e6
        );
    }
    // Linear: the CPU cost per container at 20,000 stays within 3x of its
    // cost at 1,000 (a quadratic merge made it grow 20x).
    let (at_1k, at_20k) = (per_container[3], per_container[SIZES.len() - 1]);
    println!(
        "per-container cost at 20,000 / at 1,000: {:.2} -> {}",
        at_20k / at_1k,
        if at_20k < 3.0 * at_1k {
            "linear"
        } else {
            "NOT linear"
        }
    );
}
