//! Source positions stored flat: one [`Pos`] per JSON node in pre-order,
//! aligned with the object's value, instead of a tree that repeats every key.
//!
//! A large scan holds every object at once (rules read the whole inventory),
//! and the position tree of `palisade_core::yaml` is as large as the values
//! themselves. Flattening it halves the memory of a scan; a finding's place is
//! found again from its field path when it is reported.

use palisade_core::position::PosChildren;
use palisade_core::{Pos, PosNode, Seg};
use serde_json::Value;

/// The positions of one object, in pre-order of its JSON value.
#[derive(Debug, Clone)]
pub struct Positions(Box<[Pos]>);

impl Positions {
    /// Flattens `node`, the positions of `value`; `None` when the two do not
    /// have the same shape (then the tree is kept as it is).
    pub fn of(value: &Value, node: &PosNode) -> Option<Positions> {
        let mut out = Vec::new();
        flatten(value, node, &mut out).then(|| Positions(out.into_boxed_slice()))
    }

    /// Where the object starts.
    pub fn start(&self) -> Pos {
        self.0.first().copied().unwrap_or_default()
    }

    /// The position of the field at `path` (a field path as findings display
    /// it), or of its nearest ancestor present in the source, as
    /// [`PosNode::locate`] gives it.
    pub fn locate(&self, value: &Value, path: &str) -> Pos {
        let mut index = 0usize;
        let mut node = value;
        for seg in parse_path(path) {
            let child = match (&seg, node) {
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
                None => break,
            }
        }
        self.0.get(index).copied().unwrap_or_default()
    }
}

/// Number of nodes of `v` (itself included).
fn size(v: &Value) -> usize {
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

/// Parses a field path as `FieldPath` displays it: plain keys joined by
/// dots, `[N]` indices and `["quoted key"]` with Rust string escapes. Stops at
/// the first step it cannot read (the finding then points at that ancestor).
pub fn parse_path(s: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '.' => {
                chars.next();
            }
            '[' => {
                chars.next();
                if chars.peek() == Some(&'"') {
                    chars.next();
                    match quoted(&mut chars) {
                        Some(key) => segs.push(Seg::Key(key)),
                        None => break,
                    }
                } else {
                    let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                    match digits.parse() {
                        Ok(n) => segs.push(Seg::Index(n)),
                        Err(_) => break,
                    }
                }
            }
            _ => {
                let mut key = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    key.push(c);
                    chars.next();
                }
                segs.push(Seg::Key(key));
            }
        }
    }
    segs
}

/// Reads the rest of a Rust-escaped string and its closing `"]`.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
    let mut key = String::new();
    loop {
        match chars.next()? {
            '"' => return (chars.next()? == ']').then_some(key),
            '\\' => key.push(match chars.next()? {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                '0' => '\0',
                'u' => {
                    if chars.next()? != '{' {
                        return None;
                    }
                    let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                other => other,
            }),
            c => key.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::yaml::parse_stream;
    use palisade_core::FieldPath;

    #[test]
    fn display_paths_parse_back() {
        let p = FieldPath::root()
            .key("metadata")
            .key("annotations")
            .key("container.apparmor.security.beta.kubernetes.io/a\"b\\c\n\u{1}é")
            .key("x")
            .index(3)
            .key("plain_key-1");
        assert_eq!(parse_path(&p.to_string()), p.segments());
        assert_eq!(
            parse_path("spec.containers[0].image"),
            FieldPath::parse("spec.containers[0].image").segments()
        );
        assert_eq!(parse_path(""), Vec::<Seg>::new());
    }

    #[test]
    fn flat_positions_locate_like_the_tree() {
        let text = "base: &b\n  hostNetwork: true\n  x: [1, {y: 2}]\nspec:\n  <<: *b\n  containers:\n  - name: a\n    image: x\n  - {}\n  list: []\nmetadata:\n  annotations:\n    a.b/c: \"1\"\n";
        let doc = parse_stream(text).remove(0).unwrap();
        let flat = Positions::of(&doc.value, &doc.positions).expect("same shape");
        let paths = [
            "",
            "spec",
            "spec.hostNetwork",
            "spec.x[1].y",
            "spec.containers[0].image",
            "spec.containers[1]",
            "spec.containers[1].securityContext",
            "spec.containers[7]",
            "spec.list",
            "metadata.annotations[\"a.b/c\"]",
            "nothing.here",
        ];
        for p in paths {
            let fp = FieldPath::root();
            let fp = parse_path(p).into_iter().fold(fp, |acc, s| match s {
                Seg::Key(k) => acc.key(&k),
                Seg::Index(i) => acc.index(i),
            });
            assert_eq!(
                flat.locate(&doc.value, &fp.to_string()),
                doc.positions.locate(&fp),
                "{p}"
            );
        }
        assert_eq!(flat.start(), doc.positions.pos);
    }

    #[test]
    fn shapes_that_differ_are_refused() {
        let doc = parse_stream("a: {b: 1}\n").remove(0).unwrap();
        let other: Value = serde_json::json!({"a": {"c": 1}});
        assert!(Positions::of(&other, &doc.positions).is_none());
    }
}
