//! An OCI image layout directory (`index.json`, `blobs/sha256/...`).

use super::{
    descriptor, finish, is_index, json, parse_manifest, pick_platform, read_small, scan_local,
};
use crate::inspect::{ImageContent, InspectCache, InspectError, InspectOptions};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    let (alg, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    dir.join("blobs").join(alg).join(hex)
}

fn read_blob(dir: &Path, digest: &str, what: &str) -> Result<Vec<u8>, InspectError> {
    let path = blob_path(dir, digest);
    if !path.exists() {
        return Err(InspectError::MissingBlob(digest.into()));
    }
    let data = read_small(&path, what)?;
    let sum = crate::registry::sha256_digest(&data);
    if sum != digest {
        return Err(InspectError::DigestMismatch(digest.into()));
    }
    Ok(data)
}

/// The manifest `tag` names in the layout's index (the only one when no
/// tag is given), through nested indexes to the platform's manifest.
fn manifest(
    dir: &Path,
    tag: Option<&str>,
    platform: &str,
) -> Result<(String, Value), InspectError> {
    let index = json(
        &read_small(&dir.join("index.json"), "index.json")?,
        "index.json",
    )?;
    let entries = index["manifests"].as_array().cloned().unwrap_or_default();
    let chosen = match tag {
        Some(t) => entries.iter().find(|m| {
            m.pointer("/annotations/org.opencontainers.image.ref.name")
                .and_then(Value::as_str)
                == Some(t)
        }),
        None if entries.len() == 1 => entries.first(),
        None => None,
    };
    let Some(entry) = chosen else {
        return Err(InspectError::Source(format!(
            "{}: no manifest {} in index.json ({} entries)",
            dir.display(),
            tag.map(|t| format!("tagged {t:?}"))
                .unwrap_or_else(|| "chosen: give oci:DIR:TAG".into()),
            entries.len()
        )));
    };
    let (mut digest, _) = descriptor(entry, "index.json entry")?;
    for _ in 0..4 {
        let doc = json(&read_blob(dir, &digest, "manifest")?, "manifest")?;
        if !is_index(&doc) {
            return Ok((digest, doc));
        }
        digest = pick_platform(&doc, platform)?.0;
    }
    Err(InspectError::Source("indexes nested too deep".into()))
}

/// Inspects the image `tag` of the layout at `dir`.
pub fn inspect(
    dir: &Path,
    tag: Option<&str>,
    shown: &str,
    opts: &InspectOptions,
    cache: Option<&InspectCache>,
) -> Result<ImageContent, InspectError> {
    let (digest, doc) = manifest(dir, tag, &opts.platform)?;
    if let Some(hit) = cache.and_then(|c| c.get(&digest, shown)) {
        return Ok(hit);
    }
    let parsed = parse_manifest(&doc)?;
    let config = match &parsed.config {
        Some((d, _)) => read_blob(dir, d, "image config")?,
        None => b"{}".to_vec(),
    };
    let tree = scan_local(&parsed.layers, opts, |desc| {
        let path = blob_path(dir, &desc.digest);
        let f = std::fs::File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => InspectError::MissingBlob(desc.digest.clone()),
            _ => InspectError::Io {
                what: path.display().to_string(),
                source: e,
            },
        })?;
        Ok(Box::new(f) as Box<dyn Read>)
    })?;
    finish(shown, &digest, &tree, &config, cache)
}
