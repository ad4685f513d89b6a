//! The CEL policy loader: the input is a ValidatingAdmissionPolicy's
//! validation expression (with a binding), compiled as `scan` and `serve` do.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::cel_policy(data));
