//! Source positions stored flat: one [`Pos`] per JSON node in pre-order,
//! aligned with the object's value.
//!
//! The YAML loader ([`crate::yaml`]) writes them in the same pass as the
//! value: a mapping entry's position is the position of its key (so a finding
//! on `hostNetwork: true` points at `hostNetwork`), a sequence item's is the
//! item's own. A field is found again from its path by walking the value and
//! counting the nodes before it, so no key is stored twice.

use crate::path::{FieldPath, Seg};
use crate::position::Pos;
use serde_json::Value;
use std::sync::Arc;

/// The positions of one object, in pre-order of its JSON value. Cheap to
/// clone (shared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Positions(Arc<[Pos]>);

impl Positions {
    /// Positions already in pre-order of their value.
    pub fn new(flat: &[Pos]) -> Positions {
        Positions(Arc::from(flat))
    }

    /// Where the object starts.
    pub fn start(&self) -> Pos {
        self.0.first().copied().unwrap_or_default()
    }

    /// All positions, in pre-order.
    pub fn as_slice(&self) -> &[Pos] {
        &self.0
    }

    /// The position of the field at `path` of `value` (the value these
    /// positions were built with), or of its nearest ancestor present in the
    /// source (a finding about a missing field points at its parent).
    pub fn locate(&self, value: &Value, path: &FieldPath) -> Pos {
        let (index, _) = walk(value, path, false).unwrap_or((0, value));
        self.0.get(index).copied().unwrap_or_default()
    }

    /// The positions of each item of the sequence at `path` (empty when
    /// there is no sequence there), in one pass over the items.
    pub fn items(&self, value: &Value, path: &FieldPath) -> Vec<Positions> {
        let Some((index, Value::Array(items))) = walk(value, path, true) else {
            return Vec::new();
        };
        let mut at = index + 1;
        items
            .iter()
            .map(|item| {
                let n = size(item);
                let part = self.0.get(at..at + n).unwrap_or_default();
                at += n;
                Positions::new(part)
            })
            .collect()
    }
}

/// Walks `path` in `value`, giving the pre-order index of the node reached
/// and the node. With `exact`, a step that is missing gives `None`; without,
/// the walk stops at the nearest ancestor.
fn walk<'v>(value: &'v Value, path: &FieldPath, exact: bool) -> Option<(usize, &'v Value)> {
    let mut index = 0usize;
    let mut node = value;
    for seg in path.segments() {
        let child = match (seg, node) {
            (Seg::Key(k), Value::Object(map)) => {
                let mut skipped = 0;
                let mut found = None;
                for (name, v) in map {
                    if name == k {
                        found = Some((index + 1 + skipped, v));
                        break;
                    }
                    skipped += size(v);
                }
                found
            }
            (Seg::Index(i), Value::Array(items)) if *i < items.len() => {
                let skipped: usize = items[..*i].iter().map(size).sum();
                Some((index + 1 + skipped, &items[*i]))
            }
            _ => None,
        };
        match child {
            Some((i, v)) => {
                index = i;
                node = v;
            }
            None if exact => return None,
            None => break,
        }
    }
    Some((index, node))
}

/// Number of nodes of `v` (itself included): the length of its positions.
pub(crate) fn size(v: &Value) -> usize {
    match v {
        Value::Object(map) => 1 + map.values().map(size).sum::<usize>(),
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;

    #[test]
    fn fields_are_found_at_their_lines_and_columns() {
        let text = "base: &b\n  hostNetwork: true\n  x: [1, {z: 2}]\nspec:\n  <<: *b\n  containers:\n  - name: a\n    image: x\n  - {}\n  list: []\nmetadata:\n  annotations:\n    a.b/c: \"1\"\n";
        let doc = parse_stream(text).remove(0).unwrap();
        let at = |p: &FieldPath| {
            let pos = doc.positions.locate(&doc.value, p);
            (pos.line, pos.column)
        };
        let cases = [
            (FieldPath::root(), (1, 1)),
            (FieldPath::parse("spec"), (4, 1)),
            // merged: points into the anchor
            (FieldPath::parse("spec.hostNetwork"), (2, 3)),
            (FieldPath::parse("spec.x[1].z"), (3, 11)),
            (FieldPath::parse("spec.containers[0].image"), (8, 5)),
            (FieldPath::parse("spec.containers[1]"), (9, 5)),
            // missing fields: their nearest ancestor
            (
                FieldPath::parse("spec.containers[1].securityContext"),
                (9, 5),
            ),
            (FieldPath::parse("spec.containers[7]"), (6, 3)),
            (FieldPath::parse("spec.list"), (10, 3)),
            (
                FieldPath::root()
                    .key("metadata")
                    .key("annotations")
                    .key("a.b/c"),
                (13, 5),
            ),
            (FieldPath::parse("nothing.here"), (1, 1)),
        ];
        for (p, want) in cases {
            assert_eq!(at(&p), want, "{p}");
        }
        assert_eq!(doc.positions.start().line, 1);
        let items = doc
            .positions
            .items(&doc.value, &FieldPath::parse("spec.containers"));
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_slice().len(), 3);
        assert_eq!(items[0].start().line, 7);
        assert_eq!(items[1].start().line, 9);
        assert!(doc
            .positions
            .items(&doc.value, &FieldPath::parse("spec"))
            .is_empty());
    }
}
