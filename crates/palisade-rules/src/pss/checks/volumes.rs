//! `restrictedVolumes`: only the volume types that cannot reach the node.

use super::Violation;
use crate::pss::pod::Pod;
use palisade_core::Field;
use serde_json::Value;

/// The volume sources allowed at restricted.
pub const ALLOWED: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// restrictedVolumes v1.0. A volume with no source is an `emptyDir` once the
/// API server has defaulted it; a volume that is not a mapping is reported.
pub fn restricted_volumes_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    let Some(Value::Array(volumes)) = pod.get(&["volumes"]) else {
        return;
    };
    for (i, v) in volumes.iter().enumerate() {
        let base = pod.path(&["volumes"]).index(i);
        let Some(map) = v.as_object() else {
            out.push(Violation::new(base, format!("volume {i} is not a mapping")));
            continue;
        };
        let name = map.field("name").and_then(Value::as_str).unwrap_or("");
        for (key, source) in map {
            if key == "name" || source.is_null() || ALLOWED.contains(&key.as_str()) {
                continue;
            }
            let v = Violation::new(
                base.key(key),
                format!("volume {name:?} uses restricted volume type {key:?}"),
            );
            out.push(if key == "hostPath" {
                v.concern("host-path-volume")
            } else {
                v
            });
        }
    }
}
