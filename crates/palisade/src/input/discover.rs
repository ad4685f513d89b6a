//! Turning command-line paths into the list of sources to read.

use super::InputError;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Extensions read when walking a directory (files named on the command line
/// are read whatever their name).
pub const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// One input to read.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file, with the name shown to the user.
    File {
        /// Where to read it.
        path: PathBuf,
        /// How the user named it (the walk keeps the directory prefix given).
        name: Arc<str>,
    },
    /// Standard input, already read (named `-`).
    Stdin(Arc<[u8]>),
}

impl Source {
    /// The name shown in findings and errors.
    pub fn name(&self) -> Arc<str> {
        match self {
            Source::File { name, .. } => name.clone(),
            Source::Stdin(_) => Arc::from("-"),
        }
    }
}

/// Expands `paths` (files, directories, `-`) into sources, in order.
///
/// Directories are walked recursively in file-name order, following
/// symbolic links, reading `.yaml`, `.yml` and `.json` files; `.gitignore`
/// files are not honoured (nothing is skipped silently) but `.git` directories
/// are not entered. A file reached twice is read once. `stdin` is called for
/// the first `-`; a second `-` is an error.
pub fn discover(
    paths: &[PathBuf],
    stdin: impl FnOnce() -> std::io::Result<Arc<[u8]>>,
) -> (Vec<Source>, Vec<InputError>) {
    let mut sources = Vec::new();
    let errors = discover_each(paths, stdin, &mut |s| sources.push(s));
    (sources, errors)
}

/// [`discover`], handing each source to `found` as soon as it is known (so
/// that it can be read while the walk goes on); gives the errors.
pub fn discover_each(
    paths: &[PathBuf],
    stdin: impl FnOnce() -> std::io::Result<Arc<[u8]>>,
    found: &mut dyn FnMut(Source),
) -> Vec<InputError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut stdin = Some(stdin);
    for path in paths {
        if path.as_os_str() == "-" {
            match stdin.take() {
                Some(read) => match read() {
                    Ok(bytes) => found(Source::Stdin(bytes)),
                    Err(e) => errors.push(InputError::file(
                        Arc::from("-"),
                        format!("cannot read stdin: {e}"),
                    )),
                },
                None => errors.push(InputError::file(
                    Arc::from("-"),
                    "stdin (`-`) given more than once",
                )),
            }
            continue;
        }
        let name: Arc<str> = Arc::from(path.display().to_string());
        match std::fs::metadata(path) {
            Err(e) => errors.push(InputError::file(name, format!("cannot read: {e}"))),
            Ok(meta) if meta.is_dir() => walk(path, &mut seen, found, &mut errors),
            Ok(_) => add_file(path.clone(), name, &mut seen, found),
        }
    }
    errors
}

/// What identifies a file reached more than once: its device and inode
/// (one `stat`, where resolving the canonical path costs a `readlink` per
/// path component), else its path.
#[derive(Debug, PartialEq, Eq, Hash)]
#[cfg_attr(not(unix), allow(dead_code))]
enum FileKey {
    Inode(u64, u64),
    Path(PathBuf),
}

#[cfg(unix)]
fn file_key(path: &Path) -> FileKey {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(meta) => FileKey::Inode(meta.dev(), meta.ino()),
        Err(_) => FileKey::Path(path.to_path_buf()),
    }
}

#[cfg(not(unix))]
fn file_key(path: &Path) -> FileKey {
    FileKey::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

fn add_file(
    path: PathBuf,
    name: Arc<str>,
    seen: &mut HashSet<FileKey>,
    found: &mut dyn FnMut(Source),
) {
    if seen.insert(file_key(&path)) {
        found(Source::File { path, name });
    }
}

fn walk(
    dir: &Path,
    seen: &mut HashSet<FileKey>,
    found: &mut dyn FnMut(Source),
    errors: &mut Vec<InputError>,
) {
    let walker = palisade_policy::files::walker(dir);
    for entry in walker {
        match entry {
            Ok(e) => {
                let is_file = e.file_type().is_some_and(|t| t.is_file());
                if is_file && has_manifest_extension(e.path()) {
                    let name: Arc<str> = Arc::from(e.path().display().to_string());
                    add_file(e.path().to_path_buf(), name, seen, found);
                }
            }
            Err(e) => {
                let (path, message) = palisade_policy::files::describe_walk_error(&e);
                let file = path
                    .unwrap_or_else(|| dir.to_path_buf())
                    .display()
                    .to_string();
                errors.push(InputError::file(Arc::from(file), message));
            }
        }
    }
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        MANIFEST_EXTENSIONS
            .iter()
            .any(|m| m.eq_ignore_ascii_case(e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_in_order_and_reads_named_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/.git")).unwrap();
        for f in [
            "b/z.yaml",
            "b/a.yml",
            "a.json",
            "notes.txt",
            "b/.git/x.yaml",
            "c.YAML",
        ] {
            std::fs::write(root.join(f), "x: 1\n").unwrap();
        }
        let paths = vec![
            root.to_path_buf(),
            root.join("notes.txt"),
            root.join("a.json"),
        ];
        let (sources, errors) = discover(&paths, || unreachable!());
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = sources
            .iter()
            .map(|s| {
                s.name()
                    .strip_prefix(&*root.display().to_string())
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            ["/a.json", "/b/a.yml", "/b/z.yaml", "/c.YAML", "/notes.txt"]
        );
    }

    #[test]
    fn broken_links_and_loops_are_errors_naming_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", root.join("sub/broken.yaml")).unwrap();
        std::os::unix::fs::symlink("..", root.join("sub/loop")).unwrap();
        std::fs::write(root.join("sub/ok.yaml"), "a: 1\n").unwrap();
        let (sources, errors) = discover(&[root.to_path_buf()], || unreachable!());
        assert_eq!(sources.len(), 1);
        let mut msgs: Vec<(String, String)> = errors
            .iter()
            .map(|e| {
                (
                    e.file.rsplit('/').next().unwrap().to_string(),
                    e.message.clone(),
                )
            })
            .collect();
        msgs.sort();
        assert_eq!(msgs[0].0, "broken.yaml");
        assert_eq!(
            msgs[0].1,
            "cannot read: No such file or directory (os error 2)"
        );
        assert_eq!(msgs[1].0, "loop");
        assert!(msgs[1].1.starts_with("symbolic link loop"), "{msgs:?}");
    }

    #[test]
    fn missing_paths_and_second_stdin_are_errors() {
        let paths = vec![
            PathBuf::from("/nonexistent/x.yaml"),
            PathBuf::from("-"),
            PathBuf::from("-"),
        ];
        let (sources, errors) = discover(&paths, || Ok(Arc::from(&b"a: 1"[..])));
        assert_eq!(sources.len(), 1);
        assert_eq!(errors.len(), 2);
        assert_eq!(&*errors[0].file, "/nonexistent/x.yaml");
        assert!(errors[1].message.contains("more than once"));
    }
}
