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
use std::sync::{Arc, OnceLock};

/// The positions of one object, in pre-order of its JSON value. Cheap to
/// clone (shared).
#[derive(Debug, Clone)]
pub struct Positions(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    flat: Box<[Pos]>,
    /// The node count of each node's subtree, in the same pre-order, built on
    /// the first lookup in a large object so that finding many fields of it
    /// (a finding on each of 20,000 containers) stays linear in its size.
    sizes: OnceLock<Box<[u32]>>,
}

/// Objects with fewer nodes are walked by counting (no index kept).
const INDEXED_FROM: usize = 256;

impl PartialEq for Positions {
    fn eq(&self, other: &Self) -> bool {
        self.0.flat == other.0.flat
    }
}

impl Eq for Positions {}

impl Positions {
    /// Positions already in pre-order of their value.
    pub fn new(flat: &[Pos]) -> Positions {
        Positions(Arc::new(Inner {
            flat: Box::from(flat),
            sizes: OnceLock::new(),
        }))
    }

    /// Where the object starts.
    pub fn start(&self) -> Pos {
        self.0.flat.first().copied().unwrap_or_default()
    }

    /// All positions, in pre-order.
    pub fn as_slice(&self) -> &[Pos] {
        &self.0.flat
    }

    /// The position of the field at `path` of `value` (the value these
    /// positions were built with), or of its nearest ancestor present in the
    /// source (a finding about a missing field points at its parent).
    pub fn locate(&self, value: &Value, path: &FieldPath) -> Pos {
        let (index, _) = walk(value, path, false, self.sizes(value)).unwrap_or((0, value));
        self.0.flat.get(index).copied().unwrap_or_default()
    }

    /// The positions of each item of the sequence at `path` (empty when
    /// there is no sequence there), in one pass over the items.
    pub fn items(&self, value: &Value, path: &FieldPath) -> Vec<Positions> {
        let sizes = self.sizes(value);
        let Some((index, Value::Array(items))) = walk(value, path, true, sizes) else {
            return Vec::new();
        };
        let mut at = index + 1;
        items
            .iter()
            .map(|item| {
                let n = node_count(sizes, at, item);
                let part = self.0.flat.get(at..at + n).unwrap_or_default();
                at += n;
                Positions::new(part)
            })
            .collect()
    }

    /// The subtree sizes of a large object (built once), `None` for a small
    /// one or when `value` does not match these positions.
    fn sizes(&self, value: &Value) -> Option<&[u32]> {
        if self.0.flat.len() < INDEXED_FROM {
            return None;
        }
        let sizes = self.0.sizes.get_or_init(|| {
            let mut out = Vec::with_capacity(self.0.flat.len());
            subtree_sizes(value, &mut out);
            out.into_boxed_slice()
        });
        (sizes.len() == self.0.flat.len()).then_some(&**sizes)
    }
}

/// Appends the subtree size of `v` and of each of its nodes, in pre-order.
fn subtree_sizes(v: &Value, out: &mut Vec<u32>) -> u32 {
    let at = out.len();
    out.push(1);
    let mut n = 1u32;
    match v {
        Value::Object(map) => map.values().for_each(|c| n += subtree_sizes(c, out)),
        Value::Array(items) => items.iter().for_each(|c| n += subtree_sizes(c, out)),
        _ => {}
    }
    out[at] = n;
    n
}

/// The node count of `v`, found at pre-order index `at`: read from `sizes`
/// when the object has them, else counted.
fn node_count(sizes: Option<&[u32]>, at: usize, v: &Value) -> usize {
    match sizes.and_then(|s| s.get(at)) {
        Some(&n) => n as usize,
        None => size(v),
    }
}

/// Walks `path` in `value`, giving the pre-order index of the node reached
/// and the node. With `exact`, a step that is missing gives `None`; without,
/// the walk stops at the nearest ancestor.
fn walk<'v>(
    value: &'v Value,
    path: &FieldPath,
    exact: bool,
    sizes: Option<&[u32]>,
) -> Option<(usize, &'v Value)> {
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
                    skipped += node_count(sizes, index + 1 + skipped, v);
                }
                found
            }
            (Seg::Index(i), Value::Array(items)) if *i < items.len() => {
                let mut skipped = 0;
                for v in &items[..*i] {
                    skipped += node_count(sizes, index + 1 + skipped, v);
                }
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

    /// A large object is walked through its subtree sizes; the answers are
    /// the same as by counting.
    #[test]
    fn large_objects_are_located_through_their_subtree_sizes() {
        let mut text = String::from("spec:\n  containers:\n");
        for i in 0..400 {
            text.push_str(&format!(
                "  - name: c{i}\n    image: x\n    env: [{{name: a, value: b}}]\n"
            ));
        }
        text.push_str("  after: 1\n");
        let doc = parse_stream(&text).remove(0).unwrap();
        assert!(doc.positions.as_slice().len() >= INDEXED_FROM);
        for i in [0usize, 1, 250, 399] {
            let p = FieldPath::parse(&format!("spec.containers[{i}].env[0].value"));
            let pos = doc.positions.locate(&doc.value, &p);
            assert_eq!((pos.line, pos.column), (3 + 3 * i as u32 + 2, 21), "{p}");
        }
        let after = doc
            .positions
            .locate(&doc.value, &FieldPath::parse("spec.after"));
        assert_eq!(after.line, 3 + 3 * 400);
        let items = doc
            .positions
            .items(&doc.value, &FieldPath::parse("spec.containers"));
        assert_eq!(items.len(), 400);
        assert_eq!(items[399].start().line, 3 + 3 * 399);
        assert_eq!(items[399].as_slice().len(), 7);
    }
}
