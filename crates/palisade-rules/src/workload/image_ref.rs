//! Container image references: `[registry[:port]/]repository[:tag][@digest]`.

/// A parsed image reference. Parsing never fails: anything that is not a
/// valid part is kept as text, and [`ImageRef::pinned`] checks the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The registry host (with port), when the reference names one
    /// (`ghcr.io`, `localhost:5000`); `None` means Docker Hub.
    pub registry: Option<&'a str>,
    /// The repository path, e.g. `library/nginx` or `nginx`.
    pub repository: &'a str,
    /// The tag, when present and not empty.
    pub tag: Option<&'a str>,
    /// The digest after `@`, when present (not necessarily valid).
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Splits `image` into its parts.
    pub fn parse(image: &'a str) -> ImageRef<'a> {
        let image = image.trim();
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (image, None),
        };
        let last_slash = name.rfind('/');
        let (name, tag) = match name.rfind(':') {
            Some(colon) if last_slash.is_none_or(|s| colon > s) => {
                (&name[..colon], Some(&name[colon + 1..]))
            }
            _ => (name, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), rest)
            }
            _ => (None, name),
        };
        ImageRef {
            registry,
            repository,
            tag: tag.filter(|t| !t.is_empty()),
            digest,
        }
    }

    /// Whether the digest is a well-formed `sha256:` (64 hex digits) or
    /// `sha512:` (128 hex digits) content digest.
    pub fn pinned(&self) -> bool {
        let Some(d) = self.digest else { return false };
        let hex_of =
            |len: usize, h: &str| h.len() == len && h.bytes().all(|b| b.is_ascii_hexdigit());
        match d.split_once(':') {
            Some(("sha256", h)) => hex_of(64, h),
            Some(("sha512", h)) => hex_of(128, h),
            _ => false,
        }
    }

    /// The tag the runtime pulls: the given one, or `latest` when there is
    /// neither a tag nor a digest. `None` when only a digest is given.
    pub fn effective_tag(&self) -> Option<&'a str> {
        match (self.tag, self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ImageRef;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parts(s: &str) -> (Option<&str>, &str, Option<&str>, Option<&str>) {
        let r = ImageRef::parse(s);
        (r.registry, r.repository, r.tag, r.digest)
    }

    #[test]
    fn plain_names_and_tags() {
        assert_eq!(parts("nginx"), (None, "nginx", None, None));
        assert_eq!(parts("nginx:1.27"), (None, "nginx", Some("1.27"), None));
        assert_eq!(
            parts("library/nginx:latest"),
            (None, "library/nginx", Some("latest"), None)
        );
        assert_eq!(parts("nginx:"), (None, "nginx", None, None));
    }

    #[test]
    fn registries_with_ports_are_not_tags() {
        assert_eq!(
            parts("localhost:5000/app"),
            (Some("localhost:5000"), "app", None, None)
        );
        assert_eq!(
            parts("registry.example.com:5000/team/app:v2"),
            (
                Some("registry.example.com:5000"),
                "team/app",
                Some("v2"),
                None
            )
        );
        assert_eq!(
            parts("ghcr.io/org/app"),
            (Some("ghcr.io"), "org/app", None, None)
        );
        assert_eq!(
            parts("localhost/app:1"),
            (Some("localhost"), "app", Some("1"), None)
        );
    }

    #[test]
    fn digests() {
        let with_tag = format!("quay.io/x/y:1.0@{SHA}");
        assert_eq!(
            parts(&with_tag),
            (Some("quay.io"), "x/y", Some("1.0"), Some(SHA))
        );
        assert!(ImageRef::parse(&with_tag).pinned());
        let port_digest = format!("reg:5000/y@{SHA}");
        let r = ImageRef::parse(&port_digest);
        assert_eq!((r.registry, r.tag), (Some("reg:5000"), None));
        assert!(r.pinned());
        assert_eq!(r.effective_tag(), None);
    }

    #[test]
    fn malformed_digests_do_not_pin() {
        assert!(!ImageRef::parse("nginx@sha256:abc").pinned());
        assert!(!ImageRef::parse("nginx@md5:0123456789abcdef0123456789abcdef").pinned());
        assert!(!ImageRef::parse("nginx@").pinned());
        assert!(!ImageRef::parse(&format!("nginx@{}x", SHA)).pinned());
        assert!(!ImageRef::parse("nginx:1.0").pinned());
    }

    #[test]
    fn effective_tags() {
        assert_eq!(ImageRef::parse("nginx").effective_tag(), Some("latest"));
        assert_eq!(
            ImageRef::parse("nginx:latest").effective_tag(),
            Some("latest")
        );
        assert_eq!(ImageRef::parse("nginx:1").effective_tag(), Some("1"));
        assert_eq!(ImageRef::parse(" nginx:1 ").effective_tag(), Some("1"));
    }
}
