//! YAML and JSON streams to JSON values with source positions.
//!
//! Built on saphyr-parser's event stream so that every node keeps its line and
//! column. Scalars and mapping keys are resolved as kubectl reads them
//! (sigs.k8s.io/yaml: YAML 1.1, `yes`/`no`/`on`/`off` are booleans, `012` is
//! octal, a key `n` is "false"; see `scalar.rs`), anchors and aliases are
//! expanded, merge keys (`<<: *x`) are applied, and a duplicate key in a
//! mapping (after resolution) is an error naming both lines. JSON is read
//! by the same parser.
//!
//! Positions are built flat, in the same pass as the value
//! ([`Positions`]). With [`parse_stream_keep`], an object whose kind needs
//! only its metadata ([`Keep::Metadata`]) is built as `apiVersion`, `kind` and
//! `metadata`: the rest is still parsed (syntax errors and duplicate keys are
//! reported as for a whole object; anchors defined there still resolve) but
//! not built.

mod build;
mod json;
mod keys;
mod prune;
mod scalar;

use crate::position::Pos;
use crate::positions::Positions;
use crate::scope::Keep;
use build::{Builder, Scratch};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span};
use serde_json::Value;
use std::cell::RefCell;

/// Most nodes the aliases of one document may add (guards against
/// "billion laughs" documents; nodes written out in the text do not count).
pub const MAX_NODES_PER_DOCUMENT: usize = 1_000_000;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 256;

/// The top-level fields built for an object kept as [`Keep::Metadata`].
pub const METADATA_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// One parsed document of a stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document as JSON.
    pub value: Value,
    /// Positions of every node of `value`, in pre-order.
    pub positions: Positions,
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

thread_local! {
    /// The builder's buffers, reused from one stream to the next.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Parses a stream of YAML (or JSON) documents, building every document whole.
///
/// Returns one entry per document, in order. A syntax error ends the stream:
/// the documents before it are returned, then the error.
pub fn parse_stream(text: &str) -> Vec<Result<Document, LoadError>> {
    parse_stream_keep(text, &|_| Keep::Whole)
}

/// [`parse_stream`], building of each object only what `keep` says its kind
/// needs. `List` kinds (any kind ending in `List`) are built whole, their
/// items as `keep` says. A document whose `kind` is not a string is built
/// whole. Errors are the same as with [`parse_stream`], except that the node
/// limit counts only what is built.
///
/// Layouts that Kubernetes (go-yaml) accepts but strict YAML rejects, a
/// line inside a flow collection or a quoted scalar indented too little, are
/// read as Kubernetes reads them: see [`crate::lenient`]. The columns of such
/// a line's nodes are then counted as if it were indented far enough.
pub fn parse_stream_keep(
    text: &str,
    keep: &dyn Fn(&str) -> Keep,
) -> Vec<Result<Document, LoadError>> {
    let mut out = Vec::new();
    drive(text, keep, false, &mut |p| match p {
        Parsed::Document(d) => out.push(d),
        Parsed::Item(_) => {} // not streamed
        Parsed::Restart => out.clear(),
    });
    out
}

/// What [`parse_stream_each`] gives, in stream order.
#[derive(Debug)]
pub enum Parsed {
    /// A document, or the error that ended it. A `List` document comes
    /// without the objects of its `items`, given before it as [`Parsed::Item`].
    Document(Result<Document, LoadError>),
    /// One object of the `items` of a `List`, as soon as it is read (its
    /// `index` is its List's), built as `keep` says its kind needs: a List
    /// is never held whole. Items that are not objects (no `apiVersion` or
    /// `kind`) stay in the List's `items`.
    Item(Document),
    /// Forget everything given so far: the stream is given again from its
    /// start. Happens when a document whose `items` were handed out turns
    /// out not to be a List (it is then given whole), or when a layout
    /// Kubernetes accepts had to be relaxed (see [`parse_stream_keep`]).
    Restart,
}

/// [`parse_stream_keep`], handing each document and each object of a
/// List's `items` to `each` as soon as it is read.
pub fn parse_stream_each(text: &str, keep: &dyn Fn(&str) -> Keep, each: &mut dyn FnMut(Parsed)) {
    drive(text, keep, true, each);
}

/// Parses `text` (relaxed where Kubernetes is lenient, again without
/// streaming if a non-List handed out items) into `each`.
fn drive(text: &str, keep: &dyn Fn(&str) -> Keep, stream: bool, each: &mut dyn FnMut(Parsed)) {
    let mut relaxed: Option<String> = None;
    let mut stream = stream;
    for _ in 0..MAX_RELAXED_LINES {
        let current = relaxed.as_deref().unwrap_or(text);
        let end = build_stream(current, keep, stream, each);
        if end.not_a_list {
            each(Parsed::Restart);
            stream = false;
            continue;
        }
        let Some(LoadError {
            pos: Some(pos),
            message,
        }) = end.last_error
        else {
            return;
        };
        let (line, column) = (pos.line as usize, pos.column as usize);
        let Some(next) = crate::lenient::relax(current, line, column, &message) else {
            return;
        };
        each(Parsed::Restart);
        relaxed = Some(next);
    }
}

/// How many times one stream is relaxed and parsed again at most.
const MAX_RELAXED_LINES: usize = 64;

/// How a run over a stream ended.
struct End {
    /// The error the stream ended with, if the last thing given was one.
    last_error: Option<LoadError>,
    /// A document handed out items and was not a List.
    not_a_list: bool,
}

fn build_stream(
    text: &str,
    keep: &dyn Fn(&str) -> Keep,
    stream: bool,
    each: &mut dyn FnMut(Parsed),
) -> End {
    let mut b = Builder::new(keep, SCRATCH.take(), stream);
    let mut out = Out {
        each,
        last_error: None,
        index: 0,
    };
    if json::looks_like_json(text) {
        json::run(text, &mut b, &mut out);
    } else {
        run(text, &mut b, &mut out);
    }
    let end = End {
        last_error: out.last_error,
        not_a_list: b.not_a_list,
    };
    SCRATCH.set(b.into_scratch());
    end
}

/// Where a run gives what it reads.
struct Out<'a> {
    each: &'a mut dyn FnMut(Parsed),
    last_error: Option<LoadError>,
    /// Index of the current document.
    index: usize,
}

