//! JUnit XML, as Jenkins, GitLab, Azure DevOps and GitHub test reporters
//! read it.
//!
//! One `<testsuite>` per file (in input order). In it, one `<testcase>` per
//! object and rule with findings, holding a `<failure>` that lists them;
//! one passing `<testcase>` per object without findings; a `<skipped>` case
//! per object and rule whose findings were suppressed; and one `<testcase>`
//! with an `<error>` per input error of the file.

use crate::report::Report;
use palisade_core::{Finding, ResourceId, Severity};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::collections::HashMap;
use std::io::Write;

enum Outcome {
    Pass,
    Failure {
        message: String,
        severity: Severity,
        body: String,
    },
    Skipped {
        message: String,
    },
    Error {
        message: String,
        body: String,
    },
}

struct Case {
    name: String,
    outcome: Outcome,
}

#[derive(Default)]
struct Suites {
    order: Vec<(String, Vec<Case>)>,
    index: HashMap<String, usize>,
}

impl Suites {
    fn push(&mut self, suite: &str, case: Case) {
        let i = match self.index.get(suite) {
            Some(&i) => i,
            None => {
                self.order.push((suite.to_string(), Vec::new()));
                self.index.insert(suite.to_string(), self.order.len() - 1);
                self.order.len() - 1
            }
        };
        self.order[i].1.push(case);
    }
}

const NO_FILE: &str = "(no file)";

fn file_of(f: &Finding) -> &str {
    f.location.as_ref().map_or(NO_FILE, |l| &l.file)
}

fn object(id: &ResourceId) -> String {
    match &id.namespace {
        Some(ns) => format!("{}/{} ({ns})", id.kind, id.name),
        None => format!("{}/{}", id.kind, id.name),
    }
}

/// Groups `items` by rule in order of first appearance.
fn by_rule<'a, T>(items: &[&'a T], rule: impl Fn(&T) -> &str) -> Vec<(String, Vec<&'a T>)> {
    let mut out: Vec<(String, Vec<&'a T>)> = Vec::new();
    for &item in items {
        match out.iter_mut().find(|(r, _)| r == rule(item)) {
            Some((_, v)) => v.push(item),
            None => out.push((rule(item).to_string(), vec![item])),
        }
    }
    out
}

/// The other rules of a merged finding, comma-separated.
fn also_list(f: &Finding) -> String {
    f.also.iter().map(|a| &**a).collect::<Vec<_>>().join(", ")
}

fn failure(findings: &[&Finding]) -> Outcome {
    let severity = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Info);
    let message = match findings {
        [one] => one.message.clone(),
        many => format!("{} findings", many.len()),
    };
    let mut body = String::new();
    for f in findings {
        body.push_str(&format!(
            "{} [{}] {}\n  field: {}\n",
            f.where_(),
            f.severity,
            f.message,
            f.path
        ));
        if !f.also.is_empty() {
            body.push_str(&format!("  also: {}\n", also_list(f)));
        }
    }
    if let Some(f) = findings.first() {
        body.push_str(&format!("Fix: {}\n", f.remediation));
    }
    Outcome::Failure {
        message,
        severity,
        body,
    }
}

