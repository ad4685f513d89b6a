//! Running suites: each assertion passes or fails, with the reason.

use super::case::case_object;
use crate::files::{read_resources, walk};
use crate::rego::{Constraint, ConstraintRule, Template, Violation};
use crate::PolicyEngine;
use palisade_core::{Context, Extensions, Inventory, Resource};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The result of one assertion.
#[derive(Debug, Clone, Serialize)]
pub struct AssertionResult {
    /// The suite file.
    pub suite: String,
    /// The test's name.
    pub test: String,
    /// The case's name.
    pub case: String,
    /// Index of the assertion in the case.
    pub assertion: usize,
    /// What was expected, e.g. `violations: yes, message: ~"foo"`.
    pub expected: String,
    /// The engine that evaluated it (`Rego (regorus)`, `CEL (K8sNativeValidation)`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub engine: String,
    /// Whether it held.
    pub passed: bool,
    /// Why it failed (counts, messages or the error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Counts of passed and failed assertions.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Assertions that held.
    pub passed: usize,
    /// Assertions that did not (or could not be run).
    pub failed: usize,
}

/// All results of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The counts.
    pub summary: Summary,
    /// Every assertion.
    pub results: Vec<AssertionResult>,
    /// Paths that could not be read while looking for suites (the others
    /// were still run).
    #[serde(skip)]
    pub errors: Vec<crate::PolicyError>,
}

/// Every `suite.yaml` under `paths` (a file path is taken as a suite), and
/// an error for every entry that cannot be read.
pub fn find_suites(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<crate::PolicyError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let (mut found, mut unreadable) = walk(
            p,
            &mut |f| f.file_name().is_some_and(|n| n == "suite.yaml"),
            true,
        );
        out.append(&mut found);
        errors.append(&mut unreadable);
    }
    (out, errors)
}

/// Runs every suite under `paths`; entries that cannot be read are in
/// [`Report::errors`].
pub fn run_paths(paths: &[PathBuf], engine: PolicyEngine, limit: Duration) -> Report {
    let (suites, errors) = find_suites(paths);
    let mut report = Report {
        errors,
        ..Report::default()
    };
    for suite in suites {
        report.results.extend(run_suite(&suite, engine, limit));
    }
    report.summary.passed = report.results.iter().filter(|r| r.passed).count();
    report.summary.failed = report.results.len() - report.summary.passed;
    report
}

struct Assertion {
    violations: Expect,
    message: Option<String>,
}

#[derive(Clone, Copy)]
enum Expect {
    Yes,
    No,
    Exactly(usize),
}

fn parse_assertion(v: &Value) -> Result<Assertion, String> {
    let violations = match v.get("violations") {
        Some(Value::String(s)) if s == "yes" => Expect::Yes,
        Some(Value::String(s)) if s == "no" => Expect::No,
        Some(Value::Bool(true)) => Expect::Yes,
        Some(Value::Bool(false)) => Expect::No,
        Some(Value::Number(n)) => {
            Expect::Exactly(n.as_u64().ok_or("violations must be yes, no or a count")? as usize)
        }
        Some(Value::String(s)) => Expect::Exactly(
            s.parse()
                .map_err(|_| format!("violations `{s}`: expected yes, no or a count"))?,
        ),
        None => Expect::Yes,
        Some(other) => return Err(format!("violations `{other}`: expected yes, no or a count")),
    };
    let message = v.get("message").and_then(Value::as_str).map(str::to_string);
    Ok(Assertion {
        violations,
        message,
    })
}

fn describe(a: &Assertion) -> String {
    let v = match a.violations {
        Expect::Yes => "yes".to_string(),
        Expect::No => "no".to_string(),
        Expect::Exactly(n) => n.to_string(),
    };
    match &a.message {
        Some(m) => format!("violations: {v}, message: {m:?}"),
        None => format!("violations: {v}"),
    }
}

