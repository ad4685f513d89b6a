//! CEL policies: Kubernetes ValidatingAdmissionPolicies and their bindings,
//! and the CEL engine of Gatekeeper templates.

pub mod budget;
pub mod check;
pub mod convert;
pub mod env;
pub mod lib;
pub mod resources;
pub mod rule;
pub mod validator;
pub mod vap;

pub use rule::{VapRule, Verdict};
pub use vap::{Binding, Policy};
