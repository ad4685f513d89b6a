//! Reading policy files: YAML or JSON streams into resources, directories
//! walked in name order.

use crate::error::{Place, PolicyError};
use palisade_core::{yaml::parse_stream, Resource};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every `.yaml`, `.yml` and `.json` file under `path` (or `path` itself),
/// sorted.
pub fn policy_files(path: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    let mut out = Vec::new();
    walk(
        path,
        &mut |p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            matches!(ext, "yaml" | "yml" | "json")
        },
        &mut out,
        true,
    )?;
    Ok(out)
}

/// Walks `path` collecting files accepted by `keep` (a file given directly
/// is kept when `keep_direct`).
pub fn walk(
    path: &Path,
    keep: &mut dyn FnMut(&Path) -> bool,
    out: &mut Vec<PathBuf>,
    keep_direct: bool,
) -> Result<(), PolicyError> {
    let read_err = |e: std::io::Error| PolicyError::Read {
        place: Place::file(&path.display().to_string()),
        message: format!("cannot read: {e}"),
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.is_file() {
        if keep_direct || keep(path) {
            out.push(path.to_path_buf());
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, keep, out, false)?;
        } else if keep(&e) {
            out.push(e);
        }
    }
    Ok(())
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
