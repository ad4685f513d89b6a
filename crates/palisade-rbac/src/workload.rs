//! Paths to service-account tokens through workload creation: whoever can
//! create pods (or objects that create pods) in a namespace can run them as
//! any service account of that namespace and read its token. When such an
//! account holds a permission the creator lacks, creating workloads is an
//! escalation.

use crate::graph::RbacGraph;
use crate::matching::{covers, rule_allows, Request};
use crate::model::{RuleRef, Subject};
use crate::query::{Identity, Scope};
use crate::valid::{is_dns1123_label, is_dns1123_subdomain};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The (group, resource) pairs whose creation runs pods.
pub const WORKLOAD_RESOURCES: [(&str, &str); 8] = [
    ("", "pods"),
    ("", "replicationcontrollers"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
];

/// A creator who can reach a stronger service account in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadPath {
    /// The namespace the creator can create workloads in.
    pub namespace: String,
    /// The creator (a subject of the binding).
    pub creator: Subject,
    /// Index of the creator in the binding's `subjects`.
    pub subject_index: usize,
    /// What the creator can create there, e.g. `pods`.
    pub creates: String,
    /// The first stronger service account (name).
    pub service_account: String,
    /// A rule that account holds and the creator does not.
    pub witness: RuleRef,
    /// How many accounts of the namespace are stronger than the creator.
    pub stronger: usize,
}

/// Every workload-creation path, by binding index.
#[derive(Debug, Default)]
pub struct WorkloadPaths {
    by_binding: HashMap<usize, Vec<WorkloadPath>>,
}

impl RbacGraph {
    /// The paths to stronger service accounts that binding `binding` opens
    /// (computed for all bindings on first use).
    pub fn workload_paths(&self, binding: usize) -> &[WorkloadPath] {
        self.workload
            .get_or_init(|| compute(self))
            .by_binding
            .get(&binding)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The service accounts of each namespace: ServiceAccount objects,
    /// accounts named by bindings, and every namespace's `default`. Names
    /// Kubernetes would reject (a namespace that is not a DNS-1123 label, an
    /// account that is not a DNS-1123 subdomain, such as an unrendered
    /// `${NAMESPACE:-default}`) are left out: such accounts never exist.
    pub fn accounts_by_namespace(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (ns, name) in self.service_accounts.keys() {
            out.entry(ns.clone()).or_default().insert(name.clone());
        }
        for s in self.subjects() {
            if let Subject::ServiceAccount { namespace, name } = s {
                out.entry(namespace.clone())
                    .or_default()
                    .insert(name.clone());
            }
        }
        for ns in &self.namespaces {
            out.entry(ns.clone()).or_default();
        }
        out.retain(|ns, _| is_dns1123_label(ns));
        for accounts in out.values_mut() {
            accounts.retain(|n| is_dns1123_subdomain(n));
            accounts.insert("default".into());
        }
        out
    }
}

/// What a role lets its holder create, if any workload.
fn creates(g: &RbacGraph, role: usize) -> Option<&'static str> {
    WORKLOAD_RESOURCES.iter().find_map(|(group, res)| {
        let req = Request::resource("create", group, res, "", "");
        g.roles[role]
            .effective
            .iter()
            .any(|r| rule_allows(g.rule(*r), &req))
            .then_some(*res)
    })
}

/// Rules held, with the namespace each is limited to (`None`: cluster-wide).
type ScopedRules<'g> = Vec<(RuleRef, Option<&'g str>)>;

/// A map with a fast, non-cryptographic hasher (the keys are the graph's
/// own indices and names, not attacker-chosen in bulk).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A creator's grants, which (rule, scope) they cover, and the first rule
/// of each account grant list they lack (memoised per list).
struct Creator<'g> {
    grants: ScopedRules<'g>,
    memo: FastMap<(RuleRef, Option<&'g str>), bool>,
    witness: Vec<Option<Option<RuleRef>>>,
}

impl<'g> Creator<'g> {
    fn new(g: &'g RbacGraph, subject: &Subject, lists: usize) -> Self {
        let grants = g
            .grants_of(&Identity::of(subject), Scope::Any)
            .into_iter()
            .map(|gr| (gr.rule, g.bindings[gr.binding].scope()))
            .collect();
        Creator {
            grants,
            memo: FastMap::default(),
            witness: vec![None; lists],
        }
    }

