//! Gatekeeper's gator test suites (`test.gatekeeper.sh/v1alpha1` Suite):
//! per test a template and a constraint, per case an object, optional
//! inventory, and assertions `violations: yes|no|N` with an optional
//! message regex.

mod case;
mod run;

pub use run::{find_suites, run_paths, run_suite, AssertionResult, Report, Summary};
