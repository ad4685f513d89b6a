//! Where images come from: a registry (`IMAGE`), an OCI layout
//! (`oci:DIR[:TAG]`) or a `docker save` archive (`docker-archive:FILE`);
//! the manifest (platform chosen in an index), the config, then the layers
//! in order into the tree, and the classification.

use super::evidence::{classify, ConfigFacts, ImageContent};
use super::layers::{read_layer, LayerDesc};
use super::tree::Tree;
use super::{InspectCache, InspectError, InspectOptions};
use crate::reference::ImageRef;
use crate::registry::Registry;
use crate::RegistryError;
use serde_json::Value;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

mod archive;
mod layout;
mod remote;

/// Cap on a manifest, index or config read from a local source: 4 MiB.
const SMALL_MAX: u64 = 4 << 20;

/// An image to inspect.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// An image in a registry.
    Registry(ImageRef),
    /// An OCI image layout directory, and the tag (`org.opencontainers.image.ref.name`).
    Layout {
        /// The directory.
        dir: PathBuf,
        /// The tag, when given.
        tag: Option<String>,
    },
    /// A `docker save` archive.
    Archive(PathBuf),
}

impl ImageSource {
    /// Parses `IMAGE`, `oci:DIR[:TAG]` or `docker-archive:FILE`.
    pub fn parse(text: &str) -> Result<ImageSource, InspectError> {
        if let Some(rest) = text.strip_prefix("oci:") {
            let (dir, tag) = match rest.rsplit_once(':') {
                Some((d, t)) if !t.contains('/') && !d.is_empty() => (d, Some(t.to_string())),
                _ => (rest, None),
            };
            return Ok(ImageSource::Layout {
                dir: PathBuf::from(dir),
                tag,
            });
        }
        if let Some(file) = text.strip_prefix("docker-archive:") {
            return Ok(ImageSource::Archive(PathBuf::from(file)));
        }
        ImageRef::parse(text)
            .map(ImageSource::Registry)
            .map_err(|e| InspectError::Source(e.to_string()))
    }
}

/// A manifest's config and layers.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub config: Option<(String, u64)>,
    pub layers: Vec<LayerDesc>,
}

/// Inspects `source` (`shown` is the name reported). A cached result for
/// the manifest digest is returned without reading any layer.
pub async fn inspect(
    source: &ImageSource,
    shown: &str,
    registry: &Registry,
    opts: &InspectOptions,
    cache: Option<&InspectCache>,
) -> Result<ImageContent, InspectError> {
    match source {
        ImageSource::Registry(image) => remote::inspect(image, shown, registry, opts, cache).await,
        ImageSource::Layout { dir, tag } => {
            layout::inspect(dir, tag.as_deref(), shown, opts, cache)
        }
        ImageSource::Archive(file) => archive::inspect(file, shown, opts, cache),
    }
}

/// Reads layers one after another into a tree.
pub(crate) fn scan_local<F>(
    layers: &[LayerDesc],
    opts: &InspectOptions,
    mut open: F,
) -> Result<Tree, InspectError>
where
    F: FnMut(&LayerDesc) -> Result<Box<dyn Read>, InspectError>,
{
    let mut tree = Tree::default();
    let mut left = opts.max_decompressed;
    for desc in layers {
        let reader = open(desc)?;
        let room = opts.max_entries.saturating_sub(tree.len());
        let changes = read_layer(reader, desc, &mut left, opts.max_decompressed, room)?;
        tree.apply(changes);
    }
    Ok(tree)
}

/// Finishes an inspection: classification and cache.
pub(crate) fn finish(
    shown: &str,
    digest: &str,
    tree: &Tree,
    config: &[u8],
    cache: Option<&InspectCache>,
) -> Result<ImageContent, InspectError> {
    let v: Value = serde_json::from_slice(config).map_err(|e| InspectError::Manifest {
        what: "image config".into(),
        message: format!("not JSON: {e}"),
    })?;
    let content = classify(shown, digest, tree, &ConfigFacts::from_config(&v));
    if let Some(c) = cache {
        c.put(&content);
    }
    Ok(content)
}

