//! The RBAC objects as the graph holds them: policy rules, subjects, role
//! references, roles and bindings, read from [`Resource`]s.

use palisade_core::{Field, FieldPath, LabelSelector, Resource};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// The API group of RBAC objects.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One entry of a role's `rules`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRule {
    /// `verbs`.
    pub verbs: Vec<String>,
    /// `apiGroups`.
    pub api_groups: Vec<String>,
    /// `resources` (may hold `resource/subresource` and `*/subresource`).
    pub resources: Vec<String>,
    /// `resourceNames` (empty: any name).
    pub resource_names: Vec<String>,
    /// `nonResourceURLs`.
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// Reads a rule from JSON; fields that are not lists of strings are
    /// reported as `(field, message)`.
    pub fn from_value(v: &Value) -> (PolicyRule, Vec<(&'static str, String)>) {
        let mut bad = Vec::new();
        let mut list = |key: &'static str| -> Vec<String> {
            match v.field(key) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|i| match i.as_str() {
                        Some(s) => Some(s.to_string()),
                        None => {
                            bad.push((key, format!("`{key}` entries must be strings, found {i}")));
                            None
                        }
                    })
                    .collect(),
                Some(other) => {
                    bad.push((
                        key,
                        format!("`{key}` must be a list of strings, found {other}"),
                    ));
                    Vec::new()
                }
            }
        };
        let rule = PolicyRule {
            verbs: list("verbs"),
            api_groups: list("apiGroups"),
            resources: list("resources"),
            resource_names: list("resourceNames"),
            non_resource_urls: list("nonResourceURLs"),
        };
        (rule, bad)
    }
}

impl fmt::Display for PolicyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verbs = self.verbs.join(",");
        if !self.non_resource_urls.is_empty() {
            return write!(f, "{verbs} {}", self.non_resource_urls.join(","));
        }
        let groups: Vec<&str> = self
            .api_groups
            .iter()
            .map(|g| if g.is_empty() { "core" } else { g.as_str() })
            .collect();
        write!(
            f,
            "{verbs} {} [{}]",
            self.resources.join(","),
            groups.join(",")
        )?;
        if !self.resource_names.is_empty() {
            write!(f, " names={}", self.resource_names.join(","))?;
        }
        Ok(())
    }
}

/// Who a binding grants to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// A user name (an individual, or a component such as `system:kube-proxy`).
    User(String),
    /// A group name.
    Group(String),
    /// A service account.
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

/// Prefix of the user names of service accounts.
pub const SA_USER_PREFIX: &str = "system:serviceaccount:";

impl Subject {
    /// The subject a user name stands for: `system:serviceaccount:NS:NAME`
    /// is that service account, as the authorizer treats it.
    pub fn user(name: &str) -> Subject {
        if let Some((ns, sa)) = name
            .strip_prefix(SA_USER_PREFIX)
            .and_then(|r| r.split_once(':'))
        {
            if !ns.is_empty() && !sa.is_empty() && !sa.contains(':') {
                return Subject::ServiceAccount {
                    namespace: ns.to_string(),
                    name: sa.to_string(),
                };
            }
        }
        Subject::User(name.to_string())
    }

    /// The kind as written in a binding (`User`, `Group`, `ServiceAccount`).
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::User(_) => "User",
            Subject::Group(_) => "Group",
            Subject::ServiceAccount { .. } => "ServiceAccount",
        }
    }

    /// The name (for a service account, without its namespace).
    pub fn name(&self) -> &str {
        match self {
            Subject::User(n) | Subject::Group(n) => n,
            Subject::ServiceAccount { name, .. } => name,
        }
    }

    /// Parses the command-line form `user:NAME`, `group:NAME` or `sa:NS/NAME`.
    pub fn parse_cli(text: &str) -> Result<Subject, String> {
        let (kind, rest) = text.split_once(':').ok_or_else(|| {
            format!("`{text}`: expected user:NAME, group:NAME or sa:NAMESPACE/NAME")
        })?;
        if rest.is_empty() {
            return Err(format!("`{text}`: the name is empty"));
        }
        match kind {
            "user" | "User" => Ok(Subject::user(rest)),
            "group" | "Group" => Ok(Subject::Group(rest.to_string())),
            "sa" | "serviceaccount" | "ServiceAccount" => match rest.split_once('/') {
                Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
                    Ok(Subject::ServiceAccount {
                        namespace: ns.to_string(),
                        name: name.to_string(),
                    })
                }
                _ => Err(format!("`{text}`: a service account is sa:NAMESPACE/NAME")),
            },
            other => Err(format!(
                "`{text}`: unknown subject kind `{other}` (expected user, group or sa)"
            )),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User(n) => write!(f, "user:{n}"),
            Subject::Group(n) => write!(f, "group:{n}"),
            Subject::ServiceAccount { namespace, name } => write!(f, "sa:{namespace}/{name}"),
        }
    }
}

