//! The manifest loader: a YAML/JSON stream as kubectl reads it, to resources.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::yaml_stream(data));
