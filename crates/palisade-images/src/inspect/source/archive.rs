//! A `docker save` archive: `manifest.json` names the config and the layer
//! files; each layer is read in place (an offset and a length in the
//! archive), never extracted.

use super::{finish, json, read_capped, scan_local, section};
use crate::inspect::layers::LayerDesc;
use crate::inspect::{ImageContent, InspectCache, InspectError, InspectOptions};
use std::collections::HashMap;
use std::path::Path;

/// Offset and size of every file of the archive.
fn index(file: &Path) -> Result<HashMap<String, (u64, u64)>, InspectError> {
    let io = |source| InspectError::Io {
        what: file.display().to_string(),
        source,
    };
    let f = std::fs::File::open(file).map_err(io)?;
    let mut ar = tar::Archive::new(f);
    let mut out = HashMap::new();
    for entry in ar.entries_with_seek().map_err(io)? {
        let entry = entry.map_err(|e| {
            InspectError::Source(format!("{}: not a docker archive: {e}", file.display()))
        })?;
        let name = String::from_utf8_lossy(&entry.path_bytes())
            .trim_start_matches("./")
            .to_string();
        out.insert(name, (entry.raw_file_position(), entry.size()));
    }
    Ok(out)
}

/// Inspects the first image of the archive.
pub fn inspect(
    file: &Path,
    shown: &str,
    opts: &InspectOptions,
    cache: Option<&InspectCache>,
) -> Result<ImageContent, InspectError> {
    let files = index(file)?;
    let member = |name: &str| {
        files
            .get(name.trim_start_matches("./"))
            .copied()
            .ok_or_else(|| InspectError::MissingBlob(format!("{name} (in {})", file.display())))
    };
    let (off, len) = member("manifest.json")?;
    let manifest = json(
        &read_capped(section(file, off, len)?, "manifest.json")?,
        "manifest.json",
    )?;
    let first = &manifest[0];
    let config_name = first["Config"]
        .as_str()
        .ok_or_else(|| InspectError::Manifest {
            what: "manifest.json".into(),
            message: "no Config in the first entry".into(),
        })?;
    let (off, len) = member(config_name)?;
    let config = read_capped(section(file, off, len)?, "image config")?;
    // The image ID (the config's digest) stands for the manifest digest.
    let digest = crate::registry::sha256_digest(&config);
    if let Some(hit) = cache.and_then(|c| c.get(&digest, shown)) {
        return Ok(hit);
    }
    let mut layers = Vec::new();
    for l in first["Layers"].as_array().into_iter().flatten() {
        let name = l.as_str().unwrap_or_default();
        let (_, size) = member(name)?;
        let known = name
            .strip_prefix("blobs/sha256/")
            .map(|h| format!("sha256:{h}"));
        layers.push(LayerDesc {
            verify: known.is_some(),
            digest: known.unwrap_or_else(|| name.to_string()),
            size,
        });
    }
    let names: Vec<String> = first["Layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    let mut next = names.iter();
    let tree = scan_local(&layers, opts, |_| {
        let name = next.next().map(String::as_str).unwrap_or_default();
        let (off, len) = member(name)?;
        section(file, off, len)
    })?;
    finish(shown, &digest, &tree, &config, cache)
}
