//! One module per command.

pub mod rules;