impl Out<'_> {
    fn error(&mut self, e: LoadError) {
        self.last_error = Some(e.clone());
        (self.each)(Parsed::Document(Err(e)));
    }

    /// Gives the items the builder has finished.
    fn items(&mut self, b: &mut Builder<'_>) {
        for (mut value, flat) in b.streamed.drain(..) {
            let mut positions = flat;
            if let Value::Object(map) = &mut value {
                let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
                if (b.keep)(kind) == Keep::Metadata && map.keys().any(|k| !prune::is_metadata(k)) {
                    let mut out = Vec::new();
                    prune::prune_object(map, &positions, &mut out);
                    positions = out;
                }
            }
            self.last_error = None;
            (self.each)(Parsed::Item(Document {
                value,
                positions: Positions::new(&positions),
                index: self.index,
            }));
        }
    }

    /// The end of a document: gives it unless it failed.
    fn document_end(&mut self, b: &mut Builder<'_>, failed: bool) {
        self.items(b);
        if let (false, Some((value, flat))) = (failed, b.take()) {
            self.last_error = None;
            (self.each)(Parsed::Document(Ok(Document {
                value,
                positions: Positions::new(&flat),
                index: self.index,
            })));
            b.give_back(flat);
        }
        self.index += 1;
    }
}

/// Only runs the parser over `text` (no value is built): the number of
/// events, or the first syntax error. The floor under [`parse_stream`]'s
/// cost, which the scan benchmark prints.
pub fn count_events(text: &str) -> Result<usize, LoadError> {
    let mut parser = Parser::new_from_str(text);
    let mut n = 0;
    while let Some(ev) = parser.next_event() {
        if let Err(e) = ev {
            return Err(LoadError::at(pos_of(*e.marker()), e.info().to_string()));
        }
        n += 1;
    }
    Ok(n)
}

