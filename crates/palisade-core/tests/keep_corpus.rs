//! Selective building against whole building over the real-world corpus:
//! every document parsed as metadata only gives the same errors, the
//! whole value's apiVersion, kind and metadata, and the same position for
//! every field kept.

use palisade_core::yaml::{parse_stream, parse_stream_keep, Document, METADATA_FIELDS};
use palisade_core::{FieldPath, Keep};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/real-world"
    ))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(p);
        }
    }
}

/// What the metadata-only build must give for the whole value `v`.
fn expected(v: &Value, keep: &dyn Fn(&str) -> Keep) -> Value {
    let Value::Object(map) = v else {
        return v.clone();
    };
    let kind = map.get("kind").and_then(Value::as_str);
    match kind {
        Some(k) if k.ends_with("List") => {
            let mut out = map.clone();
            if let Some(Value::Array(items)) = out.get_mut("items") {
                for item in items.iter_mut() {
                    if item.get("kind").and_then(Value::as_str).is_some() {
                        *item = expected(item, keep);
                    }
                }
            }
            Value::Object(out)
        }
        Some(k) if keep(k) == Keep::Metadata => Value::Object(
            map.iter()
                .filter(|(k, _)| METADATA_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// Every path of `v`.
fn paths(v: &Value, at: &FieldPath, out: &mut Vec<FieldPath>) {
    out.push(at.clone());
    match v {
        Value::Object(map) => map.iter().for_each(|(k, c)| paths(c, &at.key(k), out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, c)| paths(c, &at.index(i), out)),
        _ => {}
    }
}

fn same(file: &Path, whole: &Document, meta: &Document, keep: &dyn Fn(&str) -> Keep) {
    assert_eq!(
        meta.value,
        expected(&whole.value, keep),
        "{} document {}",
        file.display(),
        whole.index
    );
    assert_eq!(meta.index, whole.index);
    let mut all = Vec::new();
    paths(&meta.value, &FieldPath::root(), &mut all);
    assert_eq!(meta.positions.as_slice().len(), all.len());
    for p in all {
        assert_eq!(
            meta.positions.locate(&meta.value, &p),
            whole.positions.locate(&whole.value, &p),
            "{} document {}: {p}",
            file.display(),
            whole.index
        );
    }
}

#[test]
fn metadata_only_builds_agree_with_whole_builds_on_the_corpus() {
    let root = corpus();
    let mut list = Vec::new();
    files(&root, &mut list);
    assert!(list.len() > 1000, "corpus at {}", root.display());
    // Every kind but the workloads kept as metadata: most of the corpus
    // goes through the skipping path.
    let keep = |kind: &str| match kind {
        "Pod" | "Deployment" | "DaemonSet" | "StatefulSet" | "Job" | "CronJob" => Keep::Whole,
        _ => Keep::Metadata,
    };
    let (mut docs, mut metadata, mut errors) = (0, 0, 0);
    for file in &list {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let whole = parse_stream(&text);
        let meta = parse_stream_keep(&text, &keep);
        assert_eq!(whole.len(), meta.len(), "{}", file.display());
        for (w, m) in whole.iter().zip(&meta) {
            match (w, m) {
                (Ok(w), Ok(m)) => {
                    same(file, w, m, &keep);
                    docs += 1;
                    metadata += usize::from(m.value != w.value);
                }
                (Err(w), Err(m)) => {
                    assert_eq!(w, m, "{}", file.display());
                    errors += 1;
                }
                _ => panic!("{}: {w:?} / {m:?}", file.display()),
            }
        }
    }
    assert!(
        docs > 3000 && metadata > 1000 && errors > 0,
        "{docs} {metadata} {errors}"
    );
}
