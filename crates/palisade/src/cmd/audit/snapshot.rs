//! What a snapshot holds beside what the loader reads: `kubectl version
//! -o json` outputs, and JSON files that are a bare array of objects (as
//! Sonobuoy writes its `resources/` folder).

use crate::input::{discover, InputError, Source};
use palisade_core::{Resource, SourceRef};
use std::path::PathBuf;
use std::sync::Arc;

/// Version files are small; a larger JSON file is an object list.
const MAX_VERSION_FILE: u64 = 64 << 10;

/// The ClusterVersion objects of the `kubectl version -o json` outputs
/// among the snapshot's JSON files, the objects of JSON files that are a
/// bare array, and the errors of those that are malformed. (The loader
/// counts these documents as skipped: they have no `apiVersion` and
/// `kind`.) Array items without `apiVersion` and `kind` are errors naming
/// the file and item: nothing is dropped silently.
pub fn extra_objects(paths: &[PathBuf]) -> (Vec<Resource>, Vec<InputError>) {
    let (sources, _) = discover(paths, || Ok(Arc::from(Vec::new()))); // discovery errors: reported by the loader
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for src in sources {
        let Source::File { path, name } = src else {
            continue;
        };
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // unreadable: the loader reports it
        };
        if text.trim_start().starts_with('[') {
            array_items(&text, &name, &mut found, &mut errors);
            continue;
        }
        let small = text.len() as u64 <= MAX_VERSION_FILE;
        if !small || !text.contains("\"serverVersion\"") {
            continue;
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue; // invalid JSON: the loader reports it
        };
        match palisade_audit::cluster_version(&value, &name) {
            Ok(Some(r)) => found.push(r),
            Ok(None) => {}
            Err(e) => errors.push(InputError::file(name.clone(), e.to_string())),
        }
    }
    (found, errors)
}

/// The objects of a JSON array file.
fn array_items(
    text: &str,
    name: &Arc<str>,
    found: &mut Vec<Resource>,
    errors: &mut Vec<InputError>,
) {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(text) else {
        return; // invalid JSON: the loader reports it
    };
    let mut without_kind = 0;
    for item in items {
        match Resource::from_value(item) {
            Some(mut r) => {
                r.source = Some(SourceRef {
                    file: name.clone(),
                    document: 0,
                });
                found.push(r);
            }
            None => without_kind += 1,
        }
    }
    if without_kind > 0 {
        errors.push(InputError::file(
            name.clone(),
            format!("{without_kind} array items without apiVersion and kind: not audited"),
        ));
    }
}
