//! Palisade's engine types.
//!
//! A [`Resource`] is one Kubernetes object with its identity and, when it came
//! from a file, the source position of every field. A [`Rule`] checks one
//! resource and reports [`Finding`]s through an [`Emitter`]. A [`PolicySet`] is
//! the compiled set of active rules plus the [`Config`] that tunes them; it is
//! built once and shared read-only by every evaluation. The [`Context`] carries
//! what a rule may need beyond the object (the other objects of the scan,
//! namespace labels, derived data such as the RBAC graph).
//!
//! This crate does no I/O: front doors read bytes and hand them to
//! [`yaml::parse_stream`] or build resources from JSON values.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod context;
pub mod exemption;
pub mod finding;
pub mod image_content;
pub mod images;
pub mod lenient;
mod merge;
pub mod path;
pub mod pod_templates;
pub mod policy_set;
pub mod position;
pub mod positions;
pub mod resource;
pub mod rule;
pub mod scope;
pub mod selector;
pub mod severity;
pub mod value;
pub mod workload;
pub mod yaml;

pub use config::{Config, ConfigError};
pub use context::{Context, Extensions, Inventory, Operation, RequestInfo};
pub use exemption::{IgnoreAnnotation, Trust};
pub use finding::{Action, Finding, Location};
pub use path::{FieldPath, Seg};
pub use pod_templates::PodTemplates;
pub use policy_set::{ContextProvider, Evaluation, PolicySet, PolicySetBuilder, Suppressed};
pub use position::Pos;
pub use positions::Positions;
pub use resource::{Resource, ResourceId, SourceRef};
pub use rule::{Emitter, FindingTexts, Rule, RuleInfo};
pub use scope::{Keep, Scope};
pub use selector::LabelSelector;
pub use severity::Severity;
pub use value::Field;
pub use yaml::{Document, LoadError};
