//! Questions to the graph: what an identity can do (its grants), who can do
//! something (every subject and the binding and role chain), and whether a
//! request is allowed.

use crate::graph::RbacGraph;
use crate::matching::{rule_allows, Request, Target};
use crate::model::{PolicyRule, RuleRef, Subject};
use crate::resources::is_cluster_scoped;

/// Group of every authenticated user.
pub const AUTHENTICATED: &str = "system:authenticated";
/// Group of anonymous requests.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// User name of anonymous requests.
pub const ANONYMOUS: &str = "system:anonymous";
/// Group of every service account.
pub const SERVICE_ACCOUNTS: &str = "system:serviceaccounts";

/// Who asks: a user or service account and the groups the authenticator
/// gives it, including the implicit ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user or service account (`None` for a bare group).
    pub user: Option<Subject>,
    /// Its groups.
    pub groups: Vec<String>,
}

impl Identity {
    /// The identity of `subject` with its implicit groups:
    /// - a user gets `system:authenticated` (`system:anonymous` gets
    ///   `system:unauthenticated` instead); its other groups come from the
    ///   identity provider and are not known here;
    /// - a service account `NS/NAME` is user `system:serviceaccount:NS:NAME` in
    ///   `system:serviceaccounts`, `system:serviceaccounts:NS` and `system:authenticated`;
    /// - a group stands for any member: the group and `system:authenticated`
    ///   (except `system:unauthenticated`, whose members are anonymous).
    pub fn of(subject: &Subject) -> Identity {
        match subject {
            Subject::User(name) if name == ANONYMOUS => Identity {
                user: Some(subject.clone()),
                groups: vec![UNAUTHENTICATED.into()],
            },
            Subject::User(_) => Identity {
                user: Some(subject.clone()),
                groups: vec![AUTHENTICATED.into()],
            },
            Subject::ServiceAccount { namespace, .. } => Identity {
                user: Some(subject.clone()),
                groups: vec![
                    SERVICE_ACCOUNTS.into(),
                    format!("{SERVICE_ACCOUNTS}:{namespace}"),
                    AUTHENTICATED.into(),
                ],
            },
            Subject::Group(g) if g == UNAUTHENTICATED => Identity {
                user: None,
                groups: vec![g.clone()],
            },
            Subject::Group(g) => {
                let mut groups = vec![g.clone()];
                if g != AUTHENTICATED {
                    groups.push(AUTHENTICATED.into());
                }
                Identity { user: None, groups }
            }
        }
    }

    /// The binding subjects that apply to this identity.
    pub fn subjects(&self) -> Vec<Subject> {
        self.user
            .iter()
            .cloned()
            .chain(self.groups.iter().map(|g| Subject::Group(g.clone())))
            .collect()
    }
}

/// Where a request is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Cluster-wide (cluster-scoped objects, or all namespaces at once):
    /// only ClusterRoleBindings grant it.
    Cluster,
    /// In one namespace: ClusterRoleBindings and that namespace's RoleBindings.
    Namespace(&'a str),
    /// In some namespace: any binding (the grant's scope says where).
    Any,
}

impl Scope<'_> {
    /// Whether a binding limited to `binding_scope` (`None`: cluster-wide) applies.
    pub fn admits(&self, binding_scope: Option<&str>) -> bool {
        match (self, binding_scope) {
            (_, None) | (Scope::Any, _) => true,
            (Scope::Cluster, Some(_)) => false,
            (Scope::Namespace(ns), Some(b)) => *ns == b,
        }
    }
}

/// Where a request is really made, as the API server sees it: non-resource
/// URLs and cluster-scoped resources carry no namespace (so only
/// ClusterRoleBindings grant them, whatever namespace was asked), and a
/// request for namespace `N` itself (`get namespaces N`) is made in `N`.
pub fn effective_scope<'a>(req: &'a Request, asked: Scope<'a>) -> Scope<'a> {
    match &req.target {
        Target::NonResource { .. } => Scope::Cluster,
        Target::Resource {
            group,
            resource,
            name,
            ..
        } => {
            if group.is_empty() && resource == "namespaces" && !name.is_empty() {
                Scope::Namespace(name)
            } else if is_cluster_scoped(group, resource) {
                Scope::Cluster
            } else {
                asked
            }
        }
    }
}

/// One permission held through one binding: the chain subject -> binding ->
/// role -> rule (the rule's role differs from `role` when aggregated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Index of the binding.
    pub binding: usize,
    /// Index of the subject in the binding's `subjects`.
    pub subject: usize,
    /// Index of the bound role.
    pub role: usize,
    /// The rule entry.
    pub rule: RuleRef,
}

impl RbacGraph {
    /// The rule entry `r`.
    pub fn rule(&self, r: RuleRef) -> &PolicyRule {
        &self.roles[r.role].rules[r.index]
    }

    /// The subject a grant is held through.
    pub fn grant_subject(&self, g: &Grant) -> Option<&Subject> {
        self.bindings[g.binding]
            .subjects
            .iter()
            .find(|s| s.index == g.subject)
            .map(|s| &s.subject)
    }

    /// Every grant of `id` in `scope`.
    pub fn grants_of(&self, id: &Identity, scope: Scope<'_>) -> Vec<Grant> {
        let mut out = Vec::new();
        for subject in id.subjects() {
            for &(bi, si) in self.bindings_naming(&subject) {
                let b = &self.bindings[bi];
                let Some(role) = b.role else { continue };
                if !scope.admits(b.scope()) {
                    continue;
                }
                for &rule in &self.roles[role].effective {
                    out.push(Grant {
                        binding: bi,
                        subject: si,
                        role,
                        rule,
                    });
                }
            }
        }
        out
    }

    /// Whether `id` may make `req` in `scope` (see [`effective_scope`]).
    pub fn allows(&self, id: &Identity, req: &Request, scope: Scope<'_>) -> bool {
        self.grants_of(id, effective_scope(req, scope))
            .iter()
            .any(|g| rule_allows(self.rule(g.rule), req))
    }

    /// Every grant, to any subject, that allows `req` in `scope` (see
    /// [`effective_scope`]); one per binding subject, with the first
    /// matching rule of the role.
    pub fn who_can(&self, req: &Request, scope: Scope<'_>) -> Vec<Grant> {
        let scope = effective_scope(req, scope);
        let mut out = Vec::new();
        for (bi, b) in self.bindings.iter().enumerate() {
            let Some(role) = b.role else { continue };
            if !scope.admits(b.scope()) {
                continue;
            }
            let Some(&rule) = self.roles[role]
                .effective
                .iter()
                .find(|r| rule_allows(self.rule(**r), req))
            else {
                continue;
            };
            for s in &b.subjects {
                out.push(Grant {
                    binding: bi,
                    subject: s.index,
                    role,
                    rule,
                });
            }
        }
        out
    }
}

impl RbacGraph {
    /// The chain of a grant as one line:
    /// `user:alice <- RoleBinding/read (shop) -> ClusterRole/view [via ClusterRole/system:aggregate-to-view rules[2]]`.
    pub fn chain(&self, g: &Grant) -> String {
        let b = &self.bindings[g.binding];
        let subject = self
            .grant_subject(g)
            .map(ToString::to_string)
            .unwrap_or_else(|| "?".into());
        let mut s = format!("{subject} <- {} -> {}", b.label(), self.roles[g.role].key);
        if g.rule.role != g.role {
            s.push_str(&format!(
                " [via {} rules[{}]]",
                self.roles[g.rule.role].key, g.rule.index
            ));
        }
        s
    }
}