/// Whether a role is namespaced or cluster-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleKind {
    /// A `Role` (namespaced).
    Role,
    /// A `ClusterRole`.
    ClusterRole,
}

impl RoleKind {
    /// The Kubernetes kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Role => "Role",
            RoleKind::ClusterRole => "ClusterRole",
        }
    }
}

/// The identity of a role: kind, namespace (Roles only) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleKey {
    /// Role or ClusterRole.
    pub kind: RoleKind,
    /// The namespace of a Role.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl fmt::Display for RoleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{} ({ns})", self.kind.as_str(), self.name),
            None => write!(f, "{}/{}", self.kind.as_str(), self.name),
        }
    }
}

/// Where a rule entry is: the role that defines it and its index in `rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleRef {
    /// Index of the defining role in [`crate::RbacGraph::roles`].
    pub role: usize,
    /// Index in that role's `rules`.
    pub index: usize,
}

/// A Role or ClusterRole.
#[derive(Debug, Clone)]
pub struct RoleDef {
    /// Kind, namespace and name.
    pub key: RoleKey,
    /// Its own `rules`.
    pub rules: Vec<PolicyRule>,
    /// `aggregationRule.clusterRoleSelectors`, when it aggregates.
    pub aggregation: Option<Vec<LabelSelector>>,
    /// Every rule it grants (its own, then the aggregated ones), after aggregation.
    pub effective: Vec<RuleRef>,
    /// The roles it aggregates from (indices), after aggregation.
    pub aggregated_from: Vec<usize>,
    /// Whether this is a Kubernetes default role shipped with Palisade (not in the input).
    pub builtin: bool,
    /// The later copy of the same identity that the cluster holds instead
    /// (index into the graph's roles); `None` for the copy that counts.
    pub superseded_by: Option<usize>,
    /// The object.
    pub resource: Arc<Resource>,
}

/// A binding's `roleRef`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRefSpec {
    /// `roleRef.kind` as written.
    pub kind: String,
    /// `roleRef.name`.
    pub name: String,
}

/// One subject of a binding, with its place.
#[derive(Debug, Clone)]
pub struct BindingSubject {
    /// The subject.
    pub subject: Subject,
    /// Index in `subjects`.
    pub index: usize,
}

/// The time-bound membership annotations of a binding.
#[derive(Debug, Clone, Default)]
pub struct Membership {
    /// `palisade.io/expires-at`: the time, or the text that did not parse.
    pub expires_at: Option<Result<jiff::Timestamp, String>>,
    /// `palisade.io/owner`.
    pub owner: Option<String>,
    /// `palisade.io/reason`.
    pub reason: Option<String>,
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone)]
pub struct Binding {
    /// `RoleBinding` or `ClusterRoleBinding`.
    pub cluster: bool,
    /// The namespace of a RoleBinding.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
    /// The `roleRef`, when readable.
    pub role_ref: Option<RoleRefSpec>,
    /// The role it grants (index into the graph's roles), when it exists.
    pub role: Option<usize>,
    /// The readable subjects.
    pub subjects: Vec<BindingSubject>,
    /// Expiry, owner and reason.
    pub membership: Membership,
    /// Whether this is a Kubernetes default binding shipped with Palisade (not in the input).
    pub builtin: bool,
    /// The later copy of the same identity that the cluster holds instead
    /// (index into the graph's bindings); `None` for the copy that counts.
    pub superseded_by: Option<usize>,
    /// The object.
    pub resource: Arc<Resource>,
}

impl Binding {
    /// The namespace its grants are limited to (`None`: cluster-wide).
    pub fn scope(&self) -> Option<&str> {
        if self.cluster {
            None
        } else {
            self.namespace.as_deref()
        }
    }

    /// `RoleBinding/NAME (NS)` or `ClusterRoleBinding/NAME`.
    pub fn label(&self) -> String {
        self.resource.id.to_string()
    }
}

/// Input the graph could not use, with the object and field it is about.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The object.
    pub resource: Arc<Resource>,
    /// The field.
    pub path: FieldPath,
    /// What is wrong.
    pub message: String,
}
