//! Gatekeeper ConstraintTemplates and Constraints, evaluated with regorus
//! (or with CEL for templates that carry `K8sNativeValidation` code).

pub mod constraint;
pub mod program;
pub mod review;
pub mod rule;
pub mod template;

pub use constraint::Constraint;
pub use program::{RegoProgram, Violation};
pub use review::{RegoInventory, RegoInventoryProvider};
pub use rule::ConstraintRule;
pub use template::Template;
