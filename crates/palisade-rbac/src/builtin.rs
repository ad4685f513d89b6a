//! Kubernetes' default ClusterRoles `cluster-admin`, `admin`, `edit` and
//! `view`, shipped as data and added to the graph when a binding refers to
//! one that is not in the input. `admin`, `edit` and `view` are aggregated
//! roles, as in a cluster: their rules come from the `system:aggregate-to-*`
//! roles shipped with them and from any input ClusterRole carrying the
//! aggregation labels.

use palisade_core::yaml::parse_stream;
use palisade_core::Resource;
use std::sync::Arc;

/// The names of the default roles Palisade knows.
pub const NAMES: [&str; 4] = ["cluster-admin", "admin", "edit", "view"];

/// What a default role grants, in words (for summaries).
pub fn describe(name: &str) -> Option<&'static str> {
    Some(match name {
        "cluster-admin" => "every verb on every resource and non-resource URL",
        "admin" => {
            "read and write of most namespaced objects, Secrets, exec, roles and rolebindings"
        }
        "edit" => {
            "read and write of most namespaced objects, Secrets and exec; no roles or bindings"
        }
        "view" => "read of most namespaced objects; no Secrets",
        _ => return None,
    })
}

fn source(name: &str) -> Option<&'static str> {
    Some(match name {
        "cluster-admin" => include_str!("../builtin/cluster-admin.yaml"),
        "admin" => include_str!("../builtin/admin.yaml"),
        "edit" => include_str!("../builtin/edit.yaml"),
        "view" => include_str!("../builtin/view.yaml"),
        _ => return None,
    })
}

/// The default roles a reference to `name` brings in: the role, its
/// `system:aggregate-to-*` part, and the default roles it aggregates
/// (`admin` aggregates `edit`, which aggregates `view`).
pub fn roles_for(name: &str) -> Vec<Arc<Resource>> {
    let chain: &[&str] = match name {
        "admin" => &["admin", "edit", "view"],
        "edit" => &["edit", "view"],
        "view" => &["view"],
        "cluster-admin" => &["cluster-admin"],
        _ => &[],
    };
    chain.iter().flat_map(|n| parse(n)).collect()
}

fn parse(name: &str) -> Vec<Arc<Resource>> {
    let Some(text) = source(name) else {
        return Vec::new();
    };
    let file: Arc<str> = Arc::from(format!("builtin:{name}.yaml"));
    parse_stream(text)
        .into_iter()
        .flatten()
        .flat_map(|doc| Resource::from_document(doc, &file))
        .map(Arc::new)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses() {
        for name in NAMES {
            let roles = roles_for(name);
            assert!(roles.iter().any(|r| r.id.name == name), "{name}");
            assert!(roles.iter().all(|r| r.id.kind == "ClusterRole"));
        }
        assert_eq!(roles_for("admin").len(), 6);
        assert!(roles_for("system:node").is_empty());
    }
}
