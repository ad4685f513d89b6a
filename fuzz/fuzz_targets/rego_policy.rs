//! The Rego policy loader: the input is a Gatekeeper ConstraintTemplate's
//! Rego module (with a constraint), compiled as `scan` and `serve` do.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::rego_policy(data));
