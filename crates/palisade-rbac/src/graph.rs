//! The RBAC graph: roles (with aggregation resolved and default roles added),
//! bindings resolved to their roles, subjects indexed, service accounts and
//! namespaces known from the input.

use crate::aggregate::resolve_aggregation;
use crate::builtin;
use crate::model::{Binding, Problem, RoleDef, RoleKey, RoleKind, Subject};
use crate::parse::{self, is_rbac};
use crate::workload::WorkloadPaths;
use palisade_core::{Inventory, Resource};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// What an input object is in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A role (index into [`RbacGraph::roles`]).
    Role(usize),
    /// A binding (index into [`RbacGraph::bindings`]).
    Binding(usize),
}

/// The address of an object, which identifies it among the graph's inputs.
fn address(res: &Resource) -> usize {
    res as *const Resource as usize
}

/// The RBAC state described by one input (or one cluster).
#[derive(Debug, Default)]
pub struct RbacGraph {
    /// Every role: the input's, then the default roles that were added.
    pub roles: Vec<RoleDef>,
    /// Every binding, in input order.
    pub bindings: Vec<Binding>,
    /// Input that could not be used.
    pub problems: Vec<Problem>,
    /// ServiceAccount objects by (namespace, name).
    pub service_accounts: HashMap<(String, String), Arc<Resource>>,
    /// Names of the Namespace objects in the input.
    pub namespaces: BTreeSet<String>,
    sa_namespaces: HashSet<String>,
    by_object: HashMap<usize, Entry>,
    problem_index: HashMap<palisade_core::ResourceId, Vec<usize>>,
    role_index: HashMap<RoleKey, usize>,
    binding_index: HashMap<(bool, Option<String>, String), usize>,
    by_subject: HashMap<Subject, Vec<(usize, usize)>>,
    holders: Vec<Vec<usize>>,
    pub(crate) workload: OnceLock<WorkloadPaths>,
}

impl RbacGraph {
    /// Builds the graph from every RBAC object, ServiceAccount and Namespace of `inventory`.
    pub fn build(inventory: &Inventory) -> RbacGraph {
        Self::from_resources(inventory.iter().cloned())
    }

    /// The kinds [`RbacGraph::from_resources`] reads (RBAC kinds in the
    /// `rbac.authorization.k8s.io` group, the others in core `v1`).
    pub const KINDS: [&'static str; 6] = [
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ServiceAccount",
        "Namespace",
    ];

    /// Builds the graph from objects (other kinds are ignored).
    pub fn from_resources(items: impl IntoIterator<Item = Arc<Resource>>) -> RbacGraph {
        let mut g = RbacGraph::default();
        for res in items {
            if is_rbac(&res, "Role") || is_rbac(&res, "ClusterRole") {
                g.add_role(&res, false);
            } else if is_rbac(&res, "RoleBinding") || is_rbac(&res, "ClusterRoleBinding") {
                let b = parse::binding(&res, &mut g.problems);
                g.by_object
                    .insert(address(&res), Entry::Binding(g.bindings.len()));
                let key = (b.cluster, b.namespace.clone(), b.name.clone());
                g.binding_index.insert(key, g.bindings.len());
                g.bindings.push(b);
            } else if res.id.kind == "ServiceAccount" && res.id.api_version == "v1" {
                let ns = parse::namespace_of(&res);
                g.sa_namespaces.insert(ns.clone());
                g.service_accounts.insert((ns, res.id.name.clone()), res);
            } else if res.id.kind == "Namespace" && res.id.api_version == "v1" {
                g.namespaces.insert(res.id.name.clone());
            }
        }
        for (i, p) in g.problems.iter().enumerate() {
            g.problem_index
                .entry(p.resource.id.clone())
                .or_default()
                .push(i);
        }
        g.add_builtins();
        resolve_aggregation(&mut g.roles);
        g.resolve_bindings();
        g
    }

    fn add_role(&mut self, res: &Arc<Resource>, builtin: bool) {
        let role = parse::role(res, builtin, &mut self.problems);
        self.by_object
            .insert(address(res), Entry::Role(self.roles.len()));
        self.role_index.insert(role.key.clone(), self.roles.len());
        self.roles.push(role);
    }

    fn add_builtins(&mut self) {
        let wanted: BTreeSet<String> = self
            .bindings
            .iter()
            .filter_map(|b| b.role_ref.as_ref())
            .filter(|r| r.kind == "ClusterRole" && builtin::NAMES.contains(&r.name.as_str()))
            .map(|r| r.name.clone())
            .filter(|n| self.cluster_role(n).is_none())
            .collect();
        for name in wanted {
            for res in builtin::roles_for(&name) {
                if self.cluster_role(&res.id.name).is_none() {
                    self.add_role(&res, true);
                }
            }
        }
    }

