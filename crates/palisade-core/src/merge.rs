//! Merging the findings of one object that are the same problem on the same
//! field, reported by different rules (a workload rule and a Pod Security
//! check on `hostNetwork`), into one finding that lists every rule.
//!
//! The work is linear in the number of findings: findings are grouped by
//! path and concern in a hash map, and each group keeps, per rule, the
//! findings that rule heads, so finding the one to merge into does not scan
//! the others. Small objects (the common case at admission) use a plain scan,
//! which allocates nothing; both give the same result.

use crate::finding::Finding;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Up to this many findings, a scan is cheaper than the hash map.
const SCAN_UP_TO: usize = 32;

/// Merges findings with the same concern on the same path, in order: a
/// finding joins the first earlier one of another rule with the same path and
/// concern (see [`merge_into`]); otherwise it stays a finding of its own.
pub(crate) fn dedupe(raw: Vec<Finding>) -> Vec<Finding> {
    if raw.len() <= SCAN_UP_TO {
        dedupe_by_scan(raw)
    } else {
        dedupe_by_hash(raw)
    }
}

/// Folds `f` into `g`, the same problem reported by another rule: the more
/// severe of the two heads the finding (its message, remediation and rule
/// ID; `g` on a tie), every other rule is listed in `also`, and the severity
/// and action are the strictest of all of them.
pub(crate) fn merge_into(g: &mut Finding, mut f: Finding) {
    let severity = g.severity.max(f.severity);
    let action = g.action.max(f.action);
    if f.severity > g.severity {
        std::mem::swap(g, &mut f);
    }
    // `g` heads; `f` and everything it listed join `g`'s list.
    for rule in std::iter::once(f.rule).chain(f.also) {
        if rule != g.rule && !g.also.contains(&rule) {
            g.also.push(rule);
        }
    }
    g.severity = severity;
    g.action = action;
}

/// The plain scan: for each finding, the first earlier one to merge into.
fn dedupe_by_scan(raw: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(raw.len());
    for f in raw {
        match out
            .iter_mut()
            .find(|g| g.path == f.path && g.concern == f.concern && g.rule != f.rule)
        {
            Some(g) => merge_into(g, f),
            None => out.push(f),
        }
    }
    out
}

/// The findings of one path and concern: for each rule heading some of
/// them, their indices in the output, in order.
#[derive(Default)]
struct Group {
    by_rule: Vec<(Arc<str>, BTreeSet<usize>)>,
}

impl Group {
    /// The first finding headed by a rule other than `rule`.
    fn first_other(&self, rule: &str) -> Option<usize> {
        self.by_rule
            .iter()
            .filter(|(r, _)| **r != *rule)
            .filter_map(|(_, set)| set.first().copied())
            .min()
    }

    fn insert(&mut self, rule: &Arc<str>, index: usize) {
        match self.by_rule.iter_mut().find(|(r, _)| r == rule) {
            Some((_, set)) => {
                set.insert(index);
            }
            None => self.by_rule.push((rule.clone(), BTreeSet::from([index]))),
        }
    }

    fn remove(&mut self, rule: &str, index: usize) {
        if let Some((_, set)) = self.by_rule.iter_mut().find(|(r, _)| **r == *rule) {
            set.remove(&index);
        }
    }
}

/// The same result as [`dedupe_by_scan`] through a map of groups.
fn dedupe_by_hash(raw: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(raw.len());
    let mut groups: HashMap<(String, Arc<str>), Group> = HashMap::new();
    for f in raw {
        let group = groups
            .entry((f.path.clone(), f.concern.clone()))
            .or_default();
        match group.first_other(&f.rule) {
            Some(j) => {
                let before = out[j].rule.clone();
                merge_into(&mut out[j], f);
                if out[j].rule != before {
                    group.remove(&before, j);
                    group.insert(&out[j].rule, j);
                }
            }
            None => {
                group.insert(&f.rule, out.len());
                out.push(f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Action;
    use crate::resource::ResourceId;
    use crate::severity::Severity;

    fn finding(
        rule: &str,
        path: &str,
        concern: &str,
        severity: Severity,
        action: Action,
    ) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            message: format!("{rule} at {path}"),
            remediation: Arc::from(""),
            path: path.into(),
            resource: Arc::new(ResourceId {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: None,
                name: "p".into(),
            }),
            location: None,
            action,
            also: Vec::new(),
            concern: concern.into(),
        }
    }

    fn shape(v: &[Finding]) -> Vec<(String, String, Severity, Action, Vec<String>)> {
        v.iter()
            .map(|f| {
                (
                    f.rule.to_string(),
                    f.path.clone(),
                    f.severity,
                    f.action,
                    f.also.iter().map(|a| a.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn the_strictest_rule_heads_and_the_others_are_listed() {
        let raw = vec![
            finding(
                "host-port",
                "spec.ports",
                "ports",
                Severity::Medium,
                Action::Enforce,
            ),
            finding(
                "pss-host-ports",
                "spec.ports",
                "ports",
                Severity::High,
                Action::Warn,
            ),
            finding("other", "spec.ports", "x", Severity::Low, Action::Warn),
            finding("third", "spec.ports", "ports", Severity::Low, Action::Audit),
        ];
        let out = dedupe(raw);
        assert_eq!(
            shape(&out),
            [
                (
                    "pss-host-ports".into(),
                    "spec.ports".into(),
                    Severity::High,
                    Action::Enforce,
                    vec!["host-port".into(), "third".into()]
                ),
                (
                    "other".into(),
                    "spec.ports".into(),
                    Severity::Low,
                    Action::Warn,
                    vec![]
                ),
            ]
        );
    }

    /// A small deterministic generator (xorshift), so the test needs no crate.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn the_map_gives_what_the_scan_gives() {
        let severities = [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ];
        let actions = [Action::Audit, Action::Warn, Action::Enforce];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..300 {
            let n = 1 + rng.below(120) as usize;
            let (paths, rules, concerns) = (1 + round % 7, 1 + round % 5, 1 + round % 3);
            let raw: Vec<Finding> = (0..n)
                .map(|_| {
                    let rule = format!("r{}", rng.below(rules));
                    let concern = if rng.below(2) == 0 {
                        rule.clone()
                    } else {
                        format!("c{}", rng.below(concerns))
                    };
                    finding(
                        &rule,
                        &format!("p{}", rng.below(paths)),
                        &concern,
                        severities[rng.below(4) as usize],
                        actions[rng.below(3) as usize],
                    )
                })
                .collect();
            let by_scan = dedupe_by_scan(raw.clone());
            let by_hash = dedupe_by_hash(raw);
            assert_eq!(shape(&by_scan), shape(&by_hash), "round {round}");
            for f in &by_scan {
                assert!(!f.also.contains(&f.rule), "round {round}: {f:?}");
            }
        }
    }
}