fn build(report: &Report) -> Suites {
    let mut suites = Suites::default();
    let mut findings: HashMap<(&str, &ResourceId), Vec<&Finding>> = HashMap::new();
    for f in &report.findings {
        findings
            .entry((file_of(f), &f.resource))
            .or_default()
            .push(f);
    }
    let mut suppressed: HashMap<(&str, &ResourceId), Vec<_>> = HashMap::new();
    for s in &report.suppressed {
        suppressed
            .entry((file_of(&s.finding), &s.finding.resource))
            .or_default()
            .push(s);
    }
    for res in &report.scanned {
        let file = res.file.as_deref().unwrap_or(NO_FILE);
        let key = (file, &res.id);
        let obj = object(&res.id);
        let found = findings.remove(&key).unwrap_or_default();
        let hidden = suppressed.remove(&key).unwrap_or_default();
        if found.is_empty() && hidden.is_empty() {
            suites.push(
                file,
                Case {
                    name: obj.clone(),
                    outcome: Outcome::Pass,
                },
            );
        }
        for (rule, fs) in by_rule(&found, |f: &Finding| &f.rule) {
            suites.push(
                file,
                Case {
                    name: format!("{obj}: {rule}"),
                    outcome: failure(&fs),
                },
            );
        }
        for (rule, ss) in by_rule(&hidden, |s: &palisade_core::Suppressed| &s.finding.rule) {
            let message = format!("suppressed by {}: {}", ss[0].by, ss[0].reason);
            suites.push(
                file,
                Case {
                    name: format!("{obj}: {rule}"),
                    outcome: Outcome::Skipped { message },
                },
            );
        }
    }
    // Findings about objects not in `scanned` (the configuration itself).
    for f in &report.findings {
        if findings.contains_key(&(file_of(f), &f.resource)) {
            let name = format!("{}: {}", object(&f.resource), f.rule);
            suites.push(
                file_of(f),
                Case {
                    name,
                    outcome: failure(&[f]),
                },
            );
        }
    }
    for e in &report.errors {
        let body = e.to_string();
        suites.push(
            &e.file,
            Case {
                name: format!("read {}", e.file),
                outcome: Outcome::Error {
                    message: e.message.clone(),
                    body,
                },
            },
        );
    }
    suites
}

/// Writes `report` as JUnit XML.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let suites = build(report);
    let count =
        |cases: &[Case], f: fn(&Outcome) -> bool| cases.iter().filter(|c| f(&c.outcome)).count();
    let is_failure = |o: &Outcome| matches!(o, Outcome::Failure { .. });
    let is_error = |o: &Outcome| matches!(o, Outcome::Error { .. });
    let is_skipped = |o: &Outcome| matches!(o, Outcome::Skipped { .. });
    let all: Vec<&Case> = suites.order.iter().flat_map(|(_, c)| c).collect();
    let total = |f: fn(&Outcome) -> bool| all.iter().filter(|c| f(&c.outcome)).count().to_string();
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attributes([
            ("name", "palisade"),
            ("tests", all.len().to_string().as_str()),
            ("failures", total(is_failure).as_str()),
            ("errors", total(is_error).as_str()),
            ("skipped", total(is_skipped).as_str()),
        ])
        .write_inner_content(|w| {
            for (name, cases) in &suites.order {
                w.create_element("testsuite")
                    .with_attributes([
                        ("name", name.as_str()),
                        ("tests", cases.len().to_string().as_str()),
                        ("failures", count(cases, is_failure).to_string().as_str()),
                        ("errors", count(cases, is_error).to_string().as_str()),
                        ("skipped", count(cases, is_skipped).to_string().as_str()),
                    ])
                    .write_inner_content(|w| {
                        for case in cases {
                            write_case(w, name, case)?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })?;
    writeln!(w.get_mut())?;
    Ok(())
}

fn write_case<W: Write>(w: &mut Writer<W>, suite: &str, case: &Case) -> std::io::Result<()> {
    let el = w
        .create_element("testcase")
        .with_attributes([("name", case.name.as_str()), ("classname", suite)]);
    match &case.outcome {
        Outcome::Pass => {
            el.write_empty()?;
        }
        Outcome::Failure {
            message,
            severity,
            body,
        } => {
            el.write_inner_content(|w| {
                w.create_element("failure")
                    .with_attributes([("message", message.as_str()), ("type", severity.as_str())])
                    .write_text_content(BytesText::new(body))?;
                Ok(())
            })?;
        }
        Outcome::Skipped { message } => {
            el.write_inner_content(|w| {
                w.create_element("skipped")
                    .with_attribute(("message", message.as_str()))
                    .write_empty()?;
                Ok(())
            })?;
        }
        Outcome::Error { message, body } => {
            el.write_inner_content(|w| {
                w.create_element("error")
                    .with_attributes([("message", message.as_str()), ("type", "input")])
                    .write_text_content(BytesText::new(body))?;
                Ok(())
            })?;
        }
    }
    Ok(())
}
