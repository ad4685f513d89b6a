//! One module per command.

pub mod audit;
pub mod certs;
pub mod image;
pub mod image_inspect;
pub mod image_pin;
pub mod install;
pub mod policy;
pub mod rbac;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod serve_cluster;
pub mod webhook_config;
pub mod webhook_rules;
