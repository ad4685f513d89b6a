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
//! document order). With [`discover_and_load`], an object is built only as far as
//! the policies read its kind (`PolicySet::keep`): the other top-level
//! fields of a metadata-only kind are parsed (errors are reported the same)
//! but not built.

mod discover;
mod parse;
mod stream;

pub use discover::{discover, discover_each, Source};
pub use parse::parse_text_keep;
pub use stream::{each_object, stream_from, Deferred, STREAM_FROM};

use palisade_core::{Keep, Resource};
use serde::Serialize;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

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
    /// Set when the source is read twice ([`Deferred`]): `resources` are
    /// then only its objects the context needs.
    pub deferred: Option<Source>,
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
    /// Sources read twice, in input order (see [`Deferred`]).
    pub deferred: Vec<Deferred>,
}

/// What the context reads of each kind (`PolicySet::context_keep`).
pub type ContextKeep<'a> = dyn Fn(&str) -> Option<Keep> + Sync + 'a;

/// [`discover_and_load`], except that a source of `from` bytes or more
/// (`scan`: [`stream_from`]; `audit --snapshot`: 0, every source) keeps
/// only its objects of the kinds the context reads, as far as `context`
/// says (`PolicySet::context_keep`), and is listed in [`Loaded::deferred`],
/// to be read again object by object ([`each_object`]).
pub fn discover_and_load_streaming(
    paths: &[PathBuf],
    stdin: impl FnOnce() -> std::io::Result<Arc<[u8]>> + Send,
    keep: &(dyn Fn(&str) -> Keep + Sync),
    (context, from): (&ContextKeep<'_>, usize),
    found: &(dyn Fn() + Sync),
    progress: &(dyn Fn() + Sync),
) -> Loaded {
    let (parsed, errors) = walk_map(paths, stdin, found, &|src| {
        let out = read_source(src, keep, Some((context, from)));
        progress();
        out
    });
    let mut loaded = assemble(parsed);
    loaded.errors.splice(0..0, errors);
    loaded
}

/// Discovers `paths` as [`discover`] does and reads and parses every source
/// in parallel, starting on each file while the walk goes on, building of
/// each object only what `keep` says its kind needs (`PolicySet::keep`).
/// Results keep the input order; discovery errors come first. `found` is called once per source discovered,
/// `progress` once per source read.
pub fn discover_and_load(
    paths: &[PathBuf],
    stdin: impl FnOnce() -> std::io::Result<Arc<[u8]>> + Send,
    keep: &(dyn Fn(&str) -> Keep + Sync),
    found: &(dyn Fn() + Sync),
    progress: &(dyn Fn() + Sync),
) -> Loaded {
    let (parsed, errors) = walk_map(paths, stdin, found, &|src| {
        let out = read_source(src, keep, None);
        progress();
        out
    });
    let mut loaded = assemble(parsed);
    loaded.errors.splice(0..0, errors);
    loaded
}

/// Discovers `paths` as [`discover`] does and runs `each` over every source
/// in parallel, starting on a source as soon as the walk finds it. The
/// results are in input order; then the discovery errors.
pub fn walk_map<T: Send>(
    paths: &[PathBuf],
    stdin: impl FnOnce() -> std::io::Result<Arc<[u8]>> + Send,
    found: &(dyn Fn() + Sync),
    each: &(dyn Fn(&Source) -> T + Sync),
) -> (Vec<T>, Vec<InputError>) {
    let done = Mutex::new(Vec::new());
    let mut errors = Vec::new();
    rayon::scope(|scope| {
        let done = &done;
        let mut next = 0usize;
        errors = discover_each(paths, stdin, &mut |src| {
            let i = next;
            next += 1;
            found();
            scope.spawn(move |_| {
                let out = each(&src);
                done.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((i, out));
            });
        });
    });
    let mut done = done.into_inner().unwrap_or_else(PoisonError::into_inner);
    done.sort_unstable_by_key(|(i, _)| *i);
    (done.into_iter().map(|(_, out)| out).collect(), errors)
}

/// The objects, errors and counts of every source, in order.
fn assemble(parsed: Vec<Parsed>) -> Loaded {
    let mut loaded = Loaded::default();
    let total: usize = parsed.iter().map(|p| p.resources.len()).sum();
    loaded.resources.reserve_exact(total);
    for p in parsed {
        loaded.stats.add(&p.stats);
        loaded.errors.extend(p.errors);
        if let Some(source) = p.deferred {
            loaded.deferred.push(Deferred {
                source,
                start: loaded.resources.len(),
                count: p.resources.len(),
            });
        }
        loaded
            .resources
            .extend(p.resources.into_iter().map(Arc::new));
    }
    loaded
}

/// Reads one source and only runs the YAML parser over it (nothing is
/// built): the number of parser events, or `None` when it cannot be read or
/// parsed. The floor under the cost of reading and building (benchmark).
pub fn count_events(src: &Source) -> Option<usize> {
    let count = |bytes: &[u8]| {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).ok()?;
        palisade_core::yaml::count_events(text).ok()
    };
    with_bytes(src, count).ok().flatten()
}

