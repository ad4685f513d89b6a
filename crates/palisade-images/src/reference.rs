//! Image references as the kubelet reads them (`nginx` is
//! `docker.io/library/nginx:latest`), the tags cosign derives from a digest,
//! and the globs image policies match them with.

use crate::error::ImageError;
use oci_client::Reference;
use std::fmt;

/// A parsed image reference.
#[derive(Debug, Clone)]
pub struct ImageRef {
    oci: Reference,
}

impl ImageRef {
    /// Parses `text` (a container's `image`).
    pub fn parse(text: &str) -> Result<ImageRef, ImageError> {
        let bad = |message: String| ImageError::Reference {
            reference: text.to_string(),
            message,
        };
        if text.trim() != text || text.is_empty() {
            return Err(bad("empty or surrounded by spaces".into()));
        }
        let oci = Reference::try_from(text).map_err(|e| bad(e.to_string()))?;
        if oci.repository().bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad("repository names are lowercase".into()));
        }
        if let Some(d) = oci.digest() {
            check_digest(d).map_err(bad)?;
        }
        Ok(ImageRef { oci })
    }

    /// The oci-client reference.
    pub fn oci(&self) -> &Reference {
        &self.oci
    }

    /// The digest, when the reference pins one.
    pub fn digest(&self) -> Option<&str> {
        self.oci.digest()
    }

    /// `registry/repository`, normalised (`docker.io/library/nginx`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.oci.registry(), self.oci.repository())
    }

    /// The same repository at `tag`.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference::with_tag(
            self.oci.registry().to_string(),
            self.oci.repository().to_string(),
            tag.to_string(),
        )
    }

    /// The same repository at `digest`.
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference::with_digest(
            self.oci.registry().to_string(),
            self.oci.repository().to_string(),
            digest.to_string(),
        )
    }
}

impl fmt::Display for ImageRef {
    /// The normalised reference: `registry/repository[:tag][@digest]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(t) = self.oci.tag() {
            write!(f, ":{t}")?;
        }
        if let Some(d) = self.oci.digest() {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Checks a `sha256:<64 lowercase hex>` digest.
pub fn check_digest(d: &str) -> Result<&str, String> {
    let hex = d
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("digest {d:?} is not sha256"))?;
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!("digest {d:?} is not 64 lowercase hex digits"));
    }
    Ok(hex)
}

/// cosign's tag for what is attached to `digest`: `sha256-<hex>.<suffix>`
/// (`sig`, `att`), or the referrers fallback tag with an empty suffix.
pub fn attached_tag(digest: &str, suffix: &str) -> String {
    let tag = digest.replacen(':', "-", 1);
    if suffix.is_empty() {
        tag
    } else {
        format!("{tag}.{suffix}")
    }
}

/// A compiled set of reference globs.
#[derive(Debug, Clone)]
pub struct RefGlobs {
    set: globset::GlobSet,
}

impl RefGlobs {
    /// Compiles `globs`: `*` stays within a path segment, `**` crosses them.
    /// The error names the glob's index.
    pub fn new(globs: &[String]) -> Result<RefGlobs, (usize, String)> {
        let mut b = globset::GlobSetBuilder::new();
        for (i, g) in globs.iter().enumerate() {
            let glob = globset::GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .map_err(|e| (i, e.to_string()))?;
            b.add(glob);
        }
        let set = b.build().map_err(|e| (0, e.to_string()))?;
        Ok(RefGlobs { set })
    }

    /// Whether a glob matches the normalised reference, or its
    /// `registry/repository` alone.
    pub fn matches(&self, image: &ImageRef) -> bool {
        self.set.is_match(image.to_string()) || self.set.is_match(image.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_the_kubelet() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/nginx:latest");
        let r = ImageRef::parse("127.0.0.1:5000/demo/app:v1").unwrap();
        assert_eq!(r.to_string(), "127.0.0.1:5000/demo/app:v1");
        assert!(ImageRef::parse("a@sha256:12").is_err());
        assert!(ImageRef::parse(" nginx").is_err());
        assert!(ImageRef::parse("UPPER/case").is_err());
    }

    #[test]
    fn globs_stay_in_segments() {
        let g =
            RefGlobs::new(&["127.0.0.1:*/demo/*".into(), "reg.example/shop/**".into()]).unwrap();
        let m = |s: &str| g.matches(&ImageRef::parse(s).unwrap());
        assert!(m("127.0.0.1:5000/demo/app:v1"));
        assert!(!m("127.0.0.1:5000/demo/x/app:v1"));
        assert!(m("reg.example/shop/a/b:1"));
        assert!(!m("reg.example/other/a:1"));
        assert!(RefGlobs::new(&["a[".into()]).is_err());
    }

    #[test]
    fn cosign_tags() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            attached_tag(&d, "sig"),
            format!("sha256-{}.sig", "a".repeat(64))
        );
        assert_eq!(attached_tag(&d, ""), format!("sha256-{}", "a".repeat(64)));
    }
}
