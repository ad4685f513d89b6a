//! Building one document's value and flat positions from parser events.
//!
//! Positions are written in the same pass as the value, in pre-order (see
//! [`crate::positions`]). Values of the top-level fields of an object whose
//! kind is kept as [`Keep::Metadata`] are parsed but not built: their frames
//! only check duplicate keys, except that anchored nodes (which an alias may
//! use later) and merge values (which must be mappings) are still built.

use super::keys::{find_key, key_hash, Entry, KeyIndex, LINEAR_KEYS};
use super::prune::{is_metadata, prune_items, prune_object};
use super::scalar::{check_scalar, kept, resolve_key, resolve_scalar};
use super::{LoadError, MAX_DEPTH, MAX_NODES_PER_DOCUMENT};
use crate::position::Pos;
use crate::positions::size;
use crate::scope::Keep;
use saphyr_parser::{ScalarStyle, Tag};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// Whether a frame builds its node or only parses it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Build,
    Skip,
}

/// What a mapping frame waits for.
#[derive(Clone, Copy, Debug)]
enum KeyState {
    /// A key.
    Key,
    /// The value of the last entry, whose key is at this position.
    Value(Pos),
    /// The value of a merge key `<<` at this position.
    Merge(Pos),
    /// The value of a top-level field that is not built.
    Skipped,
}

/// What the next node is for.
#[derive(Clone, Copy)]
enum Role {
    Root,
    Item,
    Value(Pos),
    Merge(Pos),
    Key,
    Skipped,
}

/// An open mapping or sequence.
struct Frame {
    mode: Mode,
    map: bool,
    anchor: usize,
    /// Where the node starts.
    pos: Pos,
    /// Index of its own position in the position buffer (built frames).
    slot: usize,
    /// Its first entry (mapping) or item (sequence) on the shared stacks.
    start: usize,
    key: KeyState,
    /// Merged mappings with their positions, applied at the end.
    merges: Vec<Merged>,
    /// Key hash to entry (from `start`), for large mappings.
    index: Option<KeyIndex>,
}

/// An anchored node, for the aliases that follow it.
struct Anchor {
    value: Value,
    positions: Vec<Pos>,
    /// The scalar as a mapping key (an alias may be a key).
    scalar: Option<Result<String, String>>,
}

/// A merged mapping with its positions.
type Merged = (Map<String, Value>, Vec<Pos>);

/// Buffers kept from one stream to the next (per thread).
#[derive(Default)]
pub(super) struct Scratch {
    pos: Vec<Pos>,
    stack: Vec<Frame>,
    entries: Vec<Entry>,
    items: Vec<Value>,
    anchors: HashMap<usize, Anchor>,
}

/// The builder of one stream's documents.
pub(super) struct Builder<'k> {
    pub(super) keep: &'k dyn Fn(&str) -> Keep,
    s: Scratch,
    root: Option<Value>,
    nodes: usize,
    /// The kept part of the document, once its `kind` is read.
    doc_keep: Option<Keep>,
    /// Whether the document's `kind` ends in `List`, once read.
    doc_list: Option<bool>,
    /// Whether objects in a List's `items` are handed out one at a time.
    stream_items: bool,
    /// Items read and not yet handed out, with their positions.
    pub(super) streamed: Vec<(Value, Vec<Pos>)>,
    /// Whether this document handed out items.
    doc_streamed: bool,
    /// A document handed out items and turned out not to be a List.
    pub(super) not_a_list: bool,
}

impl<'k> Builder<'k> {
    pub(super) fn new(
        keep: &'k dyn Fn(&str) -> Keep,
        scratch: Scratch,
        stream_items: bool,
    ) -> Self {
        let mut b = Builder {
            keep,
            s: scratch,
            root: None,
            nodes: 0,
            doc_keep: None,
            doc_list: None,
            stream_items,
            streamed: Vec::new(),
            doc_streamed: false,
            not_a_list: false,
        };
        b.reset();
        b
    }

    /// The buffers, for the next stream.
    pub(super) fn into_scratch(mut self) -> Scratch {
        self.reset();
        self.s
    }

    /// Forgets the current document.
    pub(super) fn reset(&mut self) {
        self.s.pos.clear();
        self.s.stack.clear();
        self.s.entries.clear();
        self.s.items.clear();
        self.s.anchors.clear();
        self.root = None;
        self.nodes = 0;
        self.doc_keep = None;
        self.doc_list = None;
        self.doc_streamed = false;
    }

