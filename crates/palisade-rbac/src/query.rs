//! Questions to the graph: what an identity can do (its grants), who can do
//! something (every subject and the binding and role chain), and whether a
//! request is allowed.

use crate::discovery;
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
    ///   (except `system:unauthenticated`, whose members are anonymous);
    ///   members of `system:serviceaccounts:NS` are also in
    ///   `system:serviceaccounts`.
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
                // every member of system:serviceaccounts:NS is a service
                // account, so also in system:serviceaccounts
                if g.starts_with(&format!("{SERVICE_ACCOUNTS}:")) {
                    groups.push(SERVICE_ACCOUNTS.into());
                }
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
/// URLs and cluster-scoped resources (from the shipped discovery data)
/// carry no namespace, so only ClusterRoleBindings grant them, whatever
/// namespace was asked. A request for one namespace object (`get
/// namespaces N`, or `-n N` with a verb on one object) is made in `N`
/// itself, as the API server's request info puts it.
pub fn effective_scope<'a>(req: &'a Request, asked: Scope<'a>) -> Scope<'a> {
    match &req.target {
        Target::NonResource { .. } => Scope::Cluster,
        Target::Resource {
            group,
            resource,
            subresource,
            name,
        } => {
            if group.is_empty() && resource == "namespaces" {
                if !name.is_empty() {
                    return Scope::Namespace(name);
                }
                return match asked {
                    Scope::Namespace(_) if names_one_object(&req.verb, subresource) => asked,
                    Scope::Any => Scope::Any,
                    _ => Scope::Cluster,
                };
            }
            if is_cluster_scoped(group, resource) {
                Scope::Cluster
            } else {
                asked
            }
        }
    }
}

/// Whether `verb` acts on one named object (not list, watch, create or
/// deletecollection, which address the collection).
fn names_one_object(verb: &str, subresource: &str) -> bool {
    !subresource.is_empty() || !matches!(verb, "list" | "watch" | "create" | "deletecollection")
}

/// The request as asked in `scope`: `-n N` for a verb on namespaces that
/// names one object asks about namespace `N` itself (kubectl's `get
/// namespace N`), so a rule with `resourceNames` sees the name.
pub fn with_scope_name(req: &Request, asked: Scope<'_>) -> Request {
    match (&req.target, asked) {
        (
            Target::Resource {
                group,
                resource,
                subresource,
                name,
            },
            Scope::Namespace(ns),
        ) if group.is_empty()
            && resource == "namespaces"
            && name.is_empty()
            && names_one_object(&req.verb, subresource) =>
        {
            Request::resource(&req.verb, "", "namespaces", subresource, ns)
        }
        _ => req.clone(),
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
        let req = with_scope_name(req, scope);
        self.grants_of(id, effective_scope(&req, scope))
            .iter()
            .any(|g| rule_allows(self.rule(g.rule), &req))
    }

    /// Every grant, to any subject, that allows `req` in `scope` (see
    /// [`effective_scope`]); one per binding subject, with the first
    /// matching rule of the role.
    pub fn who_can(&self, req: &Request, scope: Scope<'_>) -> Vec<Grant> {
        let req = &with_scope_name(req, scope);
        let scope = effective_scope(req, scope);
        let mut out = Vec::new();
        for (bi, b) in self.bindings.iter().enumerate() {
            if b.superseded_by.is_some() {
                continue;
            }
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

impl RbacGraph {
    /// Whether the rule of grant `g` can ever allow a request in the scope
    /// of its binding: a non-resource URL or a cluster-scoped resource only
    /// through a ClusterRoleBinding (a namespace object also in its own
    /// namespace), never a resource that does not exist (`pods/*`: no
    /// subresource is called `*`), never with no verbs.
    pub fn grant_applies(&self, g: &Grant) -> bool {
        let rule = self.rule(g.rule);
        if rule.verbs.is_empty() {
            return false;
        }
        let namespaced = self.bindings[g.binding].scope().is_some();
        let urls = !rule.non_resource_urls.is_empty() && !namespaced;
        urls || rule.api_groups.iter().any(|group| {
            rule.resources
                .iter()
                .any(|res| resource_applies(group, res, namespaced))
        })
    }
}

fn resource_applies(group: &str, res: &str, namespaced: bool) -> bool {
    if group == "*" || res == "*" || res.starts_with("*/") {
        return true;
    }
    let base = res.split('/').next().unwrap_or(res);
    if discovery::find(group, base).is_some() && !discovery::exists(group, res) {
        return false;
    }
    if res.ends_with("/*") {
        return false;
    }
    !(namespaced && is_cluster_scoped(group, res) && !(group.is_empty() && base == "namespaces"))
}
