//! The merged file tree of an image: metadata only (kind, mode, size, link
//! target), plus the content of the few small files the report reads
//! (`os-release`, `passwd`). Layers apply in order; a layer's whiteouts
//! (`.wh.NAME`) and opaque directories (`.wh..wh..opq`) remove what the
//! layers below it hold, never what the same layer adds.

use super::path::{components, join};
use std::collections::BTreeMap;

/// One entry of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory.
    Dir {
        /// Its permission bits.
        mode: u32,
    },
    /// A regular file (or device, fifo: anything with no target).
    File {
        /// Its size in bytes.
        size: u64,
        /// Its permission bits (with setuid/setgid).
        mode: u32,
        /// Its content, for the few files the report reads.
        content: Option<Vec<u8>>,
    },
    /// A symbolic link and its target as written.
    Symlink(String),
    /// A hard link to another path of the image (absolute).
    Hardlink(String),
}

/// What one layer changes.
#[derive(Debug, Default)]
pub struct LayerChanges {
    /// Entries added or replaced, in archive order.
    pub added: Vec<(String, Node)>,
    /// Paths deleted by `.wh.NAME` files.
    pub whiteouts: Vec<String>,
    /// Directories emptied by `.wh..wh..opq`.
    pub opaques: Vec<String>,
}

/// The merged tree.
#[derive(Debug, Default)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
}

/// Most symbolic links followed while resolving one path (as Linux does).
const MAX_HOPS: usize = 40;

impl Tree {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every entry, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    /// The entry at an absolute path.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Applies one layer over the ones below it.
    pub fn apply(&mut self, layer: LayerChanges) {
        for dir in &layer.opaques {
            self.remove_children(dir);
        }
        for path in &layer.whiteouts {
            self.nodes.remove(path);
            self.remove_children(path);
        }
        for (path, node) in layer.added {
            if !matches!(node, Node::Dir { .. }) {
                self.remove_children(&path);
            }
            self.nodes.insert(path, node);
        }
    }

    fn remove_children(&mut self, dir: &str) {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.nodes.remove(&k);
        }
    }

    /// The path `path` leads to once every symbolic link on the way (and a
    /// final hard link) is followed inside the image root (`..` at the
    /// root stays at the root, as in a container). `None` when a component
    /// does not exist (a missing parent directory
    /// counts as an implicit one) or the links loop.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut pending: Vec<String> = components(path).rev().map(str::to_string).collect();
        let mut cur: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            if c == ".." {
                cur.pop();
                continue;
            }
            cur.push(c);
            let here = join(&cur);
            let Some(node) = self.nodes.get(&here) else {
                if pending.is_empty() {
                    return None;
                }
                continue; // a parent directory the archive left implicit
            };
            match node {
                Node::Symlink(target) => {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return None;
                    }
                    cur.pop();
                    if target.starts_with('/') {
                        cur.clear();
                    }
                    pending.extend(components(target).rev().map(str::to_string));
                }
                Node::Hardlink(target) if pending.is_empty() => {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return None;
                    }
                    cur = components(target).map(str::to_string).collect();
                }
                _ => {}
            }
        }
        Some(join(&cur))
    }

    /// The content kept for the file `path` leads to.
    pub fn content(&self, path: &str) -> Option<&[u8]> {
        match self.nodes.get(&self.resolve(path)?)? {
            Node::File {
                content: Some(c), ..
            } => Some(c),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Node {
        Node::File {
            size: 1,
            mode: 0o755,
            content: None,
        }
    }

    fn tree(entries: &[(&str, Node)]) -> Tree {
        let mut t = Tree::default();
        t.apply(LayerChanges {
            added: entries
                .iter()
                .map(|(p, n)| (p.to_string(), n.clone()))
                .collect(),
            ..Default::default()
        });
        t
    }

    #[test]
    fn whiteouts_remove_lower_layers_only() {
        let mut t = tree(&[
            ("/bin", Node::Dir { mode: 0o755 }),
            ("/bin/sh", file()),
            ("/bin/ls", file()),
            ("/bin-x", file()),
            ("/usr/bin/curl", file()),
        ]);
        t.apply(LayerChanges {
            added: vec![("/bin/app".into(), file())],
            whiteouts: vec!["/usr/bin/curl".into()],
            opaques: vec!["/bin".into()],
        });
        let paths: Vec<&String> = t.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["/bin", "/bin-x", "/bin/app"]);
    }

    #[test]
    fn links_resolve_inside_the_root() {
        let t = tree(&[
            ("/bin", Node::Symlink("usr/bin".into())),
            ("/usr/bin/busybox", file()),
            ("/usr/bin/sh", Node::Symlink("/../../../bin/busybox".into())),
            ("/usr/bin/ash", Node::Hardlink("/usr/bin/busybox".into())),
            ("/loop", Node::Symlink("/loop".into())),
        ]);
        assert_eq!(t.resolve("/bin/sh").as_deref(), Some("/usr/bin/busybox"));
        assert_eq!(t.resolve("/bin/ash").as_deref(), Some("/usr/bin/busybox"));
        assert_eq!(t.resolve("/loop"), None);
        assert_eq!(t.resolve("/nope"), None);
    }
}
