//! One module per command.

pub mod certs;
pub mod policy;
pub mod rbac;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod webhook_config;
pub mod webhook_rules;
