//! An image in a registry: manifests and config through the capped client,
//! layers as chunk streams handed to a blocking reader thread over a
//! bounded channel (a few chunks in flight, never a whole layer).

use super::{finish, is_index, json, parse_manifest, pick_platform};
use crate::inspect::layers::{read_layer, LayerDesc};
use crate::inspect::tree::Tree;
use crate::inspect::{ImageContent, InspectCache, InspectError, InspectOptions};
use crate::reference::ImageRef;
use crate::registry::Registry;
use crate::RegistryError;
use futures_util::StreamExt;
use std::io::{self, Read};

/// Chunks in flight between the network and the reader.
const IN_FLIGHT: usize = 4;

/// Inspects `image` in its registry.
pub async fn inspect(
    image: &ImageRef,
    shown: &str,
    registry: &Registry,
    opts: &InspectOptions,
    cache: Option<&InspectCache>,
) -> Result<ImageContent, InspectError> {
    let missing = |e: RegistryError, digest: &str| match e {
        RegistryError::NotFound(_) => InspectError::MissingBlob(digest.to_string()),
        other => InspectError::Registry(other),
    };
    if let Some(hit) = image.digest().and_then(|d| cache?.get(d, shown)) {
        return Ok(hit); // a pinned digest's content never changes: no registry call
    }
    let mut r = image.oci().clone();
    let mut found = None;
    for _ in 0..3 {
        let Some((body, digest)) = registry.manifest(&r).await? else {
            return Err(RegistryError::NotFound(image.to_string()).into());
        };
        let doc = json(&body, "manifest")?;
        if !is_index(&doc) {
            found = Some((digest, doc));
            break;
        }
        let (d, _) = pick_platform(&doc, &opts.platform)?;
        r = image.with_digest(&d);
    }
    let Some((digest, doc)) = found else {
        return Err(InspectError::Source("indexes nested too deep".into()));
    };
    if let Some(hit) = cache.and_then(|c| c.get(&digest, shown)) {
        return Ok(hit);
    }
    let parsed = parse_manifest(&doc)?;
    let config = match &parsed.config {
        Some((d, size)) => registry
            .blob(&r, d, i64::try_from(*size).unwrap_or(i64::MAX))
            .await
            .map_err(|e| missing(e, d))?,
        None => b"{}".to_vec(),
    };
    let tree = scan(registry, &r, &parsed.layers, opts).await?;
    finish(shown, &digest, &tree, &config, cache)
}

/// Reads the layers in order into a tree.
async fn scan(
    registry: &Registry,
    r: &oci_client::Reference,
    layers: &[LayerDesc],
    opts: &InspectOptions,
) -> Result<Tree, InspectError> {
    let mut tree = Tree::default();
    let mut left = opts.max_decompressed;
    for desc in layers {
        let size = i64::try_from(desc.size).unwrap_or(i64::MAX);
        let mut stream =
            registry
                .blob_stream(r, &desc.digest, size)
                .await
                .map_err(|e| match e {
                    RegistryError::NotFound(_) => InspectError::MissingBlob(desc.digest.clone()),
                    other => InspectError::Registry(other),
                })?;
        let (tx, rx) = tokio::sync::mpsc::channel(IN_FLIGHT);
        let room = opts.max_entries.saturating_sub(tree.len());
        let (d, cap) = (desc.clone(), opts.max_decompressed);
        let reader = tokio::task::spawn_blocking(move || {
            let r = read_layer(
                ChannelReader {
                    rx,
                    cur: None,
                    pos: 0,
                },
                &d,
                &mut left,
                cap,
                room,
            );
            (r, left)
        });
        let pump = async move {
            while let Some(chunk) = stream.next().await {
                let stop = chunk.is_err();
                if tx.send(chunk).await.is_err() || stop {
                    break;
                }
            }
        };
        let ((), joined) = tokio::join!(pump, reader);
        let (changes, rest) =
            joined.map_err(|e| InspectError::Source(format!("layer reader failed: {e}")))?;
        left = rest;
        tree.apply(changes?);
    }
    Ok(tree)
}

/// The blocking end of the channel, as a reader.
struct ChannelReader<B> {
    rx: tokio::sync::mpsc::Receiver<io::Result<B>>,
    cur: Option<B>,
    pos: usize,
}

impl<B: AsRef<[u8]>> Read for ChannelReader<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(chunk) = &self.cur {
                let data = &chunk.as_ref()[self.pos..];
                if !data.is_empty() {
                    let n = data.len().min(buf.len());
                    buf[..n].copy_from_slice(&data[..n]);
                    self.pos += n;
                    return Ok(n);
                }
            }
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Err(e)) => return Err(e),
                Some(Ok(chunk)) => {
                    self.cur = Some(chunk);
                    self.pos = 0;
                }
            }
        }
    }
}
