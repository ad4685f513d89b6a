//! Inspection results by manifest digest: a digest's content never
//! changes, so a result is kept in memory and, for the CLI, on disk under
//! the user cache directory (`$XDG_CACHE_HOME/palisade/inspect`, else
//! `~/.cache/palisade/inspect`; `PALISADE_CACHE_DIR` overrides the base).

use super::evidence::ImageContent;
use crate::cache::TtlCache;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bumped when the classification changes, so older results on disk are
/// not reused.
const FORMAT: &str = "v1";

/// The cache.
pub struct InspectCache {
    memory: TtlCache<ImageContent>,
    dir: Option<PathBuf>,
}

impl InspectCache {
    /// A memory-only cache of at most `max` results.
    pub fn memory(max: usize) -> Self {
        InspectCache {
            memory: TtlCache::new(Duration::from_secs(365 * 24 * 3600), max),
            dir: None,
        }
    }

    /// A cache also kept in `dir`.
    pub fn with_dir(max: usize, dir: PathBuf) -> Self {
        InspectCache {
            dir: Some(dir),
            ..Self::memory(max)
        }
    }

    /// The user's cache directory for inspection results.
    pub fn user_dir() -> Option<PathBuf> {
        let base = std::env::var_os("PALISADE_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| Path::new(&d).join("palisade")))
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/palisade")))?;
        Some(base.join("inspect"))
    }

    fn file(&self, digest: &str) -> Option<PathBuf> {
        let hex = crate::reference::check_digest(digest).ok()?;
        Some(
            self.dir
                .as_ref()?
                .join(format!("{FORMAT}-sha256-{hex}.json")),
        )
    }

    /// The result for `digest`, reported for `image`.
    pub fn get(&self, digest: &str, image: &str) -> Option<ImageContent> {
        let mut found = self.memory.get(digest).or_else(|| {
            let text = std::fs::read(self.file(digest)?).ok()?;
            let c: ImageContent = serde_json::from_slice(&text).ok()?;
            (c.digest == digest).then_some(c)
        })?;
        self.memory.put(digest.to_string(), found.clone());
        found.image = image.to_string();
        Some(found)
    }

    /// Keeps `content` (on disk too, best effort: a cache that cannot be
    /// written only costs a new inspection).
    pub fn put(&self, content: &ImageContent) {
        self.memory.put(content.digest.clone(), content.clone());
        let Some(file) = self.file(&content.digest) else {
            return;
        };
        let Some(dir) = file.parent() else { return };
        let Ok(json) = serde_json::to_vec(content) else {
            return;
        };
        let tmp = dir.join(format!(".{}.tmp", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&tmp, json))
            .and_then(|()| std::fs::rename(&tmp, &file));
        if let Err(e) = written {
            tracing::debug!("inspection cache not written to {}: {e}", file.display());
        }
    }
}