    fn holds(&mut self, g: &RbacGraph, rule: RuleRef, scope: Option<&'g str>) -> bool {
        if let Some(&v) = self.memo.get(&(rule, scope)) {
            return v;
        }
        let owned = self
            .grants
            .iter()
            .filter(|(_, s)| s.is_none() || *s == scope)
            .map(|(r, _)| g.rule(*r));
        let v = covers(owned.collect::<Vec<_>>(), g.rule(rule));
        self.memo.insert((rule, scope), v);
        v
    }

    /// The first rule of account grant list `list` this creator lacks.
    fn lacks(&mut self, g: &RbacGraph, lists: &[ScopedRules<'g>], list: usize) -> Option<RuleRef> {
        if let Some(w) = self.witness[list] {
            return w;
        }
        let w = lists[list]
            .iter()
            .find(|(r, scope)| !self.holds(g, *r, *scope))
            .map(|(r, _)| *r);
        self.witness[list] = Some(w);
        w
    }
}

/// Whether a grant is what Kubernetes gives every account through its
/// implicit groups (`system:basic-user`, `system:discovery`, the service
/// account issuer discovery URLs): no evidence of a stronger account.
fn baseline(g: &RbacGraph, gr: &crate::query::Grant) -> bool {
    g.bindings[gr.binding].builtin
        && matches!(g.grant_subject(gr), Some(Subject::Group(n)) if n.starts_with("system:"))
}

/// Every account's grants as an index into a list of distinct grant lists:
/// most accounts of a namespace hold only what their groups give, so they
/// share one list and each creator checks it once.
struct AccountGrants<'g> {
    lists: Vec<ScopedRules<'g>>,
    of: FastMap<(&'g str, &'g str), usize>,
}

fn account_grants<'g>(
    g: &'g RbacGraph,
    accounts: &'g BTreeMap<String, BTreeSet<String>>,
) -> AccountGrants<'g> {
    let mut out = AccountGrants {
        lists: Vec::new(),
        of: FastMap::default(),
    };
    let mut index: FastMap<ScopedRules<'g>, usize> = FastMap::default();
    for (ns, names) in accounts {
        for name in names {
            let id = Identity::of(&Subject::ServiceAccount {
                namespace: ns.clone(),
                name: name.clone(),
            });
            let grants: ScopedRules<'g> = g
                .grants_of(&id, Scope::Any)
                .into_iter()
                .filter(|gr| !baseline(g, gr))
                .map(|gr| (gr.rule, g.bindings[gr.binding].scope()))
                .collect();
            let next = out.lists.len();
            let li = *index.entry(grants.clone()).or_insert(next);
            if li == next {
                out.lists.push(grants);
            }
            out.of.insert((ns.as_str(), name.as_str()), li);
        }
    }
    out
}

fn compute(g: &RbacGraph) -> WorkloadPaths {
    let accounts = g.accounts_by_namespace();
    let ag = account_grants(g, &accounts);
    let mut role_creates: FastMap<usize, Option<&'static str>> = FastMap::default();
    let mut creators: FastMap<&Subject, Creator<'_>> = FastMap::default();
    let mut out = WorkloadPaths::default();
    for (bi, b) in g.bindings.iter().enumerate() {
        let Some(role) = b.role else { continue };
        let Some(what) = *role_creates.entry(role).or_insert_with(|| creates(g, role)) else {
            continue;
        };
        let namespaces: Vec<&str> = match b.scope() {
            Some(ns) => vec![ns],
            None => accounts.keys().map(String::as_str).collect(),
        };
        for s in &b.subjects {
            let creator = creators
                .entry(&s.subject)
                .or_insert_with(|| Creator::new(g, &s.subject, ag.lists.len()));
            for ns in &namespaces {
                let mut first: Option<(String, RuleRef)> = None;
                let mut stronger = 0;
                for name in accounts.get(*ns).into_iter().flatten() {
                    let me = matches!(&s.subject, Subject::ServiceAccount { namespace, name: n } if namespace == ns && n == name);
                    if me {
                        continue;
                    }
                    let Some(&li) = ag.of.get(&(*ns, name.as_str())) else {
                        continue;
                    };
                    if let Some(r) = creator.lacks(g, &ag.lists, li) {
                        stronger += 1;
                        first.get_or_insert((name.clone(), r));
                    }
                }
                if let Some((service_account, witness)) = first {
                    out.by_binding.entry(bi).or_default().push(WorkloadPath {
                        namespace: ns.to_string(),
                        creator: s.subject.clone(),
                        subject_index: s.index,
                        creates: what.to_string(),
                        service_account,
                        witness,
                        stronger,
                    });
                }
            }
        }
    }
    out
}
