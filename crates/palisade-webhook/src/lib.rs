//! Palisade's admission webhook: an HTTPS server the Kubernetes API server
//! calls with `admission.k8s.io/v1` AdmissionReviews.
//!
//! - `/validate` evaluates the object with the same [`palisade_core::PolicySet`]
//!   as `palisade scan`: enforced findings deny (403), warned ones become
//!   `warnings`, audited ones `auditAnnotations`.
//! - `/mutate` returns opt-in hardening JSON patches ([`mutate`]) and pins
//!   verified image digests.
//! - With `images:` policies, every container image is verified against
//!   its registry first ([`images`]), within a per-request budget.
//! - `/healthz`, `/readyz`, `/metrics` (Prometheus text).
//! - With `serve --cluster`, namespace labels and RBAC objects come from
//!   watches of the API server ([`cluster`]).
//!
//! The policy set is built by a [`PolicyFactory`] the binary passes in, so
//! this crate knows nothing of rule families. The configuration and TLS
//! files are re-read on change and on SIGHUP ([`reload`]); an invalid new
//! configuration is refused and the old one stays.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod certs;
pub mod cluster;
mod conn;
pub mod content;
pub mod decide;
pub mod engine;
pub mod images;
pub mod metrics;
pub mod mutate;
pub mod namespaces;
pub mod pool;
pub mod reload;
pub mod review;
pub mod server;
pub mod settings;
pub mod tls;

pub use app::{health_router, router, AppState};
pub use engine::{Engine, LoadError, PolicyFactory};
pub use server::{ServeError, ServeOptions, Server};
pub use settings::WebhookSettings;
