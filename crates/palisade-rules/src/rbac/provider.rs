//! Builds the RBAC graph once per evaluation and stores it, with the
//! settings, in the context's extensions for every RBAC rule to read.

use super::settings::RbacSettings;
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
        ext.insert(RbacData {
            graph: RbacGraph::build(inventory),
            settings: self.settings.clone(),
        });
    }
}
