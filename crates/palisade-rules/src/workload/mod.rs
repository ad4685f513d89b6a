//! Pod and workload hardening rules.

use palisade_core::Rule;
use std::sync::Arc;

/// Every rule of the family.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    Vec::new()
}
