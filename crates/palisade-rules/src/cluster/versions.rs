//! `cluster-version-outdated`, `cluster-version-unsupported`,
//! `node-version-outdated`, `node-version-skew`: the API server and the
//! kubelets against the release data.

use super::releases::{in_context, Releases, Version};
use super::{ClusterRule, Texts, CLUSTER_VERSION_KIND};
use palisade_core::{Context, Emitter, FieldPath, Resource, Rule, Scope, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    let server = Scope::kinds(&[CLUSTER_VERSION_KIND]);
    let nodes = Scope::kinds(&["Node"]);
    vec![
        ClusterRule::shared(
            Texts {
                id: "cluster-version-outdated",
                severity: Severity::Medium,
                title: "The API server is not on the latest patch of its minor version",
                description: "Patch releases fix security vulnerabilities (CVEs in the API server, \
                    kubelet and kube-proxy are fixed only in patches of supported minors). A \
                    cluster behind the latest patch runs code with published, fixed \
                    vulnerabilities. The latest patch comes from Palisade's release data, whose \
                    date the report states.",
                remediation: "Upgrade the control plane to the latest patch of its minor version \
                    (patch upgrades keep APIs unchanged); on a managed service, enable automatic \
                    patch upgrades.",
            },
            server.clone(),
            Scope::none(),
            Box::new(|res, ctx, out| server_outdated(in_context(ctx), res, out)),
        ),
        ClusterRule::shared(
            Texts {
                id: "cluster-version-unsupported",
                severity: Severity::High,
                title: "The API server's minor version is past its end of life",
                description: "A Kubernetes minor version gets patches for about fourteen months. \
                    After its end of life, vulnerabilities found in it are not fixed at all, and \
                    managed services force upgrades on their own schedule. End-of-life dates come \
                    from Palisade's release data.",
                remediation: "Plan and run minor upgrades one minor at a time (check removed APIs \
                    with the deprecation guide) until the cluster is on a supported minor.",
            },
            server,
            Scope::none(),
            Box::new(|res, ctx, out| server_unsupported(in_context(ctx), res, ctx, out)),
        ),
        ClusterRule::shared(
            Texts {
                id: "node-version-outdated",
                severity: Severity::Medium,
                title: "A kubelet is not on the latest patch of its minor, or its minor is past end of life",
                description: "Kubelets run as root on every node and expose an API; their \
                    vulnerabilities are fixed in patch releases of supported minors only. A node \
                    left behind an upgrade keeps the old code and its published vulnerabilities.",
                remediation: "Upgrade the node (or replace it with a node of the current image) to \
                    the latest patch of a supported minor.",
            },
            nodes.clone(),
            Scope::none(),
            Box::new(|res, ctx, out| node_outdated(in_context(ctx), res, ctx, out)),
        ),
        ClusterRule::shared(
            Texts {
                id: "node-version-skew",
                severity: Severity::Medium,
                title: "A kubelet is newer than the API server or too many minors older",
                description: "The version skew policy allows kubelets up to three minor versions \
                    older than the API server (two before v1.28) and never newer. Outside that \
                    range the combination is untested and unsupported, and an old kubelet is \
                    usually a forgotten node missing security fixes.",
                remediation: "Upgrade (or replace) the nodes so that every kubelet is within the \
                    supported skew of the API server; upgrade the control plane first.",
            },
            nodes,
            Scope::kinds(&[CLUSTER_VERSION_KIND]),
            Box::new(|res, ctx, out| node_skew(in_context(ctx), res, ctx, out)),
        ),
    ]
}

/// The path of the server version in a ClusterVersion object.
fn server_path() -> FieldPath {
    FieldPath::root().key("serverVersion").key("gitVersion")
}

/// The path of the kubelet version in a Node.
fn kubelet_path() -> FieldPath {
    FieldPath::parse("status.nodeInfo.kubeletVersion")
}

fn version_at(res: &Resource, path: &FieldPath) -> Option<Version> {
    res.get(path)
        .and_then(Value::as_str)
        .and_then(Version::parse)
}

/// The API server version of the inventory's ClusterVersion object named
/// `cluster` (an indexed lookup: this runs once per Node).
pub fn server_version(ctx: &Context<'_>) -> Option<Version> {
    let cv = ctx.inventory.get(CLUSTER_VERSION_KIND, None, "cluster")?;
    version_at(cv, &server_path())
}

/// How far `v` is behind the latest patch of its minor, as a sentence.
fn behind(releases: &Releases, v: Version) -> Option<String> {
    let minor = releases.minor(v)?;
    let latest = Version::parse(&minor.latest_patch)?;
    let (have, want) = (v.patch?, latest.patch?);
    (have < want).then(|| {
        let n = want - have;
        format!(
            "{n} patch{} behind {latest} (released {}; release data of {})",
            if n == 1 { "" } else { "es" },
            minor.latest_patch_date,
            releases.as_of
        )
    })
}

fn server_outdated(releases: &Releases, res: &Resource, out: &mut Emitter<'_>) {
    let path = server_path();
    let Some(v) = version_at(res, &path) else {
        return;
    };
    if let Some(why) = behind(releases, v) {
        out.emit(&path, format!("API server {v} is {why}"));
    }
}

fn server_unsupported(
    releases: &Releases,
    res: &Resource,
    ctx: &Context<'_>,
    out: &mut Emitter<'_>,
) {
    let path = server_path();
    let Some(v) = version_at(res, &path) else {
        return;
    };
    if let Some(why) = releases.past_end_of_life(v, ctx.now) {
        out.emit(&path, format!("API server {v}: {why}"));
    }
}

fn node_outdated(releases: &Releases, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let path = kubelet_path();
    let Some(v) = version_at(res, &path) else {
        return;
    };
    if let Some(why) = releases.past_end_of_life(v, ctx.now) {
        out.emit(&path, format!("kubelet {v}: {why}"));
    } else if let Some(why) = behind(releases, v) {
        out.emit(&path, format!("kubelet {v} is {why}"));
    }
}

fn node_skew(releases: &Releases, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let path = kubelet_path();
    let (Some(kubelet), Some(server)) = (version_at(res, &path), server_version(ctx)) else {
        return;
    };
    if kubelet.major != server.major {
        out.emit(
            &path,
            format!("kubelet {kubelet} and API server {server} differ in major version"),
        );
        return;
    }
    if kubelet.minor > server.minor {
        out.emit(
            &path,
            format!("kubelet {kubelet} is newer than the API server {server} (a kubelet must not be newer)"),
        );
        return;
    }
    let lag = server.minor - kubelet.minor;
    let max = releases.kubelet_max_lag(server);
    if lag > max {
        out.emit(
            &path,
            format!(
                "kubelet {kubelet} is {lag} minor versions older than the API server {server} (at most {max} allowed)"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behind_counts_patches() {
        let r = Releases::embedded();
        let v = Version::parse("v1.27.3").unwrap();
        let why = behind(&r, v).unwrap();
        assert!(why.starts_with("13 patches behind v1.27.16"), "{why}");
        assert!(behind(&r, Version::parse("v1.27.16").unwrap()).is_none());
        assert!(behind(&r, Version::parse("v1.27").unwrap()).is_none());
        let one = behind(&r, Version::parse("1.36.3").unwrap()).unwrap();
        assert!(one.starts_with("1 patch behind"), "{one}");
    }

    #[test]
    fn field_lookups_do_not_panic_on_odd_shapes() {
        let res = Resource::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
            "status": {"nodeInfo": {"kubeletVersion": 127}}
        }))
        .unwrap();
        assert!(version_at(&res, &kubelet_path()).is_none());
    }
}
