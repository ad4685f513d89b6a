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
//! document order).

mod discover;
mod parse;
mod positions;

pub use discover::{discover, Source};
pub use parse::parse_text;
pub use positions::Positions;

use palisade_core::Resource;
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
    /// The objects.
    pub resources: Vec<Arc<Resource>>,
    /// With [`load_compact`], the flat positions of each object (aligned with
    /// `resources`; `None` where the object kept its position tree). Empty
    /// with [`load`].
    pub positions: Vec<Option<Positions>>,
    /// Problems with the inputs.
    pub errors: Vec<InputError>,
    /// Counts.
    pub stats: LoadStats,
}

/// Reads and parses every source in parallel. `progress` is called once per
/// source read (from any thread). Objects keep their position trees.
pub fn load(sources: &[Source], progress: &(dyn Fn() + Sync)) -> Loaded {
    load_with(sources, progress, false)
}

/// [`load`], storing each object's positions flat ([`Positions`]) instead of
/// in its tree, which halves the memory of a large scan. Findings then get
/// their place from [`Positions::locate`] (see `Report::scan_with_progress`).
pub fn load_compact(sources: &[Source], progress: &(dyn Fn() + Sync)) -> Loaded {
    load_with(sources, progress, true)
}

fn load_with(sources: &[Source], progress: &(dyn Fn() + Sync), compact: bool) -> Loaded {
    let parsed: Vec<(Parsed, Vec<Option<Positions>>)> = sources
        .par_iter()
        .map(|src| {
            let mut out = read_source(src);
            let flat = if compact {
                flatten(&mut out.resources)
            } else {
                Vec::new()
            };
            progress();
            (out, flat)
        })
        .collect();
    let mut loaded = Loaded::default();
    for (p, flat) in parsed {
        loaded.stats.add(&p.stats);
        loaded.errors.extend(p.errors);
        loaded
            .resources
            .extend(p.resources.into_iter().map(Arc::new));
        loaded.positions.extend(flat);
    }
    loaded
}

/// Replaces each object's position tree by flat positions, where they align.
fn flatten(resources: &mut [Resource]) -> Vec<Option<Positions>> {
    resources
        .iter_mut()
        .map(|r| {
            let flat = r
                .positions
                .as_deref()
                .and_then(|tree| Positions::of(&r.value, tree));
            if flat.is_some() {
                r.positions = None;
            }
            flat
        })
        .collect()
}

/// Reads one source and parses it.
fn read_source(src: &Source) -> Parsed {
    let name = src.name();
    let bytes = match src {
        Source::Stdin(bytes) => return parse_text(&name, bytes),
        Source::File { path, .. } => std::fs::read(path),
    };
    match bytes {
        Ok(bytes) => parse_text(&name, &bytes),
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