/// Reads one source and parses it; with `context`, a large source keeps
/// only its objects the context needs (see [`Deferred`]).
fn read_source(
    src: &Source,
    keep: &dyn Fn(&str) -> Keep,
    context: Option<(&ContextKeep, usize)>,
) -> Parsed {
    let name = src.name();
    let parse = |bytes: &[u8]| match context {
        Some((context, from)) if bytes.len() >= from => {
            let mut p = stream::first_read(&name, bytes, context);
            p.deferred = Some(src.clone());
            p
        }
        _ => parse_text_keep(&name, bytes, keep),
    };
    with_bytes(src, parse).unwrap_or_else(|e| Parsed {
        errors: vec![InputError::file(
            name.clone(),
            format!("cannot read file: {e}"),
        )],
        stats: LoadStats {
            files: 1,
            ..LoadStats::default()
        },
        ..Parsed::default()
    })
}

/// Files up to this size are read into a buffer kept by the thread for the
/// next file (a new buffer per file costs a page fault per 4 KiB).
const KEPT_BUFFER: usize = 16 << 20;

thread_local! {
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` over the bytes of `src`.
fn with_bytes<T>(src: &Source, f: impl FnOnce(&[u8]) -> T) -> std::io::Result<T> {
    let path = match src {
        Source::Stdin(bytes) => return Ok(f(bytes)),
        Source::File { path, .. } => path,
    };
    let mut buf = READ_BUFFER.take();
    buf.clear();
    let read = std::fs::File::open(path).and_then(|mut file| file.read_to_end(&mut buf));
    let out = read.map(|_| f(&buf));
    if buf.capacity() <= KEPT_BUFFER {
        READ_BUFFER.set(buf);
    }
    out
}

/// Reads all of standard input.
pub fn read_stdin() -> std::io::Result<Arc<[u8]>> {
    let mut buf = Vec::new();
    std::io::stdin().lock().read_to_end(&mut buf)?;
    Ok(Arc::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::FieldPath;

    fn keep(kind: &str) -> Keep {
        if kind == "CustomResourceDefinition" {
            Keep::Metadata
        } else {
            Keep::Whole
        }
    }

    #[test]
    fn walking_while_reading_keeps_the_input_order() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..60 {
            let sub = dir.path().join(format!("d{}", i % 7));
            std::fs::create_dir_all(&sub).unwrap();
            let text =
                format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\n---\nkind: [\n");
            std::fs::write(sub.join(format!("f{i}.yaml")), text).unwrap();
        }
        let paths = vec![dir.path().to_path_buf(), PathBuf::from("/nonexistent")];
        // the reference: discover everything, then read one source after the other
        let (sources, errors) = discover(&paths, || unreachable!());
        let mut first = assemble(
            sources
                .iter()
                .map(|s| read_source(s, &keep, None))
                .collect(),
        );
        first.errors.splice(0..0, errors);
        let second = discover_and_load(&paths, || unreachable!(), &keep, &|| {}, &|| {});
        let names =
            |l: &Loaded| -> Vec<String> { l.resources.iter().map(|r| r.id.name.clone()).collect() };
        assert_eq!(names(&first), names(&second));
        assert_eq!(first.errors, second.errors);
        assert_eq!(second.errors.len(), 61);
        assert_eq!(&*second.errors[0].file, "/nonexistent");
        assert_eq!(first.stats, second.stats);
    }

    #[test]
    fn metadata_kinds_are_built_as_metadata_with_their_errors() {
        let dir = tempfile::tempdir().unwrap();
        let crd = "spec:\n  group: g\n  names: {kind: X}\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: xs.g\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: ys.g}\nspec:\n  versions:\n  - name: v1\n    name: v2\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n";
        std::fs::write(dir.path().join("a.yaml"), crd).unwrap();
        let loaded = discover_and_load(
            &[dir.path().to_path_buf()],
            || unreachable!(),
            &keep,
            &|| {},
            &|| {},
        );
        assert_eq!(loaded.resources.len(), 2);
        let crd = &loaded.resources[0];
        assert_eq!(crd.id.name, "xs.g");
        assert!(crd.value.get("spec").is_none(), "{}", crd.value);
        let pos = crd.locate(&FieldPath::parse("metadata.name")).unwrap();
        assert_eq!((pos.line, pos.column), (7, 3));
        assert_eq!(loaded.errors.len(), 1);
        let e = &loaded.errors[0];
        assert_eq!((e.line, e.column), (Some(15), Some(5)));
        assert!(
            e.message.contains("duplicate key `name`: first at line 14"),
            "{e}"
        );
        let pod = &loaded.resources[1];
        let pos = pod.locate(&FieldPath::parse("spec.hostPID")).unwrap();
        assert_eq!((pos.line, pos.column), (21, 3));
    }
}
