//! User policies for Palisade: Kubernetes ValidatingAdmissionPolicies (CEL)
//! and Gatekeeper ConstraintTemplates with their Constraints (Rego, via
//! regorus, or CEL), compiled once into [`palisade_core::Rule`]s that plug
//! into a [`palisade_core::PolicySet`] beside the built-in rules and produce
//! the same findings.
//!
//! [`load`] turns policy objects into rules; [`load_files`] reads them from
//! files and directories first. [`suite`] runs Gatekeeper's gator suites.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cel;
pub mod error;
mod loader;
pub mod matching;
pub mod rego;

pub use error::{Place, PolicyError};
pub use loader::{load, load_files, load_lenient, LoadOptions, LoadedPolicies};

/// Which language evaluates a Gatekeeper template that has both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyEngine {
    /// Rego, with regorus (the default; Gatekeeper's reference engine).
    #[default]
    Rego,
    /// CEL (`K8sNativeValidation`).
    Cel,
}

impl PolicyEngine {
    /// A description for `palisade explain`.
    pub fn describe(self) -> &'static str {
        match self {
            PolicyEngine::Rego => "Rego (regorus)",
            PolicyEngine::Cel => "CEL (K8sNativeValidation)",
        }
    }
}

pub mod files;
pub mod suite;
