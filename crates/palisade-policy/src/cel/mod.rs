//! CEL policies: Kubernetes ValidatingAdmissionPolicies and their bindings,
//! and the CEL engine of Gatekeeper templates.

pub mod budget;
pub mod check;
pub mod comprehensions;
pub mod convert;
pub mod env;
pub mod lib;
pub mod literals;
pub mod operators;
pub mod re2;
pub mod resources;
pub mod rule;
pub mod signatures;
pub mod types;
pub mod validator;
pub mod vap;
pub mod version;

pub use rule::{VapRule, Verdict};
pub use vap::{Binding, Policy};
pub use version::KubeVersion;

use std::time::Duration;

/// How CEL expressions are compiled and evaluated.
#[derive(Debug, Clone, Copy)]
pub struct CelOptions {
    /// The Kubernetes version whose CEL environment is declared (latest by
    /// default; pin an older one for a cluster that runs it).
    pub version: KubeVersion,
    /// The longest one evaluation may run.
    pub limit: Duration,
    /// The cost limit of one expression ([`budget::PER_CALL_LIMIT`]).
    pub per_call_limit: u64,
    /// The cost budget of one evaluation ([`budget::RUNTIME_BUDGET`]).
    pub budget: u64,
}

impl Default for CelOptions {
    fn default() -> Self {
        CelOptions {
            version: KubeVersion::LATEST,
            limit: Duration::from_secs(1),
            per_call_limit: budget::PER_CALL_LIMIT,
            budget: budget::RUNTIME_BUDGET,
        }
    }
}
