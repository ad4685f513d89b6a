//! Linux capabilities: `capabilities_baseline` and `capabilities_restricted`.

use super::Violation;
use crate::pss::pod::{ctr_label, join_quote, Ctr, Pod};
use serde_json::Value;
use std::collections::BTreeSet;

/// The capabilities a container may add at baseline: the runtime's default
/// set, the same list the `capabilities-added` rule allows.
pub use crate::workload::capabilities::DEFAULT_CAPABILITIES as BASELINE_ALLOWED;

/// The entries of `securityContext.capabilities.<list>` that are strings.
fn caps<'a>(c: &Ctr<'a>, list: &str) -> impl Iterator<Item = &'a str> {
    c.get(&["securityContext", "capabilities", list])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn added_beyond(
    pod: &Pod<'_>,
    c: &Ctr<'_>,
    allowed: &dyn Fn(&str) -> bool,
    out: &mut Vec<Violation>,
) {
    let bad: BTreeSet<&str> = caps(c, "add").filter(|cap| !allowed(cap)).collect();
    if !bad.is_empty() {
        let bad: Vec<&str> = bad.into_iter().collect();
        out.push(
            Violation::new(
                pod.ctr_path(c, &["securityContext", "capabilities", "add"]),
                format!(
                    "{} must not include {} in securityContext.capabilities.add",
                    ctr_label(c),
                    join_quote(&bad)
                ),
            )
            .concern("capabilities-added"),
        );
    }
}

/// capabilities_baseline v1.0: only the default set may be added.
pub fn baseline_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        added_beyond(pod, &c, &|cap| BASELINE_ALLOWED.contains(&cap), out);
    }
}

/// capabilities_restricted v1.22: drop `ALL`, add at most `NET_BIND_SERVICE`.
pub fn restricted_1_22(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        if !caps(&c, "drop").any(|cap| cap == "ALL") {
            out.push(
                Violation::new(
                    pod.ctr_path(&c, &["securityContext", "capabilities", "drop"]),
                    format!(
                        "{} must set securityContext.capabilities.drop=[\"ALL\"]",
                        ctr_label(&c)
                    ),
                )
                .concern("capabilities-dropped"),
            );
        }
        added_beyond(pod, &c, &|cap| cap == "NET_BIND_SERVICE", out);
    }
}

/// capabilities_restricted v1.25: as v1.22, Windows pods exempt.
pub fn restricted_1_25(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if !pod.is_windows() {
        restricted_1_22(pod, out);
    }
}
