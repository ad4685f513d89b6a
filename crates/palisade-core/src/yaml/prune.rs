//! Dropping what a metadata-only object does not keep, once it is built
//! (an object whose `kind` came late, or the items of a `List`).

use super::METADATA_FIELDS;
use crate::position::Pos;
use crate::positions::size;
use crate::scope::Keep;
use serde_json::{Map, Value};

/// Whether a top-level field is kept for a metadata-only object.
pub(super) fn is_metadata(key: &str) -> bool {
    METADATA_FIELDS.contains(&key)
}

/// Keeps only apiVersion, kind and metadata of `map`, whose positions are
/// `flat`; the kept positions go to `out`.
pub(super) fn prune_object(map: &mut Map<String, Value>, flat: &[Pos], out: &mut Vec<Pos>) {
    out.push(flat.first().copied().unwrap_or_default());
    let mut at = 1;
    for (k, v) in map.iter() {
        let n = size(v);
        if is_metadata(k) {
            out.extend_from_slice(flat.get(at..at + n).unwrap_or_default());
        }
        at += n;
    }
    map.retain(|k, _| is_metadata(k));
}

/// Prunes the items of a `List` whose kind is kept as metadata.
pub(super) fn prune_items(
    map: &mut Map<String, Value>,
    flat: &[Pos],
    out: &mut Vec<Pos>,
    decide: &dyn Fn(&str) -> Keep,
) {
    out.push(flat.first().copied().unwrap_or_default());
    let mut at = 1;
    for (k, v) in map.iter_mut() {
        let n = size(v);
        let node = flat.get(at..at + n).unwrap_or_default();
        match v {
            Value::Array(items) if k == "items" => {
                out.push(node.first().copied().unwrap_or_default());
                let mut i = 1;
                for item in items.iter_mut() {
                    let m = size(item);
                    let part = node.get(i..i + m).unwrap_or_default();
                    let keep = match item.get("kind") {
                        Some(Value::String(kind)) => decide(kind),
                        _ => Keep::Whole,
                    };
                    match item {
                        Value::Object(obj) if keep == Keep::Metadata => {
                            prune_object(obj, part, out)
                        }
                        _ => out.extend_from_slice(part),
                    }
                    i += m;
                }
            }
            _ => out.extend_from_slice(node),
        }
        at += n;
    }
}
