//! Palisade's built-in rules, one module per family, and the profiles that
//! select them.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cluster;
pub mod image_content;
pub mod images;
pub mod pss;
pub mod rbac;
pub mod registry;
pub mod workload;

pub use registry::{catalog, profile, profile_names, ProfileError, ProfileOptions};
