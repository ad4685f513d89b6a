//! ClusterRole aggregation as the clusterrole-aggregation controller does it:
//! an aggregating ClusterRole's rules are replaced by the rules of every
//! other ClusterRole whose labels match one of its `clusterRoleSelectors`
//! (`matchLabels` and `matchExpressions`). Aggregated roles may themselves be
//! selected (`admin` takes `edit`, which takes `view`); the controller
//! converges to the fixed point, which is what is computed here.

use crate::model::{RoleDef, RoleKind, RuleRef};
use std::collections::HashSet;

/// Fills `effective` and `aggregated_from` of every role.
pub fn resolve_aggregation(roles: &mut [RoleDef]) {
    for (ri, role) in roles.iter_mut().enumerate() {
        role.effective = if role.aggregation.is_some() {
            Vec::new()
        } else {
            (0..role.rules.len())
                .map(|index| RuleRef { role: ri, index })
                .collect()
        };
    }
    let aggregating: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i].aggregation.is_some())
        .collect();
    if aggregating.is_empty() {
        return;
    }
    // Which ClusterRoles each aggregating role selects (never itself).
    let selected: Vec<Vec<usize>> = aggregating
        .iter()
        .map(|&ai| {
            let selectors = roles[ai].aggregation.as_deref().unwrap_or(&[]);
            (0..roles.len())
                .filter(|&ci| {
                    ci != ai
                        && roles[ci].key.kind == RoleKind::ClusterRole
                        // an earlier copy of a role the input redefines is not in the cluster
                        && roles[ci].superseded_by.is_none()
                })
                .filter(|&ci| {
                    let labels = roles[ci].resource.meta("labels");
                    // An empty selector selects every ClusterRole, as in the controller.
                    selectors.iter().any(|s| s.matches_json(labels))
                })
                .collect()
        })
        .collect();
    for (k, &ai) in aggregating.iter().enumerate() {
        roles[ai].aggregated_from = selected[k].clone();
    }
    loop {
        let mut changed = false;
        for (k, &ai) in aggregating.iter().enumerate() {
            let mut seen: HashSet<RuleRef> = roles[ai].effective.iter().copied().collect();
            let mut add = Vec::new();
            for &ci in &selected[k] {
                for r in &roles[ci].effective {
                    if seen.insert(*r) {
                        add.push(*r);
                    }
                }
            }
            if !add.is_empty() {
                roles[ai].effective.extend(add);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}
