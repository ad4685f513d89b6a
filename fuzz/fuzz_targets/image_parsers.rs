//! The image signature parsers: references, public keys (PEM), cosign's
//! signature manifests, DSSE envelopes and in-toto statements, and the
//! simple-signing payload check. The first byte picks the parser.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::image_parsers(data));
