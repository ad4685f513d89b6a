//! Whether names are ones Kubernetes accepts, so that identities that can
//! never exist (`${NAMESPACE:-default}`, names with capitals) are not
//! offered as evidence.

/// A DNS-1123 label (namespaces): at most 63 lower-case alphanumerics or
/// `-`, starting and ending with an alphanumeric.
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain (service account names): at most 253 characters,
/// dot-separated DNS-1123 labels.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_dns1123_label("kube-system"));
        assert!(!is_dns1123_label("${NAMESPACE:-default}"));
        assert!(!is_dns1123_label("Default"));
        assert!(!is_dns1123_label("-a"));
        assert!(is_dns1123_subdomain("my.sa-1"));
        assert!(!is_dns1123_subdomain("{{ .Values.sa }}"));
        assert!(!is_dns1123_subdomain(""));
    }
}
