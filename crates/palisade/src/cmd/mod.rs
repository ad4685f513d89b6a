//! One module per command.

pub mod policy;
pub mod rbac;
pub mod rules;
pub mod scan;
