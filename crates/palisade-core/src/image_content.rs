//! Image content as the inspection found it (palisade-images reads the
//! layers; the image content rules read the results from the context's
//! [`ImageContents`]) and the `imageContent:` settings of `palisade.yaml`.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What an inspection reports (the JSON of `palisade image inspect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageContent {
    /// The image as given.
    pub image: String,
    /// The manifest digest.
    pub digest: String,
    /// No shell and no package manager.
    pub minimal: bool,
    /// Shells: paths of shell binaries and of busybox applet links named as shells.
    pub shells: Vec<String>,
    /// Package managers and their databases (paths).
    pub package_managers: Vec<String>,
    /// Other attacker tools (curl, wget, nc...; paths).
    pub tools: Vec<String>,
    /// Files with the setuid or setgid bit.
    pub setuid: Vec<String>,
    /// The configured user (`config.User`), as written.
    pub user: String,
    /// The user is root: empty, `0`, `root`, or a name `/etc/passwd` maps to uid 0.
    pub runs_as_root: bool,
    /// The config's creation date (RFC 3339), when it has one.
    pub created: Option<String>,
    /// The base OS from `os-release` (`PRETTY_NAME`).
    pub os: Option<String>,
    /// Total size of the regular files of the merged tree.
    pub size_bytes: u64,
}

impl ImageContent {
    /// Every evidence path (shells, package managers, tools), sorted.
    pub fn evidence(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .shells
            .iter()
            .chain(&self.package_managers)
            .chain(&self.tools)
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// The inspection results of the images a front door inspected, keyed by
/// the reference as written in the object. An `Err` says why an image was
/// not inspected (registry error, hostile layer, not yet inspected).
#[derive(Debug, Clone, Default)]
pub struct ImageContents {
    /// Reference (as written) -> result.
    pub images: HashMap<String, Result<ImageContent, String>>,
}

/// Default of `imageContent.maxImageAgeDays`.
pub const DEFAULT_MAX_IMAGE_AGE_DAYS: u32 = 90;

/// The `imageContent:` section of `palisade.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageContentSettings {
    /// `image-stale` reports images built more than this many days ago.
    #[serde(default = "default_age")]
    pub max_image_age_days: u32,
    /// Paths never counted as evidence (`/busybox/sh` of debug images).
    #[serde(default)]
    pub allow_paths: Vec<String>,
    /// Which rules do not apply to which images.
    #[serde(default)]
    pub skip: Vec<ImageRuleSkip>,
    /// `palisade serve` inspects the images of admitted objects (in the
    /// background, results cached by digest) and runs the rules on them.
    #[serde(default)]
    pub inspect_at_admission: bool,
    /// Inspections running at once at admission (default 2).
    pub max_concurrent_inspections: Option<usize>,
    /// How long an inspection result is kept at admission, in seconds
    /// (default 86400; a digest's content never changes).
    pub cache_ttl_seconds: Option<u64>,
}

fn default_age() -> u32 {
    DEFAULT_MAX_IMAGE_AGE_DAYS
}

impl Default for ImageContentSettings {
    fn default() -> Self {
        ImageContentSettings {
            max_image_age_days: DEFAULT_MAX_IMAGE_AGE_DAYS,
            allow_paths: Vec::new(),
            skip: Vec::new(),
            inspect_at_admission: false,
            max_concurrent_inspections: None,
            cache_ttl_seconds: None,
        }
    }
}

/// Rules that do not apply to the images matching globs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageRuleSkip {
    /// Reference globs (`*` within a path segment, `**` across).
    pub images: Vec<String>,
    /// Rule IDs (`image-not-minimal`, `image-runs-as-root`, `image-stale`).
    pub rules: Vec<String>,
}
