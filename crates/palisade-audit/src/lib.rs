//! Palisade's auditor: what a cluster snapshot holds beyond its objects
//! (the server version), and the reports an audit writes (PolicyReport or
//! OpenReports objects, one per namespace, and a self-contained HTML page).
//!
//! The front door (`palisade audit`) reads the snapshot with the same loader
//! as `scan`, evaluates it with the same [`palisade_core::PolicySet`], and
//! hands the findings to [`policy_report`] or [`html`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod html;
pub mod live;
pub mod policy_report;
pub mod snapshot;

pub use policy_report::{ReportApi, ReportOptions};
pub use snapshot::{cluster_version, SnapshotError};
