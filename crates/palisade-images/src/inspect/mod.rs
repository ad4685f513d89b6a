//! Image content inspection: what an attacker who gets into a container
//! finds there. The layers are read as streams (gzip, zstd or plain tar), in
//! order, applying whiteouts, without unpacking to disk and without holding
//! a layer in memory; what remains is classified ([`evidence`]) into shells,
//! package managers, tools and setuid files.
//!
//! - [`path`] and [`tree`]: the merged file tree (metadata only) with
//!   whiteouts and in-root symlink resolution.
//! - [`layers`]: one layer stream: decompression, digest and size checks,
//!   the decompressed-bytes cap, tar entries.
//! - [`source`]: where images come from (registry, OCI layout, docker
//!   archive); [`cache`]: results by digest, in memory and on disk.

pub mod cache;
pub mod evidence;
pub mod layers;
pub mod path;
pub mod provider;
pub mod source;
pub mod tree;

pub use cache::InspectCache;
pub use evidence::ImageContent;
pub use provider::{ContentInspector, ContentProvider};
pub use source::{inspect, ImageSource};

/// Default cap on the decompressed bytes read for one image: 2 GiB.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 2 << 30;
/// Default cap on the entries of the merged file tree.
pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;

/// Limits and choices of one inspection.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// The platform chosen in an index: `os/arch[/variant]`.
    pub platform: String,
    /// Cap on decompressed layer bytes for the whole image.
    pub max_decompressed: u64,
    /// Cap on the entries of the merged tree.
    pub max_entries: usize,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions {
            platform: "linux/amd64".into(),
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
            max_entries: DEFAULT_MAX_ENTRIES,
        }
    }
}

/// Why an image could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] crate::RegistryError),
    /// A bad reference or source.
    #[error("{0}")]
    Source(String),
    /// A file could not be read.
    #[error("cannot read {what}: {source}")]
    Io {
        /// What was read.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A manifest, index or config that is not what it should be.
    #[error("{what}: {message}")]
    Manifest {
        /// Which document.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// No manifest of the index matches the platform.
    #[error("no manifest for platform {platform} (index offers: {offered})")]
    Platform {
        /// The platform asked for.
        platform: String,
        /// The platforms the index lists.
        offered: String,
    },
    /// A blob the manifest names is not there.
    #[error("blob {0} is missing")]
    MissingBlob(String),
    /// A layer that cannot be read (not a tar, a path escaping the root...).
    #[error("layer {digest}: {message}")]
    Layer {
        /// The layer's digest.
        digest: String,
        /// What is wrong.
        message: String,
    },
    /// A blob whose length differs from its descriptor's.
    #[error("blob {digest}: the manifest says {claimed} bytes, {actual}")]
    SizeMismatch {
        /// The blob's digest.
        digest: String,
        /// The size the descriptor claims.
        claimed: u64,
        /// What was read (`N bytes` or `more`).
        actual: String,
    },
    /// A blob whose content does not hash to its digest.
    #[error("blob {0}: content does not match its digest")]
    DigestMismatch(String),
    /// The decompressed layers exceed the cap (a decompression bomb?).
    #[error("layer {digest}: more than {cap} bytes of decompressed data for the image (cap; a decompression bomb?)")]
    TooLarge {
        /// The layer where the cap was reached.
        digest: String,
        /// The cap.
        cap: u64,
    },
    /// More entries than the cap.
    #[error("more than {0} files in the image (cap)")]
    TooManyEntries(usize),
}
