//! Source positions stored flat: one [`Pos`] per JSON node in pre-order,
//! aligned with the object's value.
//!
//! The YAML loader ([`crate::yaml`]) writes them in the same pass as the
//! value: a mapping entry's position is the position of its key (so a finding
//! on `hostNetwork: true` points at `hostNetwork`), a sequence item's is the
//! item's own. A field is found again from its path by walking the value and
//! counting the nodes before it, so no key is stored twice.

use crate::path::{FieldPath, Seg};
use crate::position::{Pos, PosChildren, PosNode};
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

    /// Flattens `node`, the position tree of `value`; `None` when the two do
    /// not have the same shape.
    pub fn of(value: &Value, node: &PosNode) -> Option<Positions> {
        let mut out = Vec::new();
        flatten(value, node, &mut out).then(|| Positions::new(&out))
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

    /// The positions of the exact node at `path`, if the source has it.
    pub fn get(&self, value: &Value, path: &FieldPath) -> Option<Positions> {
        let (index, node) = walk(value, path, true)?;
        self.0.get(index..index + size(node)).map(Positions::new)
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

    /// The same positions as a tree (for code that walks it by key).
    pub fn tree(&self, value: &Value) -> PosNode {
        let mut index = 0;
        tree(value, &self.0, &mut index)
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
pub fn size(v: &Value) -> usize {
    match v {
        Value::Object(map) => 1 + map.values().map(size).sum::<usize>(),
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        _ => 1,
    }
}

fn flatten(value: &Value, node: &PosNode, out: &mut Vec<Pos>) -> bool {
    out.push(node.pos);
    match (value, &node.children) {
        (Value::Object(map), PosChildren::Map(entries)) => {
            map.len() == entries.len()
                && map
                    .iter()
                    .zip(entries)
                    .all(|((k, v), (name, child))| k == name && flatten(v, child, out))
        }
        (Value::Object(map), PosChildren::None) => map.is_empty(),
        (Value::Array(items), PosChildren::Seq(children)) => {
            items.len() == children.len()
                && items.iter().zip(children).all(|(v, c)| flatten(v, c, out))
        }
        (Value::Array(items), PosChildren::None) => items.is_empty(),
        (_, PosChildren::None) => true,
        _ => false,
    }
}

fn tree(value: &Value, flat: &[Pos], index: &mut usize) -> PosNode {
    let pos = flat.get(*index).copied().unwrap_or_default();
    *index += 1;
    let children = match value {
        Value::Object(map) if !map.is_empty() => PosChildren::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), tree(v, flat, index)))
                .collect(),
        ),
        Value::Array(items) if !items.is_empty() => {
            PosChildren::Seq(items.iter().map(|v| tree(v, flat, index)).collect())
        }
        _ => PosChildren::None,
    };
    PosNode { pos, children }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;

    #[test]
    fn flat_positions_locate_like_the_tree() {
        let text = "base: &b\n  hostNetwork: true\n  x: [1, {y: 2}]\nspec:\n  <<: *b\n  containers:\n  - name: a\n    image: x\n  - {}\n  list: []\nmetadata:\n  annotations:\n    a.b/c: \"1\"\n";
        let doc = parse_stream(text).remove(0).unwrap();
        let tree = doc.positions.tree(&doc.value);
        assert_eq!(
            Positions::of(&doc.value, &tree),
            Some(doc.positions.clone())
        );
        let paths = [
            FieldPath::root(),
            FieldPath::parse("spec"),
            FieldPath::parse("spec.hostNetwork"),
            FieldPath::parse("spec.x[1].y"),
            FieldPath::parse("spec.containers[0].image"),
            FieldPath::parse("spec.containers[1]"),
            FieldPath::parse("spec.containers[1].securityContext"),
            FieldPath::parse("spec.containers[7]"),
            FieldPath::parse("spec.list"),
            FieldPath::root()
                .key("metadata")
                .key("annotations")
                .key("a.b/c"),
            FieldPath::parse("nothing.here"),
        ];
        for p in paths {
            assert_eq!(doc.positions.locate(&doc.value, &p), tree.locate(&p), "{p}");
        }
        let p = doc
            .positions
            .locate(&doc.value, &FieldPath::parse("spec.x[1].y"));
        assert_eq!(p.line, 3, "merged: points into the anchor");
        assert_eq!(doc.positions.start(), tree.pos);
        let sub = doc
            .positions
            .get(&doc.value, &FieldPath::parse("spec.containers[0]"))
            .unwrap();
        assert_eq!(sub.as_slice().len(), 3);
        assert_eq!(sub.start().line, 7);
        assert!(doc
            .positions
            .get(&doc.value, &FieldPath::parse("spec.nothing"))
            .is_none());
        let items = doc
            .positions
            .items(&doc.value, &FieldPath::parse("spec.containers"));
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], sub);
        assert_eq!(items[1].start().line, 9);
        assert!(doc
            .positions
            .items(&doc.value, &FieldPath::parse("spec"))
            .is_empty());
    }

    #[test]
    fn shapes_that_differ_are_refused() {
        let doc = parse_stream("a: {b: 1}\n").remove(0).unwrap();
        let other: Value = serde_json::json!({"a": {"c": 1}});
        assert!(Positions::of(&other, &doc.positions.tree(&doc.value)).is_none());
    }
}
