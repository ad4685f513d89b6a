//! What the merged tree holds that an attacker could use: shells (busybox
//! and its applet links included), package managers and their databases,
//! network tools, setuid/setgid files; plus the configured user, the
//! creation date and the base OS. Every finding is a path (the evidence).

use super::path::{base, parent};
use super::tree::{Node, Tree};

/// The directories searched for executables (`PATH` of common images, and
/// distroless debug images' `/busybox`).
const BIN_DIRS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/busybox",
];
const SHELLS: &[&str] = &[
    "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish",
];
const PACKAGE_MANAGERS: &[&str] = &[
    "dpkg", "apt", "apt-get", "apk", "rpm", "yum", "dnf", "microdnf", "pip", "pip3",
];
const TOOLS: &[&str] = &["curl", "wget", "nc", "ncat", "netcat", "socat"];
/// Package databases: dpkg's own (`status`; distroless images carry
/// `status.d/` for scanners, with no dpkg, which is not counted), apk, rpm.
const DATABASES: &[&str] = &[
    "/var/lib/dpkg/status",
    "/lib/apk/db/installed",
    "/var/lib/rpm/Packages",
    "/var/lib/rpm/rpmdb.sqlite",
    "/var/lib/rpm/Packages.db",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/Packages.db",
];

pub use palisade_core::image_content::ImageContent;

/// The image config fields the report uses.
#[derive(Debug, Default, Clone)]
pub struct ConfigFacts {
    /// `config.User`.
    pub user: String,
    /// `created`.
    pub created: Option<String>,
}

impl ConfigFacts {
    /// Reads them from an image config document.
    pub fn from_config(v: &serde_json::Value) -> ConfigFacts {
        let s = |x: Option<&serde_json::Value>| x.and_then(|v| v.as_str()).map(str::to_string);
        ConfigFacts {
            user: s(v.pointer("/config/User")).unwrap_or_default(),
            created: s(v.get("created")).filter(|c| !c.is_empty()),
        }
    }
}

/// Classifies `tree`.
pub fn classify(image: &str, digest: &str, tree: &Tree, facts: &ConfigFacts) -> ImageContent {
    let mut shells = Vec::new();
    let mut pms = Vec::new();
    let mut tools = Vec::new();
    let mut setuid = Vec::new();
    let mut size = 0u64;
    for (path, node) in tree.iter() {
        if let Node::File { size: s, mode, .. } = node {
            size += s;
            if mode & 0o6000 != 0 {
                setuid.push(path.clone());
            }
        }
        if matches!(node, Node::Dir { .. }) {
            if is_pip_module(path) {
                pms.push(path.clone());
            }
            continue;
        }
        if DATABASES.contains(&path.as_str()) {
            pms.push(path.clone());
        }
        if !BIN_DIRS.contains(&parent(path)) {
            continue;
        }
        let Some(real) = tree.resolve(path) else {
            continue; // dangling: nothing runs
        };
        if !matches!(tree.get(&real), Some(Node::File { .. })) {
            continue;
        }
        let name = base(path);
        let applet = base(&real) == "busybox";
        if applet && real == *path {
            shells.push(path.clone()); // busybox itself: sh is one of its applets
        } else if SHELLS.contains(&name) {
            shells.push(path.clone());
        } else if PACKAGE_MANAGERS.contains(&name) || is_pip_name(name) {
            pms.push(path.clone());
        } else if TOOLS.contains(&name) {
            tools.push(path.clone());
        }
    }
    let runs_as_root = is_root(&facts.user, tree);
    ImageContent {
        image: image.to_string(),
        digest: digest.to_string(),
        minimal: shells.is_empty() && pms.is_empty(),
        shells,
        package_managers: pms,
        tools,
        setuid,
        user: facts.user.clone(),
        runs_as_root,
        created: facts.created.clone(),
        os: os_name(tree),
        size_bytes: size,
    }
}

/// `pip3.11` and the like.
fn is_pip_name(name: &str) -> bool {
    name.strip_prefix("pip3.")
        .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
}

