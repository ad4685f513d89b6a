//! `host-path-volume`: volumes that mount a directory or file of the node.
//!
//! Concern `host-path-volume` on `<pod spec>.volumes[i].hostPath`.

use super::builtin::{BuiltinRule, Texts};
use super::fields::describe;
use palisade_core::workload::with_pod_spec;
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

fn check(res: &Resource, _ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, |pod| {
        let Some(Value::Array(volumes)) = pod.get("volumes") else {
            return;
        };
        for (i, vol) in volumes.iter().enumerate() {
            let Some(host) = vol.get("hostPath").filter(|h| !h.is_null()) else {
                continue;
            };
            let path = pod.field("volumes").index(i).key("hostPath");
            let name = match vol.get("name").and_then(Value::as_str) {
                Some(n) => format!("volume `{n}`"),
                None => format!("volumes[{i}]"),
            };
            let message = match host.get("path") {
                Some(Value::String(p)) => format!("{name} mounts the node path {p:?} ({path})"),
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