    /// The finished document: its value and positions (`None` if nothing
    /// was read). The builder is ready for the next document.
    pub(super) fn take(&mut self) -> Option<(Value, Vec<Pos>)> {
        let mut value = self.root.take()?;
        let mut flat = std::mem::take(&mut self.s.pos);
        if let Value::Object(map) = &mut value {
            let kind = match map.get("kind") {
                Some(Value::String(k)) => Some(k.as_str()),
                _ => None,
            };
            let keep = self.doc_keep.or_else(|| kind.map(|k| self.decide(k)));
            let is_list = kind.is_some_and(|k| k.ends_with("List"));
            if self.doc_streamed && !is_list {
                self.not_a_list = true;
            }
            let mut out = Vec::new();
            if keep == Some(Keep::Metadata) && map.keys().any(|k| !is_metadata(k)) {
                prune_object(map, &flat, &mut out);
                flat = out;
            } else if is_list && self.prunes_items(map) {
                prune_items(map, &flat, &mut out, &|k| self.decide(k));
                flat = out;
            }
        }
        self.reset();
        Some((value, flat))
    }

    /// Gives back the position buffer for reuse.
    pub(super) fn give_back(&mut self, mut flat: Vec<Pos>) {
        if flat.capacity() > self.s.pos.capacity() {
            flat.clear();
            self.s.pos = flat;
        }
    }

    fn decide(&self, kind: &str) -> Keep {
        if kind.ends_with("List") {
            Keep::Whole
        } else {
            (self.keep)(kind)
        }
    }

    fn prunes_items(&self, map: &Map<String, Value>) -> bool {
        let Some(Value::Array(items)) = map.get("items") else {
            return false;
        };
        items.iter().any(|item| match item.get("kind") {
            Some(Value::String(k)) => self.decide(k) == Keep::Metadata,
            _ => false,
        })
    }

    /// Whether a finished item is an object in the `items` of a document
    /// that is (or may still turn out to be) a List, to be handed out now.
    fn streams(&self, item: &Value) -> bool {
        if !self.stream_items || self.doc_list == Some(false) {
            return false;
        }
        let [root, items] = self.s.stack.as_slice() else {
            return false;
        };
        let in_items = self.s.entries.last().is_some_and(|e| e.key == "items");
        let is_object = |k: &str| item.get(k).is_some_and(Value::is_string);
        root.map
            && root.mode == Mode::Build
            && !items.map
            && items.mode == Mode::Build
            && in_items
            && is_object("apiVersion")
            && is_object("kind")
    }

    fn role(&self) -> Role {
        match self.s.stack.last() {
            None => Role::Root,
            Some(f) if !f.map => match f.mode {
                Mode::Build => Role::Item,
                Mode::Skip => Role::Skipped,
            },
            Some(f) => match (f.key, f.mode) {
                (KeyState::Key, _) => Role::Key,
                (KeyState::Merge(p), _) => Role::Merge(p),
                (KeyState::Value(p), Mode::Build) => Role::Value(p),
                (KeyState::Value(_), Mode::Skip) | (KeyState::Skipped, _) => Role::Skipped,
            },
        }
    }

    fn count(&mut self, n: usize, pos: Pos) -> Result<(), LoadError> {
        self.nodes += n;
        if self.nodes > MAX_NODES_PER_DOCUMENT {
            return Err(LoadError::at(
                pos,
                format!(
                    "document expands to more than {MAX_NODES_PER_DOCUMENT} nodes through aliases"
                ),
            ));
        }
        Ok(())
    }

    /// Records the position of a node about to be built; gives its index.
    fn slot(&mut self, role: Role, pos: Pos) -> usize {
        let at = self.s.pos.len();
        self.s.pos.push(match role {
            Role::Value(key_pos) => key_pos,
            _ => pos,
        });
        at
    }

    /// A value that is not built has been read.
    fn skipped_done(&mut self) {
        if let Some(f) = self.s.stack.last_mut() {
            if f.map {
                f.key = KeyState::Key;
            }
        }
    }