/// Whether a manifest document is an index (or Docker manifest list).
pub(crate) fn is_index(v: &Value) -> bool {
    v.get("manifests").is_some_and(Value::is_array)
}

/// The digest of the manifest an index lists for `platform` (`os/arch[/variant]`).
pub(crate) fn pick_platform(index: &Value, platform: &str) -> Result<(String, u64), InspectError> {
    let mut want = platform.split('/');
    let (os, arch, variant) = (want.next(), want.next(), want.next());
    let mut offered = Vec::new();
    for m in index["manifests"].as_array().into_iter().flatten() {
        let p = &m["platform"];
        let (mo, ma, mv) = (
            p["os"].as_str(),
            p["architecture"].as_str(),
            p["variant"].as_str(),
        );
        offered.push(
            [mo, ma, mv]
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .join("/"),
        );
        if mo == os && ma == arch && (variant.is_none() || mv == variant) {
            return descriptor(m, "index entry");
        }
    }
    Err(InspectError::Platform {
        platform: platform.into(),
        offered: offered.join(", "),
    })
}

/// `(digest, size)` of a descriptor, the digest checked.
pub(crate) fn descriptor(v: &Value, what: &str) -> Result<(String, u64), InspectError> {
    let bad = |message: String| InspectError::Manifest {
        what: what.into(),
        message,
    };
    let digest = v["digest"]
        .as_str()
        .ok_or_else(|| bad("descriptor without a digest".into()))?;
    crate::reference::check_digest(digest).map_err(bad)?;
    let size = v["size"]
        .as_u64()
        .ok_or_else(|| bad(format!("descriptor {digest} without a valid size")))?;
    Ok((digest.to_string(), size))
}

/// The config and layers of an image manifest.
pub(crate) fn parse_manifest(v: &Value) -> Result<Parsed, InspectError> {
    let bad = |message: &str| InspectError::Manifest {
        what: "manifest".into(),
        message: message.into(),
    };
    if !v.is_object() {
        return Err(bad("not a JSON object"));
    }
    let config = descriptor(&v["config"], "manifest config")?;
    let layers = v["layers"]
        .as_array()
        .ok_or_else(|| bad("no `layers` array"))?
        .iter()
        .map(|l| {
            descriptor(l, "manifest layer").map(|(digest, size)| LayerDesc {
                digest,
                size,
                verify: true,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Parsed {
        config: Some(config),
        layers,
    })
}

/// Reads a small local file (manifest, config) up to the cap.
pub(crate) fn read_small(path: &Path, what: &str) -> Result<Vec<u8>, InspectError> {
    let f = std::fs::File::open(path).map_err(|source| InspectError::Io {
        what: format!("{what} {}", path.display()),
        source,
    })?;
    read_capped(f, what)
}

/// Reads at most [`SMALL_MAX`] bytes.
pub(crate) fn read_capped<R: Read>(r: R, what: &str) -> Result<Vec<u8>, InspectError> {
    let mut buf = Vec::new();
    r.take(SMALL_MAX + 1)
        .read_to_end(&mut buf)
        .map_err(|source| InspectError::Io {
            what: what.into(),
            source,
        })?;
    if buf.len() as u64 > SMALL_MAX {
        return Err(InspectError::Registry(RegistryError::TooLarge {
            what: what.into(),
            cap: SMALL_MAX as usize,
        }));
    }
    Ok(buf)
}

/// A section of a file, as a reader.
pub(crate) fn section(path: &Path, offset: u64, len: u64) -> Result<Box<dyn Read>, InspectError> {
    let io = |source| InspectError::Io {
        what: path.display().to_string(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    f.seek(SeekFrom::Start(offset)).map_err(io)?;
    Ok(Box::new(std::io::BufReader::new(f).take(len)))
}

/// JSON of a small document.
pub(crate) fn json(bytes: &[u8], what: &str) -> Result<Value, InspectError> {
    serde_json::from_slice(bytes).map_err(|e| InspectError::Manifest {
        what: what.into(),
        message: format!("not JSON: {e}"),
    })
}
