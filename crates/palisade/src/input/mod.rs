//! Reading manifests: files, directories and stdin, parsed into resources.
//!
//! Inputs are read as kubectl reads them: multi-document YAML or JSON, `List`
//! kinds expanded into their items. What happens to each document:
//!
//! - a Kubernetes object (it has `apiVersion` and `kind`): scanned;
//! - an empty document (`---` with nothing after it, or `null`): counted in
//!   [`LoadStats::empty`], not an error (Helm output is full of them);
//! - any other value (a mapping without `apiVersion`/`kind`, a scalar, a
//!   list), or a `List` item without them: counted in [`LoadStats::skipped`];
//! - a syntax error, a duplicate key, invalid UTF-8, an unreadable file or a
//!   file with no YAML document at all (0 bytes, only blanks or comments): an
//!   [`InputError`]; the documents before a syntax error in the same file and
//!   every other file are still scanned.
//!
//! Files are read and parsed in parallel; results keep the order of the
//! inputs (command-line order, then file-name order inside a directory, then
//! document order). With [`load_keep`], an object is built only as far as
//! the policies read its kind (`PolicySet::keep`): the other top-level
//! fields of a metadata-only kind are parsed (errors are reported the same)
//! but not built.

mod discover;
mod parse;

pub use discover::{discover, Source};
pub use parse::{parse_text, parse_text_keep};

use palisade_core::{Keep, Resource};
use rayon::prelude::*;
use serde::Serialize;
use std::io::Read;
use std::sync::Arc;

/// A file that could not be read or parsed, with the place of the problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    /// The file as the user named it (`-` for stdin).
    pub file: Arc<str>,
    /// Line of the problem, from 1, when known.
    pub line: Option<u32>,
    /// Column of the problem, from 1, when known.
    pub column: Option<u32>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl InputError {
    /// An error about the whole file (no position).
    pub fn file(file: Arc<str>, message: impl Into<String>) -> Self {
        InputError {
            file,
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// Counts of what was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LoadStats {
    /// Files (and stdin) read.
    pub files: usize,
    /// YAML/JSON documents parsed, including empty ones.
    pub documents: usize,
    /// Empty (null) documents.
    pub empty: usize,
    /// Documents or `List` items that are not Kubernetes objects.
    pub skipped: usize,
}

impl LoadStats {
    fn add(&mut self, other: &LoadStats) {
        self.files += other.files;
        self.documents += other.documents;
        self.empty += other.empty;
        self.skipped += other.skipped;
    }
}

/// What one file gave.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The objects, in document order.
    pub resources: Vec<Resource>,
    /// Problems, in document order.
    pub errors: Vec<InputError>,
    /// Counts.
    pub stats: LoadStats,
}

/// Everything read from the inputs, in input order.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The objects (with their flat positions).
    pub resources: Vec<Arc<Resource>>,
    /// Problems with the inputs.
    pub errors: Vec<InputError>,
    /// Counts.
    pub stats: LoadStats,
}

/// Reads and parses every source in parallel, building every object whole.
/// `progress` is called once per source read (from any thread).
pub fn load(sources: &[Source], progress: &(dyn Fn() + Sync)) -> Loaded {
    load_keep(sources, &|_| Keep::Whole, progress)
}

/// [`load`], building of each object only what `keep` says its kind needs
/// (`PolicySet::keep`).
pub fn load_keep(
    sources: &[Source],
    keep: &(dyn Fn(&str) -> Keep + Sync),
    progress: &(dyn Fn() + Sync),
) -> Loaded {
    let parsed: Vec<Parsed> = sources
        .par_iter()
        .map(|src| {
            let out = read_source(src, keep);
            progress();
            out
        })
        .collect();
    let mut loaded = Loaded::default();
    let total: usize = parsed.iter().map(|p| p.resources.len()).sum();
    loaded.resources.reserve_exact(total);
    for p in parsed {
        loaded.stats.add(&p.stats);
        loaded.errors.extend(p.errors);
        loaded
            .resources
            .extend(p.resources.into_iter().map(Arc::new));
    }
    loaded
}

/// Reads every source in parallel and only runs the YAML parser over it
/// (nothing is built): the number of parser events and of sources that could
/// not be read or parsed. The floor under [`load_keep`]'s cost (benchmark).
pub fn count_events(sources: &[Source]) -> (usize, usize) {
    sources
        .par_iter()
        .map(|src| {
            let bytes = match src {
                Source::Stdin(bytes) => Ok(bytes.to_vec()),
                Source::File { path, .. } => std::fs::read(path),
            };
            let counted = bytes.ok().and_then(|b| {
                let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&b);
                let text = std::str::from_utf8(b).ok()?;
                palisade_core::yaml::count_events(text).ok()
            });
            counted.map_or((0, 1), |n| (n, 0))
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// Reads one source and parses it.
fn read_source(src: &Source, keep: &dyn Fn(&str) -> Keep) -> Parsed {
    let name = src.name();
    let bytes = match src {
        Source::Stdin(bytes) => return parse_text_keep(&name, bytes, keep),
        Source::File { path, .. } => std::fs::read(path),
    };
    match bytes {
        Ok(bytes) => parse_text_keep(&name, &bytes, keep),
        Err(e) => Parsed {
            errors: vec![InputError::file(name, format!("cannot read file: {e}"))],
            stats: LoadStats {
                files: 1,
                ..LoadStats::default()
            },
            ..Parsed::default()
        },
    }
}

/// Reads all of standard input.
pub fn read_stdin() -> std::io::Result<Arc<[u8]>> {
    let mut buf = Vec::new();
    std::io::stdin().lock().read_to_end(&mut buf)?;
    Ok(Arc::from(buf))
}