fn run(text: &str, b: &mut Builder<'_>, out: &mut Out<'_>) {
    let mut parser = Parser::new_from_str(text);
    let mut failed = false;
    let text_of = text;
    let mut last_line = None; // counted once, for a block scalar at the end
    while let Some(ev) = parser.next_event() {
        let (event, span): (Event<'_>, Span) = match ev {
            Ok(ev) => ev,
            Err(e) => {
                out.items(b);
                out.error(LoadError::at(pos_of(*e.marker()), e.info().to_string()));
                break;
            }
        };
        let pos = pos_of(span.start);
        let result = match event {
            Event::DocumentStart(_) => {
                b.reset();
                failed = false;
                Ok(())
            }
            Event::DocumentEnd => {
                out.document_end(b, failed);
                Ok(())
            }
            _ if failed => Ok(()),
            Event::Scalar(mut text, style, anchor, tag) => {
                if text.ends_with('\n') && unterminated_block(&mut last_line, text_of, style, span)
                {
                    text.to_mut().pop(); // go-yaml: no line break at EOF, none kept
                }
                b.scalar(text, style, anchor, tag.as_deref(), pos)
            }
            Event::Alias(id) => b.alias(id, pos),
            Event::SequenceStart(anchor, _) => b.start(false, anchor, pos),
            Event::MappingStart(anchor, _) => b.start(true, anchor, pos),
            Event::SequenceEnd | Event::MappingEnd => {
                let r = b.end(pos);
                out.items(b); // an item of a List may have ended
                r
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(()),
        };
        if let Err(e) = result {
            out.items(b);
            out.error(e);
            failed = true;
        }
    }
}

/// Whether a block scalar (`|`, `>`) runs to the end of a text that has
/// no final line break: saphyr still ends its value with `\n`, go-yaml
/// (kubectl) does not. `last_line` caches the text's last line number.
fn unterminated_block(
    last_line: &mut Option<usize>,
    text: &str,
    style: ScalarStyle,
    span: Span,
) -> bool {
    if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) || text.ends_with('\n') {
        return false;
    }
    let tail = text.rsplit('\n').next().unwrap_or_default().trim();
    if tail.is_empty() || tail.starts_with('#') || tail.starts_with("...") {
        return false; // the text ends with a comment: the scalar has its line break
    }
    let last = *last_line.get_or_insert_with(|| text.lines().count());
    span.end.line() >= last
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
    fn layouts_kubernetes_accepts_are_read() {
        // a closing bracket at its key's column (istio's spire-quickstart.yaml)
        let d = one("spec:\n  args: [\n      \"-a\", \"b\",\n  ]\n  image: x\n");
        assert_eq!(
            d.value,
            json!({"spec": {"args": ["-a", "b"], "image": "x"}})
        );
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("spec.image"));
        assert_eq!((p.line, p.column), (5, 3));
        // a quoted scalar continued at its key's column (gatekeeper-library httpsonly)
        let d = one("props:\n  d:\n    description: \"When set, it is\n    optional.\"\n    type: boolean\n");
        assert_eq!(
            d.value,
            json!({"props": {"d": {"description": "When set, it is optional.", "type": "boolean"}}})
        );
        // a block line indented too little stays an error
        let docs = parse_stream("a:\n  b: 1\n c: 2\n");
        assert!(docs.last().is_some_and(Result::is_err), "{docs:?}");
    }

    #[test]
    fn signs_inside_hex_and_octal_are_strings() {
        let d = one("a: 0x-5\nb: 0x+1F\nc: -0x-8000000000000000\nd: -0x1F\ne: 0o-7\n");
        assert_eq!(
            d.value,
            json!({"a": "0x-5", "b": "0x+1F", "c": "-0x-8000000000000000", "d": -31, "e": "0o-7"})
        );
    }

    #[test]
    fn scalars_resolve_as_kubectl_reads_them() {
        let d = one("a: yes\nb: 012\nc: 12\nd: true\ne: 1.5\nf: ~\ng: '1'\nh: 0x1F\ni: on\nj: 1e3\nk: 00\nl: 0b11\nm: 1_000\no: 08\np: 2001-12-14\nq: \"no\"\nr: !!str yes\n");
        assert_eq!(
            d.value,
            json!({"a":true,"b":10,"c":12,"d":true,"e":1.5,"f":null,"g":"1","h":31,"i":true,"j":1000,"k":0,"l":3,"m":1000,"o":8,"p":"2001-12-14","q":"no","r":"yes"})
        );
    }

    #[test]
    fn keys_resolve_as_kubectl_reads_them() {
        let d = one("n: 1\nY: 2\n012: 3\n1e3: 4\n0.1: 5\n'y': 6\n~x: 7\n");
        assert_eq!(
            d.value,
            json!({"false": 1, "true": 2, "10": 3, "1000": 4, "0.1": 5, "y": 6, "~x": 7})
        );
        // `n` and `false` are one key to kubectl: a duplicate here
        let err = parse_stream("n: 1\nfalse: 2\n").remove(0).unwrap_err();
        assert!(err.message.contains("duplicate key `false`"), "{err}");
        // what kubectl cannot turn into JSON is an error with its position
        let err = parse_stream("a: 1\nb: .inf\n").remove(0).unwrap_err();
        assert_eq!(err.pos, Some(Pos { line: 2, column: 4 }));
        assert!(err.message.contains("JSON cannot hold"), "{err}");
        let err = parse_stream("~: 1\n").remove(0).unwrap_err();
        assert!(err.message.contains("null"), "{err}");
        let err = parse_stream("a: !!int yes\n").remove(0).unwrap_err();
        assert!(
            err.message
                .contains("cannot decode !!bool `yes` as a !!int"),
            "{err}"
        );
    }

    #[test]
    fn a_block_scalar_at_the_end_without_a_line_break_has_none() {
        assert_eq!(one("a: |\n  x\n  y").value, json!({"a": "x\ny"}));
        assert_eq!(one("a: |\n  x\n  y\n").value, json!({"a": "x\ny\n"}));
        assert_eq!(one("a: |\n  x\n# end").value, json!({"a": "x\n"}));
    }

    /// Everything `parse_stream_each` gives, after its last restart.
    fn each(text: &str) -> (Vec<Document>, Vec<Document>, usize) {
        let (mut items, mut docs, mut restarts) = (Vec::new(), Vec::new(), 0);
        parse_stream_each(text, &crd_meta, &mut |p| match p {
            Parsed::Item(d) => items.push(d),
            Parsed::Document(d) => docs.push(d.unwrap()),
            Parsed::Restart => {
                items.clear();
                docs.clear();
                restarts += 1;
            }
        });
        (items, docs, restarts)
    }

    const LIST_JSON: &str = "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"},\n     \"spec\": {\"hostPID\": true, \"n\": 1.0}},\n    {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}, \"data\": {\"k\": \"\\u00e9\\n\"}},\n    \"not an object\"\n  ],\n  \"kind\": \"List\",\n  \"metadata\": {}\n}\n";

    #[test]
    fn list_items_are_given_one_at_a_time_even_before_the_kind() {
        for text in [LIST_JSON.to_string(), LIST_JSON.replace("{\n", "{ \n")] {
            let (items, docs, restarts) = each(&text);
            assert_eq!(restarts, 0);
            assert_eq!(items.len(), 2);
            assert_eq!(items[0].value["spec"], json!({"hostPID": true, "n": 1}));
            // kept as its kind needs: a ConfigMap as metadata
            assert_eq!(items[1].value.get("data"), None);
            let p = items[0]
                .positions
                .locate(&items[0].value, &FieldPath::parse("spec.hostPID"));
            assert_eq!((p.line, p.column), (5, 15));
            // the List itself keeps what is not an object
            assert_eq!(docs.len(), 1);
            assert_eq!(docs[0].value["items"], json!(["not an object"]));
        }
        // the JSON reader and the YAML parser agree on values and positions
        let yaml = parse_stream_keep(&format!("# yaml\n{LIST_JSON}"), &crd_meta);
        let (items, _, _) = each(LIST_JSON);
        let whole = yaml[0].as_ref().unwrap();
        let from_yaml = whole
            .positions
            .items(&whole.value, &FieldPath::parse("items"));
        assert_eq!(whole.value["items"][0], items[0].value);
        let shifted: Vec<Pos> = items[0]
            .positions
            .as_slice()
            .iter()
            .map(|p| Pos {
                line: p.line + 1,
                ..*p
            })
            .collect();
        assert_eq!(from_yaml[0].as_slice(), &shifted[..]);
    }

    #[test]
    fn items_of_a_document_that_is_no_list_are_taken_back() {
        let text = "items:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\nkind: Thing\napiVersion: x/v1\n";
        let (items, docs, restarts) = each(text);
        assert_eq!((items.len(), restarts), (0, 1));
        assert_eq!(docs[0].value["items"][0]["kind"], json!("Pod"));
        // YAML Lists too, with an error after the first item
        let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- {apiVersion: v1, kind: Pod, a: 1, a: 2}\n";
        let mut got = Vec::new();
        parse_stream_each(text, &crd_meta, &mut |p| got.push(p));
        assert!(matches!(&got[0], Parsed::Item(d) if d.value["metadata"]["name"] == "a"));
        assert!(matches!(&got[1], Parsed::Document(Err(e)) if e.message.contains("duplicate key")));
    }

    #[test]
    fn the_alias_budget_counts_only_what_aliases_add() {
        // a million written nodes and no alias: not limited
        let mut s = String::from("items:\n");
        for i in 0..350_000 {
            s.push_str(&format!("- {{a: {i}, b: x}}\n"));
        }
        assert!(parse_stream(&s)[0].is_ok());
        // an anchor of 1,000 nodes aliased 1,001 times: over the budget
        let mut s = String::from("a: &a [");
        s.push_str(&"x, ".repeat(999));
        s.push_str("x]\nb: [");
        s.push_str(&"*a, ".repeat(1000));
        s.push_str("*a]\n");
        let err = parse_stream(&s).remove(0).unwrap_err();
        assert!(err.message.contains("through aliases"), "{err}");
    }

    #[test]
    fn positions_point_at_keys() {
        let d = one("apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: true\n  containers:\n  - name: a\n    image: x\n");
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("spec.hostNetwork"));
        assert_eq!((p.line, p.column), (4, 3));
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("spec.containers[0].image"));
        assert_eq!((p.line, p.column), (7, 5));
        // a missing field falls back to its nearest ancestor
        let p = d.positions.locate(
            &d.value,
            &FieldPath::parse("spec.containers[0].securityContext"),
        );
        assert_eq!(p.line, 6);
    }

    #[test]
    fn merge_keys_and_aliases() {
        let d = one("base: &b\n  hostNetwork: true\n  x: 1\nspec:\n  <<: *b\n  x: 2\n");
        assert_eq!(d.value["spec"], json!({"x": 2, "hostNetwork": true}));
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("spec.hostNetwork"));
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
    fn events_are_counted() {
        // stream, document, mapping, key, sequence, 2 items: start and end events
        assert_eq!(count_events("a: [1, 2]\n"), Ok(11));
        let err = count_events("a: [1, 2\n").unwrap_err();
        assert_eq!(parse_stream("a: [1, 2\n")[0].as_ref().unwrap_err(), &err);
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

    /// Keeps CRDs and ConfigMaps as metadata, the rest whole.
    fn crd_meta(kind: &str) -> Keep {
        match kind {
            "CustomResourceDefinition" | "ConfigMap" => Keep::Metadata,
            _ => Keep::Whole,
        }
    }

    fn meta_one(text: &str) -> Document {
        let mut docs = parse_stream_keep(text, &crd_meta);
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).unwrap()
    }

    /// The same error, parsed whole or as metadata.
    fn same_error(text: &str) -> LoadError {
        let whole = parse_stream(text);
        let meta = parse_stream_keep(text, &crd_meta);
        assert_eq!(whole.len(), meta.len(), "{whole:?} / {meta:?}");
        let err = meta.last().unwrap().as_ref().unwrap_err().clone();
        assert_eq!(whole.last().unwrap().as_ref().unwrap_err(), &err);
        err
    }

    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a\n  labels: {x: z}\nspec:\n  group: g\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        type: object\n";

    #[test]
    fn metadata_kinds_build_only_their_metadata() {
        let d = meta_one(CRD);
        assert_eq!(
            d.value,
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "a", "labels": {"x": "z"}}})
        );
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("metadata.labels.x"));
        assert_eq!((p.line, p.column), (5, 12));
        assert_eq!(d.positions.as_slice().len(), 7);
        // a Whole kind is built whole, with exact positions
        let pod = CRD.replace("CustomResourceDefinition", "Pod");
        let d = meta_one(&pod);
        assert_eq!(d.value, one(&pod).value);
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("spec.versions[0].schema"));
        assert_eq!((p.line, p.column), (10, 5));
    }

    #[test]
    fn kind_after_spec_drops_what_was_built() {
        let text = "spec:\n  data: [1, 2, {a: b}]\nmetadata:\n  name: late\napiVersion: v1\nkind: ConfigMap\ndata:\n  k: v\n";
        let d = meta_one(text);
        assert_eq!(
            d.value,
            json!({"metadata": {"name": "late"}, "apiVersion": "v1", "kind": "ConfigMap"})
        );
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("metadata.name"));
        assert_eq!((p.line, p.column), (4, 3));
        let p = d.positions.locate(&d.value, &FieldPath::parse("kind"));
        assert_eq!((p.line, p.column), (6, 1));
        assert_eq!(d.positions.as_slice().len(), 5);
        // a later duplicate of a skipped field is still an error
        let err = same_error(&format!("{text}data: 2\n"));
        assert_eq!(err.pos, Some(Pos { line: 9, column: 1 }));
        assert!(
            err.message.contains("first at line 7, again at line 9"),
            "{err}"
        );
        let err = same_error(&format!("{text}spec: 2\n"));
        assert!(
            err.message.contains("first at line 1, again at line 9"),
            "{err}"
        );
    }

    #[test]
    fn errors_deep_in_skipped_fields_are_reported_as_whole() {
        // duplicate key deep inside spec
        let err = same_error(&format!(
            "{CRD}        required: [a]\n        type: string\n"
        ));
        assert_eq!(
            err.pos,
            Some(Pos {
                line: 14,
                column: 9
            })
        );
        assert!(
            err.message
                .contains("duplicate key `type`: first at line 12, again at line 14"),
            "{err}"
        );
        // in a large mapping (hash index) too
        let mut big = format!("{CRD}        properties:\n");
        for i in 0..100 {
            big.push_str(&format!("          p{i}: {{type: string}}\n"));
        }
        big.push_str("          p42: {}\n");
        let err = same_error(&big);
        assert!(
            err.message
                .contains("duplicate key `p42`: first at line 56, again at line 114"),
            "{err}"
        );
        assert!(parse_stream_keep(&big.replace("p42: {}", "p100: {}"), &crd_meta)[0].is_ok());
        // a syntax error
        let err = same_error(&format!("{CRD}        x: [1, 2\n"));
        assert!(err.pos.is_some(), "{err}");
        // an unknown alias, a bad merge
        let err = same_error(&format!("{CRD}        x: *nope\n"));
        assert_eq!(
            err.pos,
            Some(Pos {
                line: 13,
                column: 12
            })
        );
        let err = same_error(&format!("{CRD}        <<: 3\n"));
        assert!(err.message.contains("merge key"), "{err}");
        let err = same_error(&format!("{CRD}        ? [a]\n        : b\n"));
        assert!(err.message.contains("must be a scalar"), "{err}");
    }

    #[test]
    fn anchors_in_skipped_fields_resolve() {
        let text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  team: &t {owner: x, tier: &tier gold}\n  list: &l [a, b]\nmetadata:\n  name: a\n  labels:\n    <<: *t\n    level: *tier\n  annotations:\n    items: *l\n";
        let d = meta_one(text);
        assert_eq!(d.value, {
            let mut whole = one(text).value;
            whole.as_object_mut().unwrap().remove("data");
            whole
        });
        assert_eq!(
            d.value["metadata"]["labels"],
            json!({"level": "gold", "owner": "x", "tier": "gold"})
        );
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("metadata.labels.owner"));
        assert_eq!(p.line, 4, "a merged field points into the anchor");
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("metadata.annotations.items[1]"));
        assert_eq!((p.line, p.column), (5, 16));
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("metadata.labels.level"));
        assert_eq!((p.line, p.column), (10, 5));
    }

    #[test]
    fn list_items_are_kept_per_kind() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n  data: {a: b}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec:\n    hostPID: true\n";
        let d = meta_one(text);
        assert_eq!(
            d.value["items"][0],
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
        );
        assert_eq!(d.value["items"][1], one(text).value["items"][1]);
        let p = d
            .positions
            .locate(&d.value, &FieldPath::parse("items[1].spec.hostPID"));
        assert_eq!((p.line, p.column), (12, 5));
    }

    #[test]
    fn streams_mix_kinds() {
        let text =
            format!("{CRD}---\napiVersion: v1\nkind: Pod\nspec: {{hostPID: true}}\n---\n{CRD}");
        let docs: Vec<Document> = parse_stream_keep(&text, &crd_meta)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(docs.len(), 3);
        assert!(docs[0].value.get("spec").is_none() && docs[2].value.get("spec").is_none());
        let p = docs[1]
            .positions
            .locate(&docs[1].value, &FieldPath::parse("spec.hostPID"));
        assert_eq!((p.line, p.column), (16, 8));
        assert_eq!(docs[2].index, 2);
    }
}
