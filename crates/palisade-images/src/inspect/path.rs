//! Paths inside an image: tar entry names made absolute and checked (a
//! `..` that climbs out of the root is refused), and link targets joined
//! the way a container runtime resolves them (inside the root, never
//! above it).

/// The absolute form (`/a/b`) of a tar entry name (`./a/b`, `a/b/`, `/a/b`).
/// `..` components that climb out of the root are an error; `/` itself
/// is returned as `"/"`.
pub fn entry_path(name: &[u8]) -> Result<String, String> {
    let name = std::str::from_utf8(name)
        .map_err(|_| format!("path {:?} is not UTF-8", String::from_utf8_lossy(name)))?;
    if name.contains('\0') {
        return Err(format!("path {name:?} holds a NUL byte"));
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("path {name:?} climbs out of the image root"));
                }
            }
            c => parts.push(c),
        }
    }
    Ok(join(&parts))
}

/// `/` followed by `parts` joined with `/`.
pub fn join<S: AsRef<str>>(parts: &[S]) -> String {
    if parts.is_empty() {
        return "/".into();
    }
    let mut s = String::new();
    for p in parts {
        s.push('/');
        s.push_str(p.as_ref());
    }
    s
}

/// The parent directory of an absolute path (`/` for `/a`).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last component of a path.
pub fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The components of a path, skipping empty ones and `.`.
pub fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_paths() {
        assert_eq!(entry_path(b"./bin/sh").unwrap(), "/bin/sh");
        assert_eq!(entry_path(b"usr/bin/").unwrap(), "/usr/bin");
        assert_eq!(entry_path(b"/etc//passwd").unwrap(), "/etc/passwd");
        assert_eq!(entry_path(b"a/../b").unwrap(), "/b");
        assert_eq!(entry_path(b"./").unwrap(), "/");
        assert!(entry_path(b"../etc/passwd")
            .unwrap_err()
            .contains("climbs out"));
        assert!(entry_path(b"a/../../x").is_err());
        assert!(entry_path(b"\xff").is_err());
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(base("/a/b"), "b");
    }
}
