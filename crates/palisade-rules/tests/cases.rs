//! Runs every case file under `tests/cases` (format: `tests/cases/README.md`).
//!
//! `PALISADE_CASE=substring cargo test -p palisade-rules --test cases` runs
//! only the files whose path contains the substring.

mod harness;

use harness::{case_files, cases_dir, compare, load, run};
use palisade_rules::workload;
use std::collections::BTreeMap;

#[test]
fn case_files_pass() {
    let dir = cases_dir();
    let filter = std::env::var("PALISADE_CASE").unwrap_or_default();
    let files: Vec<_> = case_files(&dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(&filter))
        .collect();
    assert!(!files.is_empty(), "no case files under {}", dir.display());
    let mut failures = Vec::new();
    for path in &files {
        let shown = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let result = load(path).and_then(|case| {
            let outcome = run(&case)?;
            compare::check(&case, &outcome).map_err(|d| format!("{}\n{d}", case.description))
        });
        if let Err(e) = result {
            failures.push(format!("=== tests/cases/{shown}: {e}"));
        }
    }
    println!("{} case files run", files.len());
    assert!(
        failures.is_empty(),
        "{} of {} case files failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

/// Every workload rule has a positive case (it must report) and a negative
/// case (it compares and must stay silent somewhere).
#[test]
fn every_workload_rule_has_positive_and_negative_cases() {
    let mut positive: BTreeMap<String, usize> = BTreeMap::new();
    let mut negative: BTreeMap<String, usize> = BTreeMap::new();
    for path in case_files(&cases_dir()) {
        let Ok(case) = load(&path) else { continue };
        for rule in &case.rules {
            let hits = case.expect.iter().filter(|e| &e.rule == rule).count();
            let map = if hits > 0 {
                &mut positive
            } else {
                &mut negative
            };
            *map.entry(rule.clone()).or_default() += 1;
        }
    }
    let mut gaps = Vec::new();
    for r in workload::rules() {
        let id = &r.info().id;
        if !positive.contains_key(id) {
            gaps.push(format!("{id}: no positive case"));
        }
        if !negative.contains_key(id) {
            gaps.push(format!("{id}: no negative case"));
        }
    }
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}
