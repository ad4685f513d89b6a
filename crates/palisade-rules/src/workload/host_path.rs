//! `host-path-volume`: volumes that mount a directory or file of the node.
//!
//! Concern `host-path-volume` on `<pod spec>.volumes[i].hostPath`.

use super::builtin::{BuiltinRule, Texts};
use super::fields::describe;
use palisade_core::workload::with_pod_spec;
use palisade_core::Field;
use palisade_core::{Context, Emitter, Resource, Rule, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![BuiltinRule::workload(
        Texts {
            id: "host-path-volume",
            severity: Severity::High,
            title: "Pod mounts a path of the node (hostPath volume)",
            description: "A hostPath volume exposes the node's filesystem to the container. \
                Mounting the container runtime socket, /etc, /var/lib/kubelet, /proc or / lets a \
                compromised container take over the node; even harmless-looking paths can be \
                used to escape through symlinks or to read other pods' data.",
            remediation: "Use an emptyDir, a ConfigMap/Secret/projected volume or a \
                PersistentVolumeClaim instead. If node access is truly needed (node agents), \
                mount the narrowest path read-only and exempt the workload with a reason.",
        },
        check,
    )]
}

fn check(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        let Some(Value::Array(volumes)) = pod.get("volumes") else {
            return;
        };
        for (i, vol) in volumes.iter().enumerate() {
            let Some(host) = vol.field("hostPath").filter(|h| !h.is_null()) else {
                continue;
            };
            let path = pod.field("volumes").index(i).key("hostPath");
            let name = match vol.field("name").and_then(Value::as_str) {
                Some(n) => format!("volume `{n}`"),
                None => format!("volumes[{i}]"),
            };
            let message = match host.field("path") {
                Some(Value::String(p)) => match sensitive(p) {
                    Some(why) => format!("{name} mounts the node path {p:?}, {why} ({path})"),
                    None => format!("{name} mounts the node path {p:?} ({path})"),
                },
                Some(other) => format!(
                    "{name} is a hostPath volume whose path is {} ({path})",
                    describe(other)
                ),
                None => format!("{name} is a hostPath volume ({path})"),
            };
            out.emit(&path, message).concern = "host-path-volume".into();
        }
    });
}

/// Why mounting node path `p` is a direct node takeover, when it is.
pub fn sensitive(p: &str) -> Option<&'static str> {
    let trimmed = p.trim_end_matches('/');
    let p = if trimmed.is_empty() { "/" } else { trimmed };
    if p.ends_with(".sock") {
        return Some("a socket of a node daemon (often the container runtime: node takeover)");
    }
    match p {
        "/" => Some("the node's whole filesystem"),
        "/etc" | "/root" | "/boot" | "/home" => Some("node configuration and credentials"),
        "/proc" | "/sys" | "/dev" => Some("the node kernel's interfaces"),
        "/var/lib/kubelet" | "/etc/kubernetes" | "/var/lib/etcd" => {
            Some("Kubernetes node credentials and state")
        }
        "/var/run" | "/run" | "/var/lib/docker" | "/var/lib/containerd" | "/run/containerd" => {
            Some("the container runtime's state")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::sensitive;

    #[test]
    fn sensitive_paths() {
        assert!(sensitive("/").is_some());
        assert!(sensitive("//").is_some());
        assert!(sensitive("/etc/").is_some());
        assert!(sensitive("/var/run/docker.sock")
            .unwrap()
            .contains("socket"));
        assert!(sensitive("/run/containerd/containerd.sock").is_some());
        assert!(sensitive("/var/lib/kubelet").is_some());
        assert!(sensitive("/var/log").is_none());
        assert!(sensitive("/etc/ssl/certs").is_none());
        assert!(sensitive("").is_some());
    }
}
