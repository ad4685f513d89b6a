//! RBAC rules (family `rbac`): least privilege in roles, bindings to groups
//! rather than individuals, time-bound memberships and authorization decay.
//!
//! The rules read the [`palisade_rbac::RbacGraph`] that [`RbacProvider`]
//! builds once per evaluation. When a front door did not install the
//! provider, or the object is not (or not in this version) in the inventory
//! (an admission request), a graph of the inventory plus the object is built
//! for that check, so the answer is the same, only slower.
//!
//! Kubernetes' own objects (the bootstrap policy, reconciled by the API
//! server at every start) are not reported: an object counts as Kubernetes'
//! own only when its name and content equal the shipped bootstrap policy of
//! a Kubernetes version ([`palisade_rbac::builtin::is_own`]), never for a
//! label, which whoever writes the object chooses.

mod binding_rules;
mod decay;
mod expiry;
mod provider;
mod role_rules;
mod settings;
mod workload_create;

pub use palisade_rbac;
pub use provider::{RbacData, RbacProvider};
pub use settings::{RbacSettings, RequireExpiry, DEFAULT_MAX_EXPIRY_DAYS};

use palisade_core::{Context, Emitter, Resource, Rule, RuleInfo, Scope, Severity};
use palisade_rbac::{Binding, Entry, RbacGraph, RoleDef};
use std::sync::Arc;

/// Every rule of the family.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    let mut out = role_rules::rules();
    out.extend(binding_rules::rules());
    out.extend(expiry::rules());
    out.extend(decay::rules());
    out.extend(workload_create::rules());
    out
}

/// What a check sees: the object's role or binding in the graph.
pub(crate) enum Subject<'a> {
    /// A Role or ClusterRole (index in the graph).
    Role(&'a RoleDef, usize),
    /// A RoleBinding or ClusterRoleBinding (index in the graph).
    Binding(&'a Binding, usize),
}

/// The check of an [`RbacRule`].
pub(crate) type CheckFn = fn(&Resource, &Context<'_>, &RbacData, Subject<'_>, &mut Emitter<'_>);

/// The texts of a rule.
pub(crate) struct Texts {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub description: &'static str,
    pub remediation: &'static str,
}

/// A rule over roles or bindings that reads the RBAC graph.
pub(crate) struct RbacRule {
    info: RuleInfo,
    bindings: bool,
    check: CheckFn,
}

impl RbacRule {
    /// A rule checking Roles and ClusterRoles.
    pub fn roles(t: Texts, check: CheckFn) -> Arc<dyn Rule> {
        Self::make(t, false, check)
    }

    /// A rule checking RoleBindings and ClusterRoleBindings.
    pub fn bindings(t: Texts, check: CheckFn) -> Arc<dyn Rule> {
        Self::make(t, true, check)
    }

    fn make(t: Texts, bindings: bool, check: CheckFn) -> Arc<dyn Rule> {
        Arc::new(RbacRule {
            info: RuleInfo {
                id: t.id.into(),
                severity: t.severity,
                family: "rbac".into(),
                title: t.title.into(),
                description: t.description.into(),
                remediation: t.remediation.into(),
            },
            bindings,
            check,
        })
    }
}

/// The kinds the role rules check.
pub(crate) const ROLE_KINDS: [&str; 2] = ["Role", "ClusterRole"];
/// The kinds the binding rules check.
pub(crate) const BINDING_KINDS: [&str; 2] = ["RoleBinding", "ClusterRoleBinding"];

impl RbacRule {
    /// The kinds this rule checks.
    fn kinds(&self) -> [&'static str; 2] {
        if self.bindings {
            BINDING_KINDS
        } else {
            ROLE_KINDS
        }
    }
}

impl Rule for RbacRule {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn scope(&self) -> Scope {
        Scope::kinds(&self.kinds())
    }

    fn reads_inventory(&self) -> Scope {
        provider::graph_scope()
    }

    fn check(&self, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
        if !self
            .kinds()
            .iter()
            .any(|k| palisade_rbac::parse::is_rbac(res, k))
            || palisade_rbac::builtin::is_own(res)
        {
            return;
        }
        let shared = ctx.extensions.get::<RbacData>();
        if let Some(data) = shared {
            if let Some(subject) = find(&data.graph, res) {
                return (self.check)(res, ctx, data, subject, out);
            }
        }
        let local = RbacData {
            graph: RbacGraph::from_resources(
                ctx.inventory
                    .iter()
                    .filter(|r| r.id != res.id)
                    .cloned()
                    .chain([Arc::new(res.clone())]),
            ),
            settings: shared.map(|d| d.settings.clone()).unwrap_or_default(),
        };
        if let Some(subject) = find(&local.graph, res) {
            (self.check)(res, ctx, &local, subject, out);
        }
    }
}

/// The object's role or binding in `graph`, when the graph holds this very object.
fn find<'g>(graph: &'g RbacGraph, res: &Resource) -> Option<Subject<'g>> {
    match graph.entry_of(res) {
        Some(Entry::Role(i)) => return Some(Subject::Role(&graph.roles[i], i)),
        Some(Entry::Binding(i)) => return Some(Subject::Binding(&graph.bindings[i], i)),
        None => {}
    }
    // a copy of the object (not the inventory's own): match by identity and content
    if let Some(b) = graph.binding_of(res) {
        if b.resource.value == res.value {
            return graph.binding_index(b).map(|i| Subject::Binding(b, i));
        }
        return None;
    }
    let role = graph.role_of(res)?;
    if role.resource.value != res.value {
        return None;
    }
    let index = graph.role(role.key.kind, role.key.namespace.as_deref(), &role.key.name)?;
    Some(Subject::Role(role, index))
}

/// The subjects holding a role, as `user:alice (RoleBinding/x (shop))`, at
/// most five. For an earlier copy of a role the input defines again, the
/// holders of the copy the cluster keeps when both say the same, else where
/// that copy is.
pub(crate) fn holders_text(graph: &RbacGraph, role: usize) -> String {
    let mut role = role;
    if let Some(live) = graph.roles[role].superseded_by {
        let kept = &graph.roles[live];
        if kept.resource.value.get("rules") != graph.roles[role].resource.value.get("rules") {
            return format!(
                "the input defines it again ({}), and that copy is the one the cluster keeps",
                place(&kept.resource)
            );
        }
        role = live;
    }
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &bi in graph.holders(role) {
        let b = &graph.bindings[bi];
        for s in &b.subjects {
            let item = format!("{} ({})", s.subject, b.label());
            // the same binding may appear in several files of one input
            if seen.insert(item.clone()) {
                items.push(item);
            }
        }
    }
    if items.is_empty() {
        let bindings: Vec<String> = graph
            .holders(role)
            .iter()
            .map(|&bi| graph.bindings[bi].label())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if bindings.is_empty() {
            return "no binding in the input grants it yet".into();
        }
        // bound, but every subject is unusable as written (see rbac-binding-missing-subject)
        return format!(
            "bound by {}, whose subjects as written grant it to nobody",
            bindings.join(", ")
        );
    }
    let n = items.len();
    items.truncate(5);
    let more = if n > 5 {
        format!(" and {} more", n - 5)
    } else {
        String::new()
    };
    format!("held by {}{more}", items.join(", "))
}

/// `file:line` of an object, or its identity.
pub(crate) fn place(res: &Resource) -> String {
    match (&res.source, &res.positions) {
        (Some(s), Some(p)) => format!("{}:{}", s.file, p.start().line),
        (Some(s), None) => s.file.to_string(),
        _ => res.id.to_string(),
    }
}

#[cfg(test)]
mod tests;
