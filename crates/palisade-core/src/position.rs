//! Source positions of the fields of a parsed document.

use crate::path::{FieldPath, Seg};

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

/// The positions of one node and, for mappings and sequences, of its children.
///
/// A mapping entry's position is the position of its key, so a finding on
/// `hostNetwork: true` points at `hostNetwork`.
#[derive(Debug, Clone, Default)]
pub struct PosNode {
    /// Where this node (or the key that names it) starts.
    pub pos: Pos,
    /// Positions of the children.
    pub children: PosChildren,
}

/// Children of a [`PosNode`].
#[derive(Debug, Clone, Default)]
pub enum PosChildren {
    /// A scalar or an empty collection.
    #[default]
    None,
    /// Mapping entries in source order (after merge keys are resolved).
    Map(Vec<(String, PosNode)>),
    /// Sequence items.
    Seq(Vec<PosNode>),
}

impl PosNode {
    /// A leaf at `pos`.
    pub fn leaf(pos: Pos) -> Self {
        PosNode {
            pos,
            children: PosChildren::None,
        }
    }

    /// The child for one path step.
    pub fn child(&self, seg: &Seg) -> Option<&PosNode> {
        match (&self.children, seg) {
            (PosChildren::Map(entries), Seg::Key(k)) => {
                entries.iter().find(|(name, _)| name == k).map(|(_, n)| n)
            }
            (PosChildren::Seq(items), Seg::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// The position of `path`, or of its nearest ancestor that exists in the
    /// source (a finding about a missing field points at its parent).
    pub fn locate(&self, path: &FieldPath) -> Pos {
        let mut node = self;
        for seg in path.segments() {
            match node.child(seg) {
                Some(next) => node = next,
                None => break,
            }
        }
        node.pos
    }

    /// The exact node at `path`, if the source has it.
    pub fn get(&self, path: &FieldPath) -> Option<&PosNode> {
        path.segments()
            .iter()
            .try_fold(self, |node, seg| node.child(seg))
    }
}
