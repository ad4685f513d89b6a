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
///
/// Several objects with one identity (kind, namespace, name) in one input,
/// as in a project's alternative install files, describe one cluster that
/// ends up holding the last of them in input order (as `kubectl apply` of
/// the files in that order leaves it): the earlier copies are kept and
/// checked, marked `superseded_by` the last, and only the last grants
/// anything (who-can, can, holders, aggregation). Kubernetes' bootstrap
/// roles and bindings ([`builtin`]) are added where the input does not
/// define the same identity.
#[derive(Debug, Default)]
pub struct RbacGraph {
    /// Every role: the input's, then the default roles that were added.
    pub roles: Vec<RoleDef>,
    /// Every binding: the input's in input order, then the default bindings.
    pub bindings: Vec<Binding>,
    /// Input that could not be used.
    pub problems: Vec<Problem>,
    /// ServiceAccount objects by (namespace, name).
    pub service_accounts: HashMap<(String, String), Arc<Resource>>,
    /// The service accounts every cluster has (the controllers' accounts of
    /// kube-system named by the bootstrap bindings), by (namespace, name).
    pub system_accounts: BTreeSet<(String, String)>,
    /// Names of the Namespace objects in the input.
    pub namespaces: BTreeSet<String>,
    sa_namespaces: HashSet<String>,
    by_object: HashMap<usize, Entry>,
    problem_index: HashMap<palisade_core::ResourceId, Vec<usize>>,
    role_index: HashMap<RoleKey, usize>,
    binding_index: HashMap<BindingKey, usize>,
    by_subject: HashMap<Subject, Vec<(usize, usize)>>,
    holders: Vec<Vec<usize>>,
    pub(crate) workload: OnceLock<WorkloadPaths>,
}

/// (cluster-wide, namespace, name) of a binding.
type BindingKey = (bool, Option<String>, String);

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

    /// Builds the graph from objects (other kinds are ignored), with the
    /// bootstrap policy of [`builtin::DEFAULT_VERSION`].
    pub fn from_resources(items: impl IntoIterator<Item = Arc<Resource>>) -> RbacGraph {
        Self::with_version(items, builtin::DEFAULT_VERSION)
    }

    /// Builds the graph from objects with the bootstrap policy of Kubernetes
    /// `version` (one of [`builtin::VERSIONS`]; another adds none).
    pub fn with_version(
        items: impl IntoIterator<Item = Arc<Resource>>,
        version: &str,
    ) -> RbacGraph {
        let mut g = RbacGraph::default();
        for res in items {
            g.add(&res);
        }
        for (i, p) in g.problems.iter().enumerate() {
            g.problem_index
                .entry(p.resource.id.clone())
                .or_default()
                .push(i);
        }
        g.add_builtins(version);
        g.mark_superseded();
        resolve_aggregation(&mut g.roles);
        g.resolve_bindings();
        g
    }

    fn add(&mut self, res: &Arc<Resource>) {
        if is_rbac(res, "Role") || is_rbac(res, "ClusterRole") {
            self.add_role(res, false);
        } else if is_rbac(res, "RoleBinding") || is_rbac(res, "ClusterRoleBinding") {
            let b = parse::binding(res, &mut self.problems);
            self.add_binding(res, b);
        } else if res.id.kind == "ServiceAccount" && res.id.api_version == "v1" {
            let ns = parse::namespace_of(res);
            self.sa_namespaces.insert(ns.clone());
            self.service_accounts
                .insert((ns, res.id.name.clone()), res.clone());
        } else if res.id.kind == "Namespace" && res.id.api_version == "v1" {
            self.namespaces.insert(res.id.name.clone());
        }
    }

    fn add_role(&mut self, res: &Arc<Resource>, builtin: bool) {
        let role = parse::role(res, builtin, &mut self.problems);
        self.by_object
            .insert(address(res), Entry::Role(self.roles.len()));
        self.role_index.insert(role.key.clone(), self.roles.len());
        self.roles.push(role);
    }

    fn add_binding(&mut self, res: &Arc<Resource>, b: Binding) {
        self.by_object
            .insert(address(res), Entry::Binding(self.bindings.len()));
        let key = (b.cluster, b.namespace.clone(), b.name.clone());
        self.binding_index.insert(key, self.bindings.len());
        self.bindings.push(b);
    }

    /// Adds the bootstrap objects whose identity the input does not define.
    fn add_builtins(&mut self, version: &str) {
        for res in builtin::objects(version) {
            match res.id.kind.as_str() {
                "ClusterRole" | "Role" => {
                    let kind = if res.id.kind == "Role" {
                        RoleKind::Role
                    } else {
                        RoleKind::ClusterRole
                    };
                    let ns = (kind == RoleKind::Role).then(|| parse::namespace_of(res));
                    if self.role(kind, ns.as_deref(), &res.id.name).is_none() {
                        let mut ignored = Vec::new();
                        let role = parse::role(res, true, &mut ignored);
                        self.role_index.insert(role.key.clone(), self.roles.len());
                        self.roles.push(role);
                    }
                }
                _ => {
                    let mut ignored = Vec::new();
                    let mut b = parse::binding(res, &mut ignored);
                    let key = (b.cluster, b.namespace.clone(), b.name.clone());
                    if !self.binding_index.contains_key(&key) {
                        b.builtin = true;
                        self.binding_index.insert(key, self.bindings.len());
                        self.bindings.push(b);
                    }
                }
            }
        }
        self.system_accounts = builtin::service_accounts(version);
    }

    /// Marks every copy but the last of each identity as superseded.
    fn mark_superseded(&mut self) {
        for i in 0..self.roles.len() {
            let live = self.role_index.get(&self.roles[i].key).copied();
            self.roles[i].superseded_by = live.filter(|&l| l != i);
        }
        for i in 0..self.bindings.len() {
            let b = &self.bindings[i];
            let key = (b.cluster, b.namespace.clone(), b.name.clone());
            let live = self.binding_index.get(&key).copied();
            self.bindings[i].superseded_by = live.filter(|&l| l != i);
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
            self.bindings[bi].role = role;
            if self.bindings[bi].superseded_by.is_some() {
                continue;
            }
            for s in &self.bindings[bi].subjects {
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
        let ns = (!cluster).then(|| parse::namespace_of(res));
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
    /// or through a role that aggregates it (none for a superseded copy:
    /// see [`RbacGraph::roles`] and `superseded_by`).
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

    /// Whether `namespace`/`name` is one of the service accounts every
    /// cluster has (see [`RbacGraph::system_accounts`]).
    pub fn is_system_account(&self, namespace: &str, name: &str) -> bool {
        self.system_accounts
            .contains(&(namespace.to_string(), name.to_string()))
    }

    /// Whether the input describes the service accounts of `namespace`: its
    /// Namespace object or at least one of its ServiceAccounts is present.
    pub fn knows_namespace(&self, namespace: &str) -> bool {
        self.namespaces.contains(namespace) || self.sa_namespaces.contains(namespace)
    }
}