    fn resolve_bindings(&mut self) {
        self.holders = vec![Vec::new(); self.roles.len()];
        for bi in 0..self.bindings.len() {
            let b = &self.bindings[bi];
            let role = b
                .role_ref
                .as_ref()
                .and_then(|r| match (r.kind.as_str(), b.cluster) {
                    ("ClusterRole", _) => self.cluster_role(&r.name),
                    ("Role", false) => b
                        .namespace
                        .as_deref()
                        .and_then(|ns| self.role(RoleKind::Role, Some(ns), &r.name)),
                    _ => None,
                });
            for s in &b.subjects {
                self.by_subject
                    .entry(s.subject.clone())
                    .or_default()
                    .push((bi, s.index));
            }
            if let Some(ri) = role {
                let sources: HashSet<usize> =
                    self.roles[ri].effective.iter().map(|r| r.role).collect();
                for src in sources.into_iter().chain([ri]) {
                    if !self.holders[src].contains(&bi) {
                        self.holders[src].push(bi);
                    }
                }
            }
            self.bindings[bi].role = role;
        }
    }

    /// What `res` is in the graph, when it is one of the very objects the
    /// graph was built from (found by address, so duplicates of one identity
    /// in the input are told apart).
    pub fn entry_of(&self, res: &Resource) -> Option<Entry> {
        self.by_object.get(&address(res)).copied()
    }

    /// The role of `kind` in `namespace` called `name`.
    pub fn role(&self, kind: RoleKind, namespace: Option<&str>, name: &str) -> Option<usize> {
        self.role_index
            .get(&RoleKey {
                kind,
                namespace: namespace.map(str::to_string),
                name: name.to_string(),
            })
            .copied()
    }

    /// The ClusterRole called `name`.
    pub fn cluster_role(&self, name: &str) -> Option<usize> {
        self.role(RoleKind::ClusterRole, None, name)
    }

    /// The role read from `res` (a Role or ClusterRole of the input).
    pub fn role_of(&self, res: &Resource) -> Option<&RoleDef> {
        let kind = match res.id.kind.as_str() {
            "Role" => RoleKind::Role,
            "ClusterRole" => RoleKind::ClusterRole,
            _ => return None,
        };
        let ns = (kind == RoleKind::Role).then(|| parse::namespace_of(res));
        self.role(kind, ns.as_deref(), &res.id.name)
            .map(|i| &self.roles[i])
    }

    /// The binding read from `res` (a RoleBinding or ClusterRoleBinding of the input).
    pub fn binding_of(&self, res: &Resource) -> Option<&Binding> {
        let cluster = res.id.kind == "ClusterRoleBinding";
        let ns = if cluster {
            None
        } else {
            res.id.namespace.clone()
        };
        let key = (cluster, ns, res.id.name.clone());
        self.binding_index.get(&key).map(|&i| &self.bindings[i])
    }

    /// Index of `binding` in [`RbacGraph::bindings`].
    pub fn binding_index(&self, binding: &Binding) -> Option<usize> {
        self.binding_index
            .get(&(
                binding.cluster,
                binding.namespace.clone(),
                binding.name.clone(),
            ))
            .copied()
    }

    /// The bindings (indices) that grant the rules of role `role`, directly
    /// or through a role that aggregates it.
    pub fn holders(&self, role: usize) -> &[usize] {
        self.holders.get(role).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The (binding, subject index) pairs naming `subject`.
    pub fn bindings_naming(&self, subject: &Subject) -> &[(usize, usize)] {
        self.by_subject
            .get(subject)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every subject named by some binding.
    pub fn subjects(&self) -> impl Iterator<Item = &Subject> {
        self.by_subject.keys()
    }

    /// The problems found in `res`.
    pub fn problems_of<'a>(&'a self, res: &'a Resource) -> impl Iterator<Item = &'a Problem> + 'a {
        self.problem_index
            .get(&res.id)
            .into_iter()
            .flatten()
            .map(|&i| &self.problems[i])
            .filter(move |p| p.resource.source == res.source)
    }

    /// Whether the input describes the service accounts of `namespace`: its
    /// Namespace object or at least one of its ServiceAccounts is present.
    pub fn knows_namespace(&self, namespace: &str) -> bool {
        self.namespaces.contains(namespace) || self.sa_namespaces.contains(namespace)
    }
}