fn flag(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn one(path: &Path) -> Result<Resource, String> {
    read_resources(path)
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: no Kubernetes object", path.display()))
}

/// Runs one suite file.
pub fn run_suite(path: &Path, engine: PolicyEngine, limit: Duration) -> Vec<AssertionResult> {
    let suite = path.display().to_string();
    let dir = path.parent().unwrap_or(Path::new("."));
    let broken = |test: &str, case: &str, reason: String| AssertionResult {
        suite: suite.clone(),
        test: test.into(),
        case: case.into(),
        assertion: 0,
        expected: "(suite could not run)".into(),
        engine: String::new(),
        passed: false,
        reason: Some(reason),
    };
    let doc = match read_resources(path) {
        Ok(mut docs) if !docs.is_empty() => docs.remove(0).value,
        Ok(_) => return vec![broken("", "", "no Suite object".into())],
        Err(e) => return vec![broken("", "", e.to_string())],
    };
    let mut out = Vec::new();
    for test in doc
        .get("tests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let tname = text(test, "name");
        if flag(test, "skip") {
            continue; // gator: `skip: true` leaves the test out
        }
        let rule = load_rule(dir, test, engine, limit);
        if flag(test, "invalid") {
            // gator: the template or constraint must fail to load.
            out.push(AssertionResult {
                suite: suite.clone(),
                test: tname.into(),
                case: String::new(),
                assertion: 0,
                expected: "invalid: true".into(),
                engine: String::new(),
                passed: rule.is_err(),
                reason: rule
                    .as_ref()
                    .ok()
                    .map(|_| "template and constraint loaded".to_string()),
            });
            continue;
        }
        for case in test
            .get("cases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let cname = text(case, "name");
            if flag(case, "skip") {
                continue;
            }
            let assertions: Vec<&Value> = case
                .get("assertions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect();
            let outcome = rule
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|r| run_case(dir, case, r));
            for (i, a) in assertions.iter().enumerate() {
                let mut result = AssertionResult {
                    suite: suite.clone(),
                    test: tname.into(),
                    case: cname.into(),
                    assertion: i,
                    expected: String::new(),
                    engine: rule
                        .as_ref()
                        .map(|r| r.engine().describe().to_string())
                        .unwrap_or_default(),
                    passed: false,
                    reason: None,
                };
                match (parse_assertion(a), &outcome) {
                    (Err(e), _) => result.reason = Some(e),
                    (Ok(a), Err(e)) => {
                        result.expected = describe(&a);
                        result.reason = Some(e.clone());
                    }
                    (Ok(a), Ok(vs)) => {
                        result.expected = describe(&a);
                        check(&a, vs, &mut result);
                    }
                }
                out.push(result);
            }
        }
    }
    out
}

fn check(a: &Assertion, vs: &[Violation], result: &mut AssertionResult) {
    let re = match a.message.as_deref().map(regex::Regex::new) {
        Some(Err(e)) => {
            result.reason = Some(format!("bad message regex: {e}"));
            return;
        }
        Some(Ok(re)) => Some(re),
        None => None,
    };
    let n = vs
        .iter()
        .filter(|v| re.as_ref().is_none_or(|re| re.is_match(&v.msg)))
        .count();
    result.passed = match a.violations {
        Expect::Yes => n > 0,
        Expect::No => n == 0,
        Expect::Exactly(k) => n == k,
    };
    if !result.passed {
        let msgs: Vec<&str> = vs.iter().map(|v| v.msg.as_str()).collect();
        result.reason = Some(format!(
            "got {n} matching violation(s); all messages: {msgs:?}"
        ));
    }
}

fn load_rule(
    dir: &Path,
    test: &Value,
    engine: PolicyEngine,
    limit: Duration,
) -> Result<Arc<ConstraintRule>, String> {
    let tpl = one(&dir.join(text(test, "template")))?;
    let template = Template::compile(&tpl, limit).map_err(|errs| {
        errs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let con = one(&dir.join(text(test, "constraint")))?;
    let constraint = Constraint::parse(&con).map_err(|e| e.to_string())?;
    if constraint.kind != template.kind {
        return Err(format!(
            "constraint kind `{}` does not match template kind `{}`",
            constraint.kind, template.kind
        ));
    }
    Ok(Arc::new(ConstraintRule::new(
        Arc::new(template),
        constraint,
        con.value.clone(),
        engine,
    )))
}

fn run_case(dir: &Path, case: &Value, rule: &ConstraintRule) -> Result<Vec<Violation>, String> {
    let obj = case_object(one(&dir.join(text(case, "object")))?)?;
    let mut items = Vec::new();
    for inv in case
        .get("inventory")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let p = dir.join(inv.as_str().unwrap_or_default());
        items.extend(
            read_resources(&p)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(Arc::new),
        );
    }
    let inventory = Inventory::new(items);
    let ext = Extensions::default();
    let mut ctx = Context::new(&inventory, &ext, jiff::Timestamp::now());
    ctx.request = obj.request.as_ref();
    if !rule.matches(&obj.resource, &ctx) {
        return Ok(Vec::new());
    }
    rule.violations(&obj.resource, &ctx)
}
