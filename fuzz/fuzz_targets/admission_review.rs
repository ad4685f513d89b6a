//! The webhook's AdmissionReview decoder, with and without the raw object.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::admission_review(data));
