//! Builds the RBAC graph once per evaluation and stores it, with the
//! settings, in the context's extensions for every RBAC rule to read.

use super::settings::RbacSettings;
use super::{BINDING_KINDS, ROLE_KINDS};
use palisade_core::{ContextProvider, Extensions, Inventory, Scope};
use palisade_rbac::RbacGraph;
use std::sync::Arc;

/// What the RBAC rules read from [`Extensions`].
#[derive(Debug)]
pub struct RbacData {
    /// The graph of the inventory.
    pub graph: RbacGraph,
    /// The `rbac` settings.
    pub settings: Arc<RbacSettings>,
}

/// The [`ContextProvider`] of the RBAC rules.
#[derive(Debug, Default)]
pub struct RbacProvider {
    settings: Arc<RbacSettings>,
}

impl RbacProvider {
    /// A provider applying `settings`.
    pub fn new(settings: RbacSettings) -> Self {
        RbacProvider {
            settings: Arc::new(settings),
        }
    }
}

/// What the RBAC graph is built from.
pub(crate) fn graph_scope() -> Scope {
    Scope::kinds(&RbacGraph::KINDS)
}

impl ContextProvider for RbacProvider {
    fn reads(&self) -> Scope {
        graph_scope()
    }

    fn provide(&self, inventory: &Inventory, ext: &mut Extensions) {
        // The RBAC rules check only roles and bindings, each in the graph
        // of its inventory: without one (a pod admitted by the webhook),
        // the graph would go unread and is not built.
        let checked = inventory.iter().any(|r| {
            ROLE_KINDS
                .iter()
                .chain(&BINDING_KINDS)
                .any(|k| palisade_rbac::parse::is_rbac(r, k))
        });
        let graph = if checked {
            RbacGraph::build(inventory)
        } else {
            RbacGraph::default()
        };
        ext.insert(RbacData {
            graph,
            settings: self.settings.clone(),
        });
    }
}
