//! Sources too large to hold: cluster exports (`kubectl get ... -A -o json`,
//! one List of 100,000 objects) are read twice.
//!
//! A rule that looks at other objects (a pod's ServiceAccount, the RBAC
//! graph, namespace labels) needs them all before it can judge any object,
//! so a scan first reads every source. For a source of [`STREAM_FROM`] bytes
//! or more, that first read keeps only the objects of kinds some rule or
//! provider reads from the inventory ([`PolicySet::keeps_in_context`]),
//! built as far as they are read; the others are parsed, counted and
//! dropped. Once the context is ready, [`each_object`] reads the source again
//! and gives its objects one at a time, to be evaluated and dropped: memory
//! grows with what the rules keep, not with the input.
//!
//! [`PolicySet::keeps_in_context`]: palisade_core::PolicySet::keeps_in_context

use super::parse::parse_text_filtered;
use super::{with_bytes, Parsed, Source};
use palisade_core::yaml::{parse_stream_each, Parsed as Stream};
use palisade_core::{Keep, Resource};

/// Sources of this many bytes or more are read twice (see the module).
pub const STREAM_FROM: usize = 8 << 20;

/// [`STREAM_FROM`], or the byte count in `PALISADE_STREAM_FROM` (tests
/// read small files twice with it).
pub fn stream_from() -> usize {
    std::env::var("PALISADE_STREAM_FROM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(STREAM_FROM)
}

/// A source read twice: the range of its objects kept in the first read.
#[derive(Debug, Clone)]
pub struct Deferred {
    /// The source, to read again.
    pub source: Source,
    /// Index of its first kept object among the loaded resources.
    pub start: usize,
    /// How many of its objects were kept (they are in the context only;
    /// every object of the source is evaluated in the second read).
    pub count: usize,
}

/// What one large source's first read keeps: its objects of the kinds the
/// context reads, built only as far as `context` says (a copy held for the
/// context is never evaluated nor reported, so it has no positions, and of
/// a kind read for its identity only, no labels or annotations either);
/// counts and errors of everything. Objects the context does not read are
/// dropped as soon as they are parsed.
pub fn first_read(
    name: &std::sync::Arc<str>,
    bytes: &[u8],
    context: &dyn Fn(&str) -> Option<Keep>,
) -> Parsed {
    let build = |kind: &str| context(kind).map_or(Keep::Metadata, |k| k.max(Keep::Metadata));
    parse_text_filtered(name, bytes, &build, &mut |mut r: Resource| {
        let keep = context(&r.id.kind)?;
        r.positions = None;
        if keep == Keep::Identity {
            identity_only(&mut r.value);
        }
        Some(r)
    })
}

/// Strips an object built as metadata down to its identity: `apiVersion`,
/// `kind`, `metadata.name` and `metadata.namespace`.
fn identity_only(value: &mut serde_json::Value) {
    if let Some(serde_json::Value::Object(meta)) = value.get_mut("metadata") {
        let mut kept = serde_json::Map::with_capacity(2);
        for key in ["name", "namespace"] {
            if let Some(v) = meta.remove(key) {
                kept.insert(key.to_string(), v);
            }
        }
        *meta = kept;
    }
}

/// Reads `src` again and gives each of its objects to `each`, built as
/// `keep` says, one at a time; `each(None)` means "forget what was given,
/// it comes again" (see [`Stream::Restart`]). Errors were reported by the
/// first read and are not given again.
pub fn each_object(
    src: &Source,
    keep: &dyn Fn(&str) -> Keep,
    each: &mut dyn FnMut(Option<Resource>),
) -> std::io::Result<()> {
    let name = src.name();
    with_bytes(src, |bytes| {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let Ok(text) = std::str::from_utf8(bytes) else {
            return; // reported by the first read
        };
        parse_stream_each(text, keep, &mut |p| match p {
            Stream::Restart => each(None),
            Stream::Item(doc) => {
                if let Some(r) = Resource::from_item(doc, &name) {
                    each(Some(r));
                }
            }
            Stream::Document(Ok(doc)) => {
                for r in Resource::from_document(doc, &name) {
                    each(Some(r));
                }
            }
            Stream::Document(Err(_)) => {}
        });
    })
}