    pub(super) fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        pos: Pos,
    ) -> Result<(), LoadError> {
        let plain = matches!(style, ScalarStyle::Plain);
        let tag = core_tag(tag);
        let role = self.role();
        if anchor == 0 {
            match role {
                Role::Key => {
                    let merge = plain && tag.is_none() && text == "<<";
                    return self.add_key(resolve_key(text.into_owned(), plain, tag), merge, pos);
                }
                Role::Skipped => {
                    check_scalar(&text, plain, tag).map_err(|m| LoadError::at(pos, m))?;
                    self.skipped_done();
                    return Ok(());
                }
                _ => {}
            }
        }
        // The key is kept only where an alias may later use it as one.
        let scalar = (anchor != 0).then(|| resolve_key(text.to_string(), plain, tag));
        let merge = plain && tag.is_none() && text == "<<";
        let value = if matches!(role, Role::Key) {
            Value::Null // an anchored key: `finish` adds it from `scalar`
        } else {
            resolve_scalar(text, plain, tag).map_err(|m| LoadError::at(pos, m))?
        };
        let slot = self.slot(role, pos);
        self.finish(value, slot, anchor, scalar, merge, pos)
    }

    pub(super) fn alias(&mut self, id: usize, pos: Pos) -> Result<(), LoadError> {
        let role = self.role();
        let Some(anchor) = self.s.anchors.get(&id) else {
            return Err(LoadError::at(pos, "alias to an unknown anchor"));
        };
        match role {
            Role::Skipped => {
                self.skipped_done();
                Ok(())
            }
            Role::Key => {
                let Some(key) = anchor.scalar.clone() else {
                    return Err(LoadError::at(pos, "a mapping key must be a scalar"));
                };
                self.add_key(key, false, pos)
            }
            _ => {
                // Only what an alias adds counts towards the budget.
                let n = anchor.positions.len();
                self.count(n, pos)?;
                let slot = self.slot(role, pos);
                // found above; the map has not changed since
                let Some(anchor) = self.s.anchors.get(&id) else {
                    return Err(LoadError::at(pos, "alias to an unknown anchor"));
                };
                let value = anchor.value.clone();
                self.s
                    .pos
                    .extend_from_slice(anchor.positions.get(1..).unwrap_or_default());
                self.finish(value, slot, 0, None, false, pos)
            }
        }
    }

    pub(super) fn start(&mut self, map: bool, anchor: usize, pos: Pos) -> Result<(), LoadError> {
        if self.s.stack.len() >= MAX_DEPTH {
            return Err(LoadError::at(
                pos,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        let role = self.role();
        let skip = anchor == 0 && matches!(role, Role::Skipped);
        let (mode, slot) = if skip {
            (Mode::Skip, 0)
        } else {
            (Mode::Build, self.slot(role, pos))
        };
        let start = if map {
            self.s.entries.len()
        } else {
            self.s.items.len()
        };
        self.s.stack.push(Frame {
            mode,
            map,
            anchor,
            pos,
            slot,
            start,
            key: KeyState::Key,
            merges: Vec::new(),
            index: None,
        });
        Ok(())
    }

    pub(super) fn end(&mut self, pos: Pos) -> Result<(), LoadError> {
        let Some(frame) = self.s.stack.pop() else {
            return Err(LoadError::at(pos, "unbalanced end of a collection"));
        };
        if frame.map {
            if let KeyState::Value(key_pos) | KeyState::Merge(key_pos) = frame.key {
                let key = match frame.key {
                    KeyState::Merge(_) => "<<",
                    _ => self.s.entries.last().map_or("", |e| e.key.as_str()),
                };
                return Err(LoadError::at(key_pos, format!("key `{key}` has no value")));
            }
        }
        match frame.mode {
            Mode::Skip => {
                if frame.map {
                    self.s.entries.truncate(frame.start);
                }
                self.skipped_done();
                Ok(())
            }
            Mode::Build => {
                let value = if frame.map {
                    Value::Object(self.close_map(frame.start, frame.merges))
                } else {
                    Value::Array(self.s.items.drain(frame.start..).collect())
                };
                self.finish(value, frame.slot, frame.anchor, None, false, frame.pos)
            }
        }
    }

    /// The mapping of the entries from `start`, then the merged entries
    /// that no explicit key overrides (their positions are in the anchor).
    fn close_map(&mut self, start: usize, merges: Vec<Merged>) -> Map<String, Value> {
        let entries = self.s.entries.get(start..).unwrap_or_default();
        let built = entries.iter().filter(|e| e.value.is_some()).count();
        let merged: usize = merges.iter().map(|(m, _)| m.len()).sum();
        let mut map = Map::with_capacity(built + merged);
        for e in self.s.entries.drain(start..) {
            if let Some(v) = e.value {
                map.insert(e.key, v);
            }
        }
        for (merged, positions) in merges {
            let mut at = 1;
            for (k, v) in merged {
                let n = size(&v);
                if !map.contains_key(&k) {
                    let part = positions.get(at..at + n).unwrap_or_default();
                    self.s.pos.extend_from_slice(part);
                    map.insert(k, v);
                }
                at += n;
            }
        }
        map
    }

    /// Hands a built node to what it is for.
    fn finish(
        &mut self,
        value: Value,
        slot: usize,
        anchor: usize,
        scalar: Option<Result<String, String>>,
        merge: bool,
        pos: Pos,
    ) -> Result<(), LoadError> {
        if anchor != 0 {
            let positions = self.s.pos.get(slot..).unwrap_or_default().to_vec();
            let scalar = scalar.clone();
            self.s.anchors.insert(
                anchor,
                Anchor {
                    value: value.clone(),
                    positions,
                    scalar,
                },
            );
        }
        match self.role() {
            Role::Root => {
                self.root = Some(value);
                Ok(())
            }
            Role::Item if self.streams(&value) => {
                let positions = self.s.pos.split_off(slot);
                self.streamed.push((value, positions));
                self.doc_streamed = true;
                Ok(())
            }
            Role::Item => {
                self.s.items.push(value);
                Ok(())
            }
            Role::Value(_) => {
                if self.s.stack.len() == 1 && self.doc_keep.is_none() {
                    let is_kind = self.s.entries.last().is_some_and(|e| e.key == "kind");
                    if let (true, Value::String(kind)) = (is_kind, &value) {
                        self.doc_keep = Some(self.decide(kind));
                        self.doc_list = Some(kind.ends_with("List"));
                    }
                }
                if let Some(f) = self.s.stack.last_mut() {
                    f.key = KeyState::Key;
                }
                if let Some(e) = self.s.entries.last_mut() {
                    e.value = Some(value);
                }
                Ok(())
            }
            Role::Merge(key_pos) => {
                let positions = self.s.pos.split_off(slot);
                let merges = merged(value, positions, key_pos)?;
                if let Some(f) = self.s.stack.last_mut() {
                    f.key = KeyState::Key;
                    if f.mode == Mode::Build {
                        f.merges.extend(merges);
                    }
                }
                Ok(())
            }
            Role::Key => {
                self.s.pos.truncate(slot);
                let Some(key) = scalar else {
                    return Err(LoadError::at(pos, "a mapping key must be a scalar"));
                };
                self.add_key(key, merge, pos)
            }
            Role::Skipped => {
                self.s.pos.truncate(slot);
                self.skipped_done();
                Ok(())
            }
        }
    }

    /// A key of the mapping on top, resolved as kubectl resolves it (`n` is
    /// "false"): a duplicate, after resolution, is an error naming both lines.
    fn add_key(
        &mut self,
        key: Result<String, String>,
        merge: bool,
        pos: Pos,
    ) -> Result<(), LoadError> {
        let text = key.map_err(|m| LoadError::at(pos, m))?;
        let depth = self.s.stack.len();
        let Some(f) = self.s.stack.last_mut() else {
            return Err(LoadError::at(pos, "a key outside a mapping"));
        };
        if merge {
            // Merged entries are added at the end: the entries are explicit keys only.
            f.key = KeyState::Merge(pos);
            return Ok(());
        }
        let entries = self.s.entries.get(f.start..).unwrap_or_default();
        if let Some(first) = find_key(entries, f.index.as_ref(), &text) {
            return Err(LoadError::at(
                pos,
                format!(
                    "duplicate key `{text}`: first at line {first}, again at line {}",
                    pos.line
                ),
            ));
        }
        let skip = f.mode == Mode::Build
            && depth == 1
            && self.doc_keep == Some(Keep::Metadata)
            && !is_metadata(&text);
        f.key = if skip {
            KeyState::Skipped
        } else {
            KeyState::Value(pos)
        };
        let n = entries.len();
        if n >= LINEAR_KEYS {
            let index = f.index.get_or_insert_with(|| {
                let mut ix = HashMap::default();
                for (i, e) in entries.iter().enumerate() {
                    ix.entry(key_hash(&e.key)).or_insert(i);
                }
                ix
            });
            index.entry(key_hash(&text)).or_insert(n);
        }
        // A built mapping keeps its keys; a skipped one drops them soon.
        let key = match f.mode {
            Mode::Build if !skip => kept(Cow::Owned(text)),
            _ => text,
        };
        self.s.entries.push(Entry {
            key,
            line: pos.line,
            value: None,
        });
        Ok(())
    }
}

/// The mappings a merge key's value gives, each with its positions.
fn merged(value: Value, positions: Vec<Pos>, key_pos: Pos) -> Result<Vec<Merged>, LoadError> {
    match value {
        Value::Object(map) => Ok(vec![(map, positions)]),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut at = 1;
            for item in items {
                let n = size(&item);
                let Value::Object(map) = item else {
                    return Err(LoadError::at(key_pos, "merge key needs mappings"));
                };
                out.push((map, positions.get(at..at + n).unwrap_or_default().to_vec()));
                at += n;
            }
            Ok(out)
        }
        _ => Err(LoadError::at(
            key_pos,
            "merge key `<<` needs a mapping or a list of mappings",
        )),
    }
}

/// The tag as the scalar resolver names it: the suffix of a core-schema tag
/// (`!!int` is "int"), "!" for any other (yaml.v2 keeps such a scalar as text).
fn core_tag(tag: Option<&Tag>) -> Option<&str> {
    tag.map(|t| {
        if t.is_yaml_core_schema() {
            t.suffix.as_str()
        } else {
            "!"
        }
    })
}
