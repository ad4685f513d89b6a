//! The parts of a snapshot that are not Kubernetes objects: the output of
//! `kubectl version -o json`, which gives the API server's version.
//!
//! It becomes the object `palisade.io/v1` `ClusterVersion` (named
//! `cluster`) whose `serverVersion` is the output's, so that the `cluster`
//! rules judge it like any other object (and `scan` can be given one).

use palisade_core::Resource;
use serde_json::{json, Value};

/// A version file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// `serverVersion` is there but not an object with a `gitVersion` string.
    #[error("{file}: serverVersion: expected an object with a gitVersion string (as `kubectl version -o json` prints it)")]
    BadServerVersion {
        /// The file.
        file: String,
    },
}

/// The `ClusterVersion` object of a `kubectl version -o json` output, or
/// `None` when `value` is not such an output (no `serverVersion` key).
pub fn cluster_version(value: &Value, file: &str) -> Result<Option<Resource>, SnapshotError> {
    let Some(server) = value.as_object().and_then(|m| m.get("serverVersion")) else {
        return Ok(None);
    };
    if !server.get("gitVersion").is_some_and(Value::is_string) {
        return Err(SnapshotError::BadServerVersion {
            file: file.to_string(),
        });
    }
    let object = json!({
        "apiVersion": "palisade.io/v1",
        "kind": "ClusterVersion",
        "metadata": {"name": "cluster", "annotations": {"palisade.io/source": file}},
        "serverVersion": server,
    });
    Ok(Resource::from_value(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_version_output_becomes_a_cluster_version() {
        let out = json!({"clientVersion": {"gitVersion": "v1.30.0"},
            "kustomizeVersion": "v5.0.4",
            "serverVersion": {"major": "1", "minor": "27", "gitVersion": "v1.27.3"}});
        let r = cluster_version(&out, "version.json").unwrap().unwrap();
        assert_eq!(r.id.kind, "ClusterVersion");
        assert_eq!(r.value["serverVersion"]["gitVersion"], "v1.27.3");
        assert!(cluster_version(&json!({"kind": "Pod"}), "f")
            .unwrap()
            .is_none());
        let e = cluster_version(&json!({"serverVersion": "v1"}), "v.json").unwrap_err();
        assert!(e.to_string().starts_with("v.json: serverVersion"), "{e}");
    }
}
