//! The pieces of the `palisade` binary that every command shares: reading
//! manifests ([`input`]), building the engine from flags and configuration
//! ([`engine`]), the result of a run ([`report`]) and the output formats
//! ([`output`]).
//!
//! Commands live in the binary (`src/cmd/`); they reach these modules as
//! `crate::input`, `crate::output`, ... because `main.rs` re-imports them.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod engine;
pub mod input;
pub mod output;
pub mod report;
