//! Palisade's RBAC graph.
//!
//! [`RbacGraph::build`] reads the Roles, ClusterRoles, RoleBindings,
//! ClusterRoleBindings, ServiceAccounts and Namespaces of an inventory,
//! resolves ClusterRole aggregation as the controller does, adds Kubernetes'
//! bootstrap roles and bindings ([`builtin`], shipped per version) where the
//! input does not define them, and indexes bindings by subject. Which
//! resources are cluster-scoped, and the names kubectl accepts for them,
//! come from shipped discovery data ([`discovery`]). It then answers
//! what an [`Identity`] (with its implicit groups) can do, who can make a
//! [`Request`], and which bindings open a path to stronger service-account
//! tokens through workload creation. Matching follows the Kubernetes RBAC
//! authorizer exactly ([`matching`]).
//!
//! The [`Directory`] of current users and groups supports
//! authorization-decay analysis; [`parse::EXPIRES_AT`] and friends are the
//! time-bound membership annotations.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aggregate;
pub mod builtin;
pub mod directory;
pub mod discovery;
pub mod graph;
pub mod matching;
pub mod model;
pub mod parse;
pub mod query;
pub mod resources;
pub mod valid;
pub mod workload;

pub use directory::{Directory, DirectoryError};
pub use graph::{Entry, RbacGraph};
pub use matching::{rule_allows, Request, Target};
pub use model::{Binding, PolicyRule, Problem, RoleDef, RoleKey, RoleKind, RuleRef, Subject};
pub use query::{Grant, Identity, Scope};
pub use workload::WorkloadPath;