/// A system pip: `/usr/lib/python3*/{dist,site}-packages/pip` (and under `/usr/local`).
fn is_pip_module(path: &str) -> bool {
    let Some(rest) = path
        .strip_prefix("/usr/lib/")
        .or_else(|| path.strip_prefix("/usr/local/lib/"))
    else {
        return false;
    };
    let mut parts = rest.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(py), Some("dist-packages" | "site-packages"), Some("pip"), None) if py.starts_with("python")
    )
}

/// Empty, `0`, `root`, or a name (`name[:group]`) that `/etc/passwd` gives uid 0.
fn is_root(user: &str, tree: &Tree) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    if name.is_empty() || name == "root" {
        return true;
    }
    if name.bytes().all(|b| b.is_ascii_digit()) {
        return name.trim_start_matches('0').is_empty();
    }
    let Some(passwd) = tree.content("/etc/passwd") else {
        return false;
    };
    String::from_utf8_lossy(passwd).lines().any(|l| {
        let mut f = l.split(':');
        f.next() == Some(name) && f.nth(1).map(str::trim) == Some("0")
    })
}

/// `PRETTY_NAME` (or `NAME VERSION_ID`) of `/etc/os-release`, else
/// `/usr/lib/os-release`.
fn os_name(tree: &Tree) -> Option<String> {
    let text = tree
        .content("/etc/os-release")
        .or_else(|| tree.content("/usr/lib/os-release"))?;
    let text = String::from_utf8_lossy(text);
    let field = |key: &str| {
        text.lines().find_map(|l| {
            let v = l.strip_prefix(key)?.strip_prefix('=')?;
            Some(v.trim().trim_matches('"').trim_matches('\'').to_string())
        })
    };
    field("PRETTY_NAME").or_else(|| {
        let name = field("NAME")?;
        Some(match field("VERSION_ID") {
            Some(v) => format!("{name} {v}"),
            None => name,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tree::LayerChanges;

    fn f(mode: u32) -> Node {
        Node::File {
            size: 10,
            mode,
            content: None,
        }
    }

    #[test]
    fn classifies_busybox_debian_and_pip() {
        let mut t = Tree::default();
        let passwd =
            b"root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\napp:x:65532:65532::/:/nologin\n";
        t.apply(LayerChanges {
            added: vec![
                ("/bin".into(), Node::Symlink("usr/bin".into())),
                ("/usr/bin/busybox".into(), f(0o755)),
                (
                    "/usr/bin/ash".into(),
                    Node::Hardlink("/usr/bin/busybox".into()),
                ),
                ("/usr/bin/wget".into(), Node::Symlink("busybox".into())),
                ("/usr/bin/ls".into(), Node::Symlink("busybox".into())),
                ("/usr/bin/sh".into(), Node::Symlink("dash".into())),
                ("/usr/bin/su".into(), f(0o4755)),
                ("/usr/bin/pip3.11".into(), f(0o755)),
                (
                    "/usr/lib/python3/dist-packages/pip".into(),
                    Node::Dir { mode: 0o755 },
                ),
                ("/var/lib/dpkg/status".into(), f(0o644)),
                ("/var/lib/dpkg/status.d/base".into(), f(0o644)),
                (
                    "/etc/passwd".into(),
                    Node::File {
                        size: passwd.len() as u64,
                        mode: 0o644,
                        content: Some(passwd.to_vec()),
                    },
                ),
            ],
            ..Default::default()
        });
        let c = classify("i", "d", &t, &ConfigFacts::default());
        assert_eq!(
            c.shells,
            ["/usr/bin/ash", "/usr/bin/busybox"],
            "sh -> dash dangles"
        );
        assert_eq!(c.tools, ["/usr/bin/wget"]);
        assert_eq!(
            c.package_managers,
            [
                "/usr/bin/pip3.11",
                "/usr/lib/python3/dist-packages/pip",
                "/var/lib/dpkg/status"
            ]
        );
        assert_eq!(c.setuid, ["/usr/bin/su"]);
        assert!(!c.minimal);
        assert!(c.runs_as_root);
        assert!(is_root("toor", &t));
        assert!(is_root("0:0", &t));
        assert!(!is_root("app", &t));
        assert!(!is_root("65532", &t));
        assert!(!is_root("nobody-unknown", &t));
    }
}
