//! One module per command.

pub mod rbac;
pub mod rules;
pub mod scan;
