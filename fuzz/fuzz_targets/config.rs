//! The configuration loader (palisade.yaml) and the sections read from it:
//! webhook settings and image policies.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::config(data));
