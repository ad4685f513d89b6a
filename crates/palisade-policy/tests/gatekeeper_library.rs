//! Conformance: every gator suite of the gatekeeper-library corpus.

use palisade_policy::suite::{run_paths, AssertionResult, Report};
use palisade_policy::PolicyEngine;
use std::path::PathBuf;
use std::time::Duration;

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/gatekeeper-library"
    ))
}

/// Failing assertions (suite directory, case, assertion index) and why.
const ALLOWLIST: &[Entry] = &[
    ("general/horizontalpodautoscaler", "example-allowed-hpa", 0, HPA),
    ("general/horizontalpodautoscaler", "example-disallowed-hpa-replicas", 0, HPA),
    ("general/horizontalpodautoscaler", "example-disallowed-hpa-replicaspread", 0, HPA),
    ("general/horizontalpodautoscaler", "example-disallowed-scaletarget", 0, HPA),
    ("general/noupdateserviceaccount", "example-allowed", 0, "regorus rejects Rego v0 multi-body rules `r { .. } { .. }` (\"else cannot be used with set rules\")"),
    ("pod-security-policy/users", "example-allowed", 0, "regorus: `not f(x.undefined)` succeeds; OPA hoists the argument out of `not`, making the rule undefined"),
];
const HPA: &str = "regorus reads `ref` + newline + `(expr)` as a call of `ref` (OPA ends the expression at the newline)";

fn run(engine: PolicyEngine) -> Report {
    let report = run_paths(&[corpus()], engine, Duration::from_secs(2));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
}

type Entry = (&'static str, &'static str, usize, &'static str);

/// Whether allowlist entry `e` names assertion `r`.
fn names(e: &Entry, r: &AssertionResult) -> bool {
    let (s, c, i, _) = e;
    r.suite.ends_with(&format!("{s}/suite.yaml")) && r.case == *c && r.assertion == *i
}

fn allowed(r: &AssertionResult) -> bool {
    ALLOWLIST.iter().any(|e| names(e, r))
}

fn print_failure(f: &AssertionResult) {
    eprintln!(
        "FAIL {} / {} / {} #{}: {} -> {}",
        f.suite,
        f.test,
        f.case,
        f.assertion,
        f.expected,
        f.reason.as_deref().unwrap_or("")
    );
}

#[test]
fn gatekeeper_library_suites_pass() {
    let report = run(PolicyEngine::Rego);
    let total = report.results.len();
    for f in report.results.iter().filter(|r| !r.passed) {
        print_failure(f);
    }
    eprintln!(
        "{} passed, {} failed of {total}",
        report.summary.passed, report.summary.failed
    );
    // 297 assertions with `violations:` plus 2 with only `message:`
    // (allowedreposv2), which gator counts as `violations: yes`.
    assert_eq!(total, 299);
    let unexpected: Vec<_> = report
        .results
        .iter()
        .filter(|r| !r.passed && !allowed(r))
        .collect();
    assert!(
        unexpected.is_empty(),
        "failing assertions not in the allowlist: {unexpected:#?}"
    );
    let stale: Vec<_> = ALLOWLIST
        .iter()
        .filter(|e| !report.results.iter().any(|r| !r.passed && names(e, r)))
        .collect();
    assert!(
        stale.is_empty(),
        "allowlisted assertions that now pass: {stale:?}"
    );
    assert!(
        report.summary.passed * 100 >= 297 * 95,
        "pass rate below 95% of 297"
    );
}

/// The 16 templates that also carry CEL (`K8sNativeValidation`) code, run
/// with CEL: their suites must pass as they do with Rego.
#[test]
fn gatekeeper_library_suites_pass_with_the_cel_engine() {
    let report = run(PolicyEngine::Cel);
    let failed: Vec<_> = report
        .results
        .iter()
        .filter(|r| !r.passed && !allowed(r))
        .collect();
    for f in &failed {
        print_failure(f);
    }
    eprintln!(
        "CEL preferred: {} passed, {} failed",
        report.summary.passed, report.summary.failed
    );
    assert!(failed.is_empty());
    let cel = report
        .results
        .iter()
        .filter(|r| r.engine.starts_with("CEL"))
        .count();
    eprintln!("{cel} assertions evaluated with CEL");
    assert!(cel >= 100, "only {cel} assertions ran on CEL");
    let rego = run(PolicyEngine::Rego);
    assert!(rego.results.iter().all(|r| !r.engine.starts_with("CEL")));
}

/// gator's counts, message regexes, `skip` and `invalid`, on a suite of ours.
#[test]
fn suite_counts_skip_and_invalid() {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/suites/skip-invalid"
    ));
    let report = run_paths(&[dir], PolicyEngine::Rego, Duration::from_secs(1));
    let got: Vec<(String, bool)> = report
        .results
        .iter()
        .map(|r| (format!("{}/{}#{}", r.test, r.case, r.assertion), r.passed))
        .collect();
    let want = [
        ("counts/two latest#0", true),
        ("counts/two latest#1", true),
        ("counts/two latest#2", true),
        ("broken template is expected/#0", true),
        ("good template is not invalid/#0", false),
    ];
    let want: Vec<(String, bool)> = want.iter().map(|(n, p)| (n.to_string(), *p)).collect();
    assert_eq!(got, want);
    assert_eq!((report.summary.passed, report.summary.failed), (4, 1));
}
