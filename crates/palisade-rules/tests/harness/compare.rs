//! Comparing what a case expects with what the engine reported, and
//! describing the difference.

use super::{Case, Expected, Outcome, INPUT_FILE};
use palisade_core::Finding;
use std::fmt::Write;

/// A finding as a case sees it: one per rule ID it carries (its own and
/// those of rules it was merged with) that the case compares.
#[derive(Debug, Clone)]
pub struct Actual {
    /// The rule ID.
    pub rule: String,
    /// The finding.
    pub finding: Finding,
}

impl Actual {
    fn line(&self) -> u32 {
        self.finding.location.as_ref().map_or(0, |l| l.line)
    }

    fn file(&self) -> &str {
        self.finding.location.as_ref().map_or("", |l| &l.file)
    }

    fn show(&self) -> String {
        let f = &self.finding;
        let col = f.location.as_ref().map_or(0, |l| l.column);
        format!(
            "- rule: {}\n    line: {}   # column {col}, {}, {} {} {}\n    path: {}\n    message: {:?}",
            self.rule,
            self.line(),
            self.file(),
            f.severity,
            f.action.as_str(),
            f.resource,
            f.path,
            f.message
        )
    }

    fn matches(&self, e: &Expected) -> bool {
        let f = &self.finding;
        *self.rule == e.rule
            && self.line() == e.line
            && f.path == e.path
            && self.file() == e.file.as_deref().unwrap_or(INPUT_FILE)
            && e.message
                .as_ref()
                .is_none_or(|m| f.message.contains(m.as_str()))
            && e.severity.as_ref().is_none_or(|s| f.severity.as_str() == s)
            && e.action.as_ref().is_none_or(|a| f.action.as_str() == a)
            && e.column
                .is_none_or(|c| f.location.as_ref().is_some_and(|l| l.column == c))
            && e.resource
                .as_ref()
                .is_none_or(|r| format!("{}/{}", f.resource.kind, f.resource.name) == *r)
    }
}

/// The findings of `findings` that the case compares.
pub fn relevant(case: &Case, findings: &[Finding]) -> Vec<Actual> {
    let mut out = Vec::new();
    for f in findings {
        for id in std::iter::once(&f.rule).chain(f.also.iter()) {
            if case.rules.iter().any(|r| **r == **id) {
                out.push(Actual {
                    rule: id.to_string(),
                    finding: f.clone(),
                });
            }
        }
    }
    out
}

fn show_expected(e: &Expected) -> String {
    let mut s = format!(
        "- rule: {}\n    line: {}\n    path: {}",
        e.rule, e.line, e.path
    );
    for (k, v) in [
        ("message", e.message.as_ref().map(|m| format!("{m:?}"))),
        ("column", e.column.map(|c| c.to_string())),
        ("severity", e.severity.clone()),
        ("action", e.action.clone()),
        ("file", e.file.clone()),
        ("resource", e.resource.clone()),
    ] {
        if let Some(v) = v {
            let _ = write!(s, "\n    {k}: {v}");
        }
    }
    s
}

/// Compares a case's expectations with its outcome; `Err` describes every
/// difference.
pub fn check(case: &Case, outcome: &Outcome) -> Result<(), String> {
    let mut report = String::new();
    let mut actual = relevant(case, &outcome.findings);
    let mut missing = Vec::new();
    for e in &case.expect {
        match actual.iter().position(|a| a.matches(e)) {
            Some(i) => {
                actual.remove(i);
            }
            None => missing.push(e),
        }
    }
    if !missing.is_empty() || !actual.is_empty() {
        let _ = writeln!(report, "findings differ");
        for e in &missing {
            let _ = writeln!(
                report,
                "  missing (expected, not reported):\n  {}",
                show_expected(e)
            );
        }
        for a in &actual {
            let _ = writeln!(
                report,
                "  unexpected (reported, not expected):\n  {}",
                a.show()
            );
        }
        let all = relevant(case, &outcome.findings);
        let _ = writeln!(report, "  all reported findings of {:?}:", case.rules);
        for a in &all {
            let _ = writeln!(report, "  {}", a.show());
        }
    }
    if let Some(expected) = &case.suppressed {
        let mut got: Vec<_> = outcome
            .suppressed
            .iter()
            .filter(|s| case.rules.iter().any(|r| s.finding.has_rule(r)))
            .collect();
        let mut missing = Vec::new();
        for e in expected {
            let hit = got.iter().position(|s| {
                s.finding.has_rule(&e.rule)
                    && s.finding.path == e.path
                    && s.by == e.by
                    && e.reason
                        .as_ref()
                        .is_none_or(|r| s.reason.contains(r.as_str()))
            });
            match hit {
                Some(i) => {
                    got.remove(i);
                }
                None => missing.push(e),
            }
        }
        for e in missing {
            let _ = writeln!(report, "suppressed finding missing: {e:?}");
        }
        for s in got {
            let _ = writeln!(
                report,
                "unexpected suppressed finding: {} at {} by {} ({})",
                s.finding.rule, s.finding.path, s.by, s.reason
            );
        }
    }
    let mut errors: Vec<_> = outcome.errors.iter().collect();
    for e in &case.errors {
        let hit = errors.iter().position(|got| {
            got.pos.is_some_and(|p| p.line == e.line)
                && e.message
                    .as_ref()
                    .is_none_or(|m| got.message.contains(m.as_str()))
        });
        match hit {
            Some(i) => {
                errors.remove(i);
            }
            None => {
                let _ = writeln!(report, "load error missing: {e:?}");
            }
        }
    }
    for e in errors {
        let _ = writeln!(report, "unexpected load error in input: {e}");
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}
