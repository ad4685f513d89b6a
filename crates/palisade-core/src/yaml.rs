//! YAML and JSON streams to JSON values with source positions.
//!
//! Built on saphyr-parser's event stream so that every node keeps its line and
//! column. Scalars are resolved as Kubernetes reads YAML 1.2 (only
//! `true`/`false` are booleans, `012` stays a string), anchors and aliases are
//! expanded, merge keys (`<<: *x`) are applied, and a duplicate key in a
//! mapping is an error naming both lines. JSON is read by the same parser.

use crate::position::{Pos, PosChildren, PosNode};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Most nodes one document may expand to through aliases (guards against
/// "billion laughs" documents).
pub const MAX_NODES_PER_DOCUMENT: usize = 1_000_000;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 256;

/// One parsed document of a stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document as JSON.
    pub value: Value,
    /// Positions of every node of `value`.
    pub positions: PosNode,
    /// Index of the document in its stream, from 0.
    pub index: usize,
}

/// A parse error with its position, when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", .pos.map(|p| format!("line {}, column {}: ", p.line, p.column)).unwrap_or_default())]
pub struct LoadError {
    /// Where the error is.
    pub pos: Option<Pos>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl LoadError {
    fn at(pos: Pos, message: impl Into<String>) -> Self {
        LoadError {
            pos: Some(pos),
            message: message.into(),
        }
    }
}

fn pos_of(m: Marker) -> Pos {
    Pos {
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        column: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
    }
}

/// A finished node: its value, positions, node count and, for scalars, its text.
#[derive(Clone)]
struct Node {
    value: Value,
    pos: PosNode,
    size: usize,
    scalar: Option<(String, bool)>, // (text, plain)
}

struct MapFrame {
    anchor: usize,
    pos: Pos,
    map: Map<String, Value>,
    pos_entries: Vec<(String, PosNode)>,
    key: Option<(String, Pos, bool)>, // (key, position, is_merge_key)
    merges: Vec<Node>,
    size: usize,
}

enum Frame {
    Seq {
        anchor: usize,
        pos: Pos,
        items: Vec<Value>,
        pos_items: Vec<PosNode>,
        size: usize,
    },
    Map(Box<MapFrame>),
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    nodes: usize,
}

/// Parses a stream of YAML (or JSON) documents.
///
/// Returns one entry per document, in order. A syntax error ends the stream:
/// the documents before it are returned, then the error.
pub fn parse_stream(text: &str) -> Vec<Result<Document, LoadError>> {
    let mut out = Vec::new();
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder::new();
    let mut index = 0usize;
    let mut failed = false;
    while let Some(ev) = parser.next_event() {
        let (event, span) = match ev {
            Ok(ev) => ev,
            Err(e) => {
                out.push(Err(LoadError::at(
                    pos_of(*e.marker()),
                    e.info().to_string(),
                )));
                break;
            }
        };
        match event {
            Event::DocumentStart(_) => {
                b = Builder::new();
                failed = false;
            }
            Event::DocumentEnd => {
                if let (false, Some(root)) = (failed, b.root.take()) {
                    out.push(Ok(Document {
                        value: root.value,
                        positions: root.pos,
                        index,
                    }));
                }
                index += 1;
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            other if !failed => {
                if let Err(e) = b.event(other, span) {
                    out.push(Err(e));
                    failed = true;
                }
            }
            _ => {}
        }
    }
    out
}

impl Builder {
    fn new() -> Self {
        Builder {
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            nodes: 0,
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), LoadError> {
        let pos = pos_of(span.start);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let plain = matches!(style, ScalarStyle::Plain);
                // Fast path: a mapping key becomes a key, never a value.
                if anchor == 0 {
                    if let Some(Frame::Map(frame)) = self.stack.last_mut() {
                        if frame.key.is_none() {
                            self.nodes += 1;
                            return frame.add_key(text.into_owned(), plain, pos);
                        }
                    }
                }
                let tag = tag.map(|t| t.suffix.clone());
                let value = resolve_scalar(&text, plain, tag.as_deref());
                // The text is kept only where an alias may later use it as a key.
                let scalar = (anchor != 0).then(|| (text.into_owned(), plain));
                let node = Node {
                    value,
                    pos: PosNode::leaf(pos),
                    size: 1,
                    scalar,
                };
                self.finish(node, anchor, pos)
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| LoadError::at(pos, "alias to an unknown anchor"))?;
                let mut node = node;
                node.pos.pos = pos;
                self.finish(node, 0, pos)
            }
            Event::SequenceStart(anchor, _) => self.push(Frame::Seq {
                anchor,
                pos,
                items: Vec::new(),
                pos_items: Vec::new(),
                size: 1,
            }),
            Event::MappingStart(anchor, _) => self.push(Frame::Map(Box::new(MapFrame {
                anchor,
                pos,
                map: Map::new(),
                pos_entries: Vec::new(),
                key: None,
                merges: Vec::new(),
                size: 1,
            }))),
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    anchor,
                    pos,
                    items,
                    pos_items,
                    size,
                }) => {
                    let node = Node {
                        value: Value::Array(items),
                        pos: PosNode {
                            pos,
                            children: PosChildren::Seq(pos_items),
                        },
                        size,
                        scalar: None,
                    };
                    self.finish(node, anchor, pos)
                }
                _ => Err(LoadError::at(pos, "unbalanced sequence end")),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map(frame)) => {
                    let anchor = frame.anchor;
                    let start = frame.pos;
                    let node = close_map(*frame)?;
                    self.finish(node, anchor, start)
                }
                _ => Err(LoadError::at(pos, "unbalanced mapping end")),
            },
            _ => Ok(()),
        }
    }

    fn push(&mut self, frame: Frame) -> Result<(), LoadError> {
        if self.stack.len() >= MAX_DEPTH {
            let pos = match &frame {
                Frame::Seq { pos, .. } => *pos,
                Frame::Map(m) => m.pos,
            };
            return Err(LoadError::at(
                pos,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn finish(&mut self, node: Node, anchor: usize, pos: Pos) -> Result<(), LoadError> {
        self.nodes += node.size;
        if self.nodes > MAX_NODES_PER_DOCUMENT {
            return Err(LoadError::at(
                pos,
                format!(
                    "document expands to more than {MAX_NODES_PER_DOCUMENT} nodes through aliases"
                ),
            ));
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq {
                items,
                pos_items,
                size,
                ..
            }) => {
                *size += node.size;
                items.push(node.value);
                pos_items.push(node.pos);
                Ok(())
            }
            Some(Frame::Map(frame)) => frame.add(node, pos),
        }
    }
}

impl MapFrame {
    fn add_key(&mut self, text: String, plain: bool, pos: Pos) -> Result<(), LoadError> {
        let is_merge = plain && text == "<<";
        // Merged entries are added at the end, so the map holds explicit keys only.
        if !is_merge && self.map.contains_key(&text) {
            let first = self
                .pos_entries
                .iter()
                .find(|(k, _)| *k == text)
                .map_or(0, |(_, n)| n.pos.line);
            return Err(LoadError::at(
                pos,
                format!(
                    "duplicate key `{text}`: first at line {first}, again at line {}",
                    pos.line
                ),
            ));
        }
        self.key = Some((text, pos, is_merge));
        Ok(())
    }

    fn add(&mut self, node: Node, pos: Pos) -> Result<(), LoadError> {
        match self.key.take() {
            None => {
                let Some((text, plain)) = node.scalar else {
                    return Err(LoadError::at(pos, "a mapping key must be a scalar"));
                };
                self.add_key(text, plain, pos)
            }
            Some((_, key_pos, true)) => {
                match &node.value {
                    Value::Object(_) => self.merges.push(node),
                    Value::Array(items) => {
                        let PosChildren::Seq(pos_items) = &node.pos.children else {
                            return Err(LoadError::at(key_pos, "merge key needs a mapping"));
                        };
                        for (item, item_pos) in items.iter().zip(pos_items) {
                            if !item.is_object() {
                                return Err(LoadError::at(key_pos, "merge key needs mappings"));
                            }
                            self.merges.push(Node {
                                value: item.clone(),
                                pos: item_pos.clone(),
                                size: 1,
                                scalar: None,
                            });
                        }
                    }
                    _ => {
                        return Err(LoadError::at(
                            key_pos,
                            "merge key `<<` needs a mapping or a list of mappings",
                        ))
                    }
                }
                Ok(())
            }
            Some((key, key_pos, false)) => {
                self.size += node.size;
                self.map.insert(key.clone(), node.value);
                self.pos_entries.push((
                    key,
                    PosNode {
                        pos: key_pos,
                        children: node.pos.children,
                    },
                ));
                Ok(())
            }
        }
    }
}

fn close_map(mut frame: MapFrame) -> Result<Node, LoadError> {
    if let Some((key, key_pos, _)) = frame.key.take() {
        return Err(LoadError::at(key_pos, format!("key `{key}` has no value")));
    }
    for merged in std::mem::take(&mut frame.merges) {
        let (Value::Object(map), PosChildren::Map(entries)) = (merged.value, merged.pos.children)
        else {
            continue;
        };
        for ((key, value), (_, pos)) in map.into_iter().zip(entries) {
            if !frame.map.contains_key(&key) {
                frame.map.insert(key.clone(), value);
                frame.pos_entries.push((key, pos));
            }
        }
    }
    Ok(Node {
        value: Value::Object(frame.map),
        pos: PosNode {
            pos: frame.pos,
            children: PosChildren::Map(frame.pos_entries),
        },
        size: frame.size,
        scalar: None,
    })
}

/// Resolves a scalar as Kubernetes' YAML reader does (YAML 1.2 core schema,
/// leading-zero numbers kept as strings).
fn resolve_scalar(text: &str, plain: bool, tag: Option<&str>) -> Value {
    match tag {
        Some("str") | Some("binary") => return Value::String(text.to_string()),
        Some("null") => return Value::Null,
        _ => {}
    }
    if !plain {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(text) {
        return Value::Number(n);
    }
    if is_float(text) {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

fn parse_int(text: &str) -> Option<Number> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if let Some(hex) = digits.strip_prefix("0x") {
        let v = i64::from_str_radix(hex, 16).ok()?;
        return Some(Number::from(if neg { -v } else { v }));
    }
    if let Some(oct) = digits.strip_prefix("0o") {
        let v = i64::from_str_radix(oct, 8).ok()?;
        return Some(Number::from(if neg { -v } else { v }));
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    if neg {
        text.parse::<i64>().ok().map(Number::from)
    } else if let Ok(v) = digits.parse::<i64>() {
        Some(Number::from(v))
    } else {
        digits.parse::<u64>().ok().map(Number::from)
    }
}

fn is_float(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (!a.is_empty() || !b.is_empty())
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exp_ok && (mantissa.contains('.') || exp.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::FieldPath;
    use serde_json::json;

    fn one(text: &str) -> Document {
        let mut docs = parse_stream(text);
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).unwrap()
    }

    #[test]
    fn scalars_resolve_as_kubernetes_reads_them() {
        let d = one("a: yes\nb: 012\nc: 12\nd: true\ne: 1.5\nf: ~\ng: '1'\nh: 0x1F\ni: on\nj: 1e3\nk: .inf\n");
        assert_eq!(
            d.value,
            json!({"a":"yes","b":"012","c":12,"d":true,"e":1.5,"f":null,"g":"1","h":31,"i":"on","j":1000.0,"k":".inf"})
        );
    }

    #[test]
    fn positions_point_at_keys() {
        let d = one("apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: true\n  containers:\n  - name: a\n    image: x\n");
        let p = d.positions.locate(&FieldPath::parse("spec.hostNetwork"));
        assert_eq!((p.line, p.column), (4, 3));
        let p = d
            .positions
            .locate(&FieldPath::parse("spec.containers[0].image"));
        assert_eq!((p.line, p.column), (7, 5));
        // a missing field falls back to its nearest ancestor
        let p = d
            .positions
            .locate(&FieldPath::parse("spec.containers[0].securityContext"));
        assert_eq!(p.line, 6);
    }

    #[test]
    fn merge_keys_and_aliases() {
        let d = one("base: &b\n  hostNetwork: true\n  x: 1\nspec:\n  <<: *b\n  x: 2\n");
        assert_eq!(d.value["spec"], json!({"x": 2, "hostNetwork": true}));
        let p = d.positions.locate(&FieldPath::parse("spec.hostNetwork"));
        assert_eq!(p.line, 2, "merged key points into the anchor");
    }

    #[test]
    fn duplicate_keys_name_both_lines() {
        let docs = parse_stream("a: 1\nb: 2\na: 3\n");
        let err = docs[0].as_ref().unwrap_err();
        assert!(
            err.message.contains("first at line 1, again at line 3"),
            "{err}"
        );
    }

    #[test]
    fn multi_document_and_errors() {
        let docs = parse_stream("a: 1\n---\nb: [1, 2\n");
        assert!(docs[0].is_ok());
        let err = docs[1].as_ref().unwrap_err();
        assert!(err.pos.is_some());
    }

    #[test]
    fn json_is_read() {
        let d = one("{\"kind\": \"Pod\", \"spec\": {\"hostPID\": true}}");
        assert_eq!(d.value["spec"]["hostPID"], json!(true));
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut s = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            s.push_str(&format!("l{i}: &l{i} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        }
        let docs = parse_stream(&s);
        assert!(docs[0].as_ref().unwrap_err().message.contains("expands"));
    }
}
