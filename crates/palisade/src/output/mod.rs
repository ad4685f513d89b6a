//! Output formats shared by every command that reports findings: a table
//! for terminals, JSON, SARIF 2.1.0 and JUnit XML.
//!
//! Commands build a [`Report`] and call [`write`].

mod json;
mod junit;
pub mod listing;
mod sarif;
mod table;

use crate::report::Report;
use std::io::Write;

pub use json::{to_json, JsonReport};
pub use sarif::to_sarif;

/// An output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for terminals.
    #[default]
    Table,
    /// JSON (`{"findings", "errors", "suppressed", "summary"}`, see README).
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// JUnit XML (CI test reports).
    Junit,
}

/// How to render the table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colours (only when writing to a terminal).
    pub color: bool,
    /// Wrap the table to this many columns (a terminal's width).
    pub width: Option<u16>,
}

/// Writes `report` in `format` to `out`.
pub fn write(
    format: Format,
    report: &Report,
    style: &Style,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match format {
        Format::Table => table::write(report, style, out)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &to_json(report))?;
            writeln!(out)?;
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &to_sarif(report))?;
            writeln!(out)?;
        }
        Format::Junit => junit::write(report, out)?,
    }
    out.flush()?;
    Ok(())
}
