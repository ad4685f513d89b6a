//! Parsing the bytes of one source into resources, counts and errors.

use super::{InputError, LoadStats, Parsed};
use palisade_core::yaml::{parse_stream_each, Parsed as Stream};
use palisade_core::{Document, LoadError};
use palisade_core::{Keep, Resource, ResourceId};
use serde_json::Value;
use std::sync::Arc;

/// Parses the bytes of the source `name`, building of each object what
/// `keep` says its kind needs.
pub fn parse_text_keep(name: &Arc<str>, bytes: &[u8], keep: &dyn Fn(&str) -> Keep) -> Parsed {
    parse_text_filtered(name, bytes, keep, &mut Some)
}

/// [`parse_text_keep`], giving each object to `accept` as soon as it is
/// built: what it returns is kept, `None` is counted and dropped.
pub fn parse_text_filtered(
    name: &Arc<str>,
    bytes: &[u8],
    keep: &dyn Fn(&str) -> Keep,
    accept: &mut dyn FnMut(Resource) -> Option<Resource>,
) -> Parsed {
    let mut out = Parsed {
        stats: LoadStats {
            files: 1,
            ..LoadStats::default()
        },
        ..Parsed::default()
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = line_col(&bytes[..e.valid_up_to()]);
            out.errors.push(InputError {
                file: name.clone(),
                line: Some(line),
                column: Some(column),
                message: "not UTF-8 text".into(),
            });
            return out;
        }
    };
    if let Some(e) = json_error(text) {
        out.errors.push(InputError {
            file: name.clone(),
            line: Some(u32::try_from(e.line()).unwrap_or(u32::MAX)),
            column: Some(u32::try_from(e.column()).unwrap_or(u32::MAX)),
            message: format!("invalid JSON: {e}"),
        });
        return out;
    }
    let mut any = false;
    // Objects of a List's items come one at a time, never as a whole List.
    parse_stream_each(text, keep, &mut |p| match p {
        Stream::Restart => {
            out.resources.clear();
            out.errors.clear();
            out.stats = LoadStats {
                files: 1,
                ..LoadStats::default()
            };
            any = false;
        }
        Stream::Item(doc) => match Resource::from_item(doc, name) {
            Some(r) => out.resources.extend(accept(r)),
            None => out.stats.skipped += 1,
        },
        Stream::Document(doc) => {
            any = true;
            document(&mut out, doc, name, accept);
        }
    });
    if !any {
        let message = if bytes.is_empty() {
            "empty file (0 bytes): no YAML document"
        } else {
            "no YAML document in file (only blanks or comments)"
        };
        out.errors.push(InputError {
            file: name.clone(),
            line: Some(1),
            column: Some(1),
            message: message.into(),
        });
    }
    out
}

/// One document (or the error that ended it) into `out`.
fn document(
    out: &mut Parsed,
    doc: Result<Document, LoadError>,
    name: &Arc<str>,
    accept: &mut dyn FnMut(Resource) -> Option<Resource>,
) {
    let doc = match doc {
        Ok(doc) => doc,
        Err(e) => {
            out.errors.push(InputError {
                file: name.clone(),
                line: e.pos.map(|p| p.line),
                column: e.pos.map(|p| p.column),
                message: e.message,
            });
            return;
        }
    };
    out.stats.documents += 1;
    if doc.value.is_null() {
        out.stats.empty += 1;
        return;
    }
    match ResourceId::of(&doc.value) {
        None => out.stats.skipped += 1,
        Some(id) if id.kind.ends_with("List") => {
            if let Some(Value::Array(items)) = doc.value.get("items") {
                out.stats.skipped += items.iter().filter(|i| ResourceId::of(i).is_none()).count();
            }
        }
        Some(_) => {}
    }
    out.resources.extend(
        Resource::from_document(doc, name)
            .into_iter()
            .filter_map(accept),
    );
}

/// A text starting with `{` is JSON to kubectl, which decodes it strictly:
/// what YAML would forgive (`{"kind": }`, trailing commas, comments) is an
/// error there, so it is one here. The stream of JSON values is checked; the
/// YAML reader then builds the objects with their positions.
fn json_error(text: &str) -> Option<serde_json::Error> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    serde_json::Deserializer::from_str(text)
        .into_iter::<serde::de::IgnoredAny>()
        .find_map(Result::err)
}

/// The 1-based line and column just after `prefix`.
fn line_col(prefix: &[u8]) -> (u32, u32) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = prefix.len()
        - prefix
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Parsed {
        parse_text_keep(&Arc::from("f.yaml"), text, &|_| Keep::Whole)
    }

    #[test]
    fn counts_objects_empty_and_skipped_documents() {
        let p = parse(b"---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n---\nfoo: bar\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: s}}\n- {name: not-an-object}\n");
        assert_eq!(p.resources.len(), 2);
        assert_eq!(p.resources[1].id.kind, "Service");
        assert_eq!(
            p.stats,
            LoadStats {
                files: 1,
                documents: 4,
                empty: 1,
                skipped: 2
            }
        );
        assert!(p.errors.is_empty());
    }

    #[test]
    fn empty_and_comment_only_files_are_errors() {
        for text in [&b""[..], b"  \n", b"# nothing\n"] {
            let p = parse(text);
            assert_eq!(p.errors.len(), 1, "{text:?}");
            assert_eq!((p.errors[0].line, p.errors[0].column), (Some(1), Some(1)));
        }
    }

    #[test]
    fn syntax_errors_keep_earlier_documents() {
        let p = parse(b"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: [\n");
        assert_eq!(p.resources.len(), 1);
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].line.is_some());
    }

    #[test]
    fn json_is_strict() {
        let p = parse(b"{\"apiVersion\": \"v1\", \"kind\": \"Pod\",}");
        assert!(
            p.errors[0].message.starts_with("invalid JSON"),
            "{:?}",
            p.errors
        );
        let p =
            parse(b"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}}");
        assert_eq!((p.resources.len(), p.errors.len()), (1, 0));
    }

    #[test]
    fn invalid_utf8_is_placed() {
        let p = parse(b"a: 1\nb: \xff\n");
        assert_eq!((p.errors[0].line, p.errors[0].column), (Some(2), Some(4)));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let p = parse(b"apiVersion: v1\nkind: Pod\nkind: Service\n");
        assert!(p.resources.is_empty());
        assert!(
            p.errors[0].message.contains("duplicate key"),
            "{:?}",
            p.errors
        );
        assert_eq!(p.errors[0].line, Some(3));
    }
}
