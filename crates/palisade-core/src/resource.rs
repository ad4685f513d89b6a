//! Kubernetes objects as the engine sees them.

use crate::path::FieldPath;
use crate::position::Pos;
use crate::positions::Positions;
use crate::value::Field;
use crate::yaml::Document;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// The identity of an object: apiVersion, kind, namespace and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub struct ResourceId {
    /// `apiVersion`, e.g. `apps/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// `metadata.name` (or `generateName` when there is no name).
    pub name: String,
}

impl ResourceId {
    /// The identity of a JSON object, or `None` when it has no apiVersion or kind.
    pub fn of(value: &Value) -> Option<ResourceId> {
        let api_version = value.field("apiVersion")?.as_str()?.to_string();
        let kind = value.field("kind")?.as_str()?.to_string();
        if api_version.is_empty() || kind.is_empty() {
            return None;
        }
        let meta = value.field("metadata");
        let text = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
        Some(ResourceId {
            api_version,
            kind,
            namespace: text("namespace")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            name: text("name")
                .or_else(|| text("generateName"))
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// The API group (empty for the core group).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{} ({ns})", self.kind, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Where an object came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// The file name as the user gave it (`-` for stdin).
    pub file: Arc<str>,
    /// Index of the document in the file.
    pub document: usize,
}

/// One Kubernetes object.
#[derive(Debug, Clone)]
pub struct Resource {
    /// apiVersion, kind, namespace, name.
    pub id: ResourceId,
    /// The object as JSON.
    pub value: Value,
    /// The file it came from, if any.
    pub source: Option<SourceRef>,
    /// Positions of its fields in that file (flat, aligned with `value`), if any.
    pub positions: Option<Positions>,
}

impl Resource {
    /// An object without a source file (from an AdmissionReview or the API).
    /// `None` when it has no apiVersion or kind.
    pub fn from_value(value: Value) -> Option<Resource> {
        let id = ResourceId::of(&value)?;
        Some(Resource {
            id,
            value,
            source: None,
            positions: None,
        })
    }

    /// Every object of a parsed document: the document itself, or the items of
    /// a `List` (any kind ending in `List` with an `items` array). Documents
    /// that are not Kubernetes objects give nothing.
    pub fn from_document(doc: Document, file: &Arc<str>) -> Vec<Resource> {
        let source = SourceRef {
            file: file.clone(),
            document: doc.index,
        };
        let Some(id) = ResourceId::of(&doc.value) else {
            return Vec::new();
        };
        let Document {
            mut value,
            positions,
            ..
        } = doc;
        if id.kind.ends_with("List") {
            // one entry per item of the same array
            let places = positions.items(&value, &FieldPath::root().key("items"));
            if let Some(Value::Array(items)) = value.get_mut("items") {
                return std::mem::take(items)
                    .into_iter()
                    .zip(places)
                    .filter_map(|(item, positions)| {
                        let id = ResourceId::of(&item)?;
                        Some(Resource {
                            id,
                            value: item,
                            source: Some(source.clone()),
                            positions: Some(positions),
                        })
                    })
                    .collect();
            }
        }
        vec![Resource {
            id,
            value,
            source: Some(source),
            positions: Some(positions),
        }]
    }

    /// One object of a List's `items`, read on its own (see
    /// [`crate::yaml::parse_stream_each`]); `None` when it has no apiVersion
    /// or kind. An item whose own kind ends in `List` is not expanded.
    pub fn from_item(doc: Document, file: &Arc<str>) -> Option<Resource> {
        Some(Resource {
            id: ResourceId::of(&doc.value)?,
            source: Some(SourceRef {
                file: file.clone(),
                document: doc.index,
            }),
            positions: Some(doc.positions),
            value: doc.value,
        })
    }

    /// The source position of `path` (or of its nearest ancestor in the source).
    pub fn locate(&self, path: &FieldPath) -> Option<Pos> {
        self.positions.as_ref().map(|p| p.locate(&self.value, path))
    }

    /// The field at `path`.
    pub fn get(&self, path: &FieldPath) -> Option<&Value> {
        path.get(&self.value)
    }

    /// A field of `metadata` (`labels`, `annotations`, ...).
    pub fn meta(&self, key: &str) -> Option<&Value> {
        self.value.field("metadata").and_then(|m| m.field(key))
    }

    /// `metadata.labels` as string pairs.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        string_map(self.meta("labels"))
    }

    /// One annotation.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.meta("annotations")
            .and_then(|a| a.field(key))
            .and_then(Value::as_str)
    }
}

/// The string entries of a JSON object (non-string values are skipped).
pub fn string_map(v: Option<&Value>) -> impl Iterator<Item = (&str, &str)> {
    v.and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.iter())
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;

    #[test]
    fn lists_give_their_items_with_positions() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    hostPID: true\n";
        let doc = parse_stream(text).remove(0).unwrap();
        let file: Arc<str> = Arc::from("x.yaml");
        let res = Resource::from_document(doc, &file);
        assert_eq!(res.len(), 1);
        assert_eq!(res[0].id.name, "a");
        assert_eq!(
            res[0]
                .locate(&FieldPath::parse("spec.hostPID"))
                .unwrap()
                .line,
            8
        );
    }

    #[test]
    fn non_objects_give_nothing() {
        let doc = parse_stream("foo: bar\n").remove(0).unwrap();
        assert!(Resource::from_document(doc, &Arc::from("x")).is_empty());
    }
}
