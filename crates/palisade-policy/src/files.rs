//! Reading policy files: YAML or JSON streams into resources, directories
//! walked in name order with the `ignore` crate's walker (as `palisade scan`
//! walks its inputs).

use crate::error::{Place, PolicyError};
use palisade_core::{yaml::parse_stream, Resource};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every `.yaml`, `.yml` and `.json` file under `path` (or `path` itself,
/// whatever its name), in file-name order, with an error for every entry
/// that cannot be read (the walk goes on past it).
pub fn policy_files(path: &Path) -> (Vec<PathBuf>, Vec<PolicyError>) {
    walk(
        path,
        &mut |p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            ["yaml", "yml", "json"]
                .iter()
                .any(|x| x.eq_ignore_ascii_case(ext))
        },
        true,
    )
}

/// The walk both front doors use: every file under `path` in name order,
/// links followed, `.git` skipped, no ignore files honoured.
pub fn walker(path: &Path) -> ignore::Walk {
    ignore::WalkBuilder::new(path)
        .standard_filters(false)
        .follow_links(true)
        .filter_entry(|e| e.file_name() != ".git")
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
}

/// Walks `path` as `palisade scan` walks a directory (the `ignore` crate's
/// walker: file-name order, symbolic links followed, `.gitignore` not
/// honoured, `.git` not entered), collecting the files accepted by `keep`
/// (`path` itself is kept when it is not a directory and `keep_direct`).
///
/// An entry that cannot be read (no permission, a broken link, a link
/// loop) gives an error naming it; the rest is still walked.
pub fn walk(
    path: &Path,
    keep: &mut dyn FnMut(&Path) -> bool,
    keep_direct: bool,
) -> (Vec<PathBuf>, Vec<PolicyError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let walker = walker(path);
    for entry in walker {
        match entry {
            Ok(e) => {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                let is_file = e.file_type().is_some_and(|t| t.is_file());
                let direct = e.depth() == 0 && keep_direct && !is_dir;
                if direct || (is_file && keep(e.path())) {
                    files.push(e.into_path());
                }
            }
            Err(e) => {
                let (at, message) = describe_walk_error(&e);
                let at = at.as_deref().unwrap_or(path).display().to_string();
                errors.push(PolicyError::Read {
                    place: Place::file(&at),
                    message,
                });
            }
        }
    }
    (files, errors)
}

/// The path a walk error is about (when it names one) and a plain message;
/// shared by every walker of the project (policy files here, manifests in
/// the CLI).
pub fn describe_walk_error(e: &ignore::Error) -> (Option<PathBuf>, String) {
    match e {
        ignore::Error::WithPath { path, err } => (Some(path.clone()), describe_walk_error(err).1),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            describe_walk_error(err)
        }
        ignore::Error::Loop { ancestor, child } => (
            Some(child.clone()),
            format!(
                "symbolic link loop: points to its ancestor {}",
                ancestor.display()
            ),
        ),
        ignore::Error::Io(io) => {
            // walkdir wraps the OS error with its path, which is named already
            let os = io.get_ref().and_then(|e| e.source());
            match os {
                Some(os) => (None, format!("cannot read: {os}")),
                None => (None, format!("cannot read: {io}")),
            }
        }
        other => (None, format!("cannot read: {other}")),
    }
}

/// The Kubernetes objects of one file, with positions.
pub fn read_resources(path: &Path) -> Result<Vec<Resource>, PolicyError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
        place: Place::file(&name),
        message: format!("cannot read: {e}"),
    })?;
    parse_resources(&text, &name)
}

/// The Kubernetes objects of `text` read from `name`.
pub fn parse_resources(text: &str, name: &str) -> Result<Vec<Resource>, PolicyError> {
    let file: Arc<str> = Arc::from(name);
    let mut out = Vec::new();
    for doc in parse_stream(text) {
        match doc {
            Ok(doc) => out.extend(Resource::from_document(doc, &file)),
            Err(e) => {
                let pos = e.pos.unwrap_or_default();
                return Err(PolicyError::Read {
                    place: Place {
                        file: Some(file.clone()),
                        line: pos.line,
                        column: pos.column,
                    },
                    message: e.message,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(root: &Path, files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn walks_in_name_order_and_keeps_a_named_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/.git")).unwrap();
        for f in [
            "b/z.yaml",
            "b/a.yml",
            "a.JSON",
            "notes.txt",
            "b/.git/x.yaml",
        ] {
            std::fs::write(root.join(f), "x: 1\n").unwrap();
        }
        let (files, errors) = policy_files(root);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(names(root, &files), ["a.JSON", "b/a.yml", "b/z.yaml"]);
        let (files, errors) = policy_files(&root.join("notes.txt"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(names(root, &files), ["notes.txt"]);
    }

    #[test]
    fn unreadable_entries_are_errors_and_the_walk_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", root.join("sub/broken.yaml")).unwrap();
        std::os::unix::fs::symlink("..", root.join("sub/loop")).unwrap();
        std::fs::write(root.join("sub/ok.yaml"), "x: 1\n").unwrap();
        std::fs::write(root.join("z.yaml"), "x: 1\n").unwrap();
        let (files, errors) = policy_files(root);
        assert_eq!(names(root, &files), ["sub/ok.yaml", "z.yaml"]);
        let mut shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        shown.sort();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert_eq!(
            shown[0],
            format!(
                "{}: cannot read: No such file or directory (os error 2)",
                root.join("sub/broken.yaml").display()
            )
        );
        assert!(
            shown[1].starts_with(&format!(
                "{}: symbolic link loop",
                root.join("sub/loop").display()
            )),
            "{shown:?}"
        );
        let (files, errors) = policy_files(&root.join("missing"));
        assert!(files.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().contains("missing: cannot read"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_directory_without_permission_is_an_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let locked = root.join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::write(locked.join("p.yaml"), "x: 1\n").unwrap();
        std::fs::write(root.join("open.yaml"), "x: 1\n").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let privileged = std::fs::read_dir(&locked).is_ok(); // root reads it anyway
        let (files, errors) = policy_files(root);
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        if privileged {
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(names(root, &files), ["locked/p.yaml", "open.yaml"]);
        } else {
            assert_eq!(names(root, &files), ["open.yaml"]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(
                errors[0].to_string(),
                format!(
                    "{}: cannot read: Permission denied (os error 13)",
                    locked.display()
                )
            );
        }
    }
}
