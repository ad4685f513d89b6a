//! `service-public-exposure`: Services reachable from outside the cluster
//! other than through an ingress or gateway.
//!
//! Reported: a `LoadBalancer` Service without `loadBalancerSourceRanges`
//! (or with a range covering everything) and without an internal
//! load-balancer annotation of a major cloud; a `NodePort` Service; any
//! `externalIPs`. Ingress and Gateway routes are the intended way in and are
//! not reported.

use super::{ClusterRule, Texts};
use palisade_core::{Context, Emitter, Field, FieldPath, Resource, Rule, Scope, Severity};
use serde_json::Value;
use std::sync::Arc;

/// Annotations that make a cloud provision an internal (private) load
/// balancer, with the values that mean "internal" (compared ignoring case).
/// Sources: the cloud providers' documentation of their Service
/// annotations (kubernetes/cloud-provider-aws, AWS Load Balancer
/// Controller, cloud-provider-azure, GKE, cloud-provider-openstack, OCI
/// cloud controller manager, IBM Cloud, Alibaba Cloud).
pub const INTERNAL_LB_ANNOTATIONS: [(&str, &[&str]); 10] = [
    (
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        &["true", "0.0.0.0/0"],
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        &["internal"],
    ),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        &["true"],
    ),
    ("networking.gke.io/load-balancer-type", &["internal"]),
    ("cloud.google.com/load-balancer-type", &["internal"]),
    (
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
        &["true"],
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        &["true"],
    ),
    (
        "oci-network-load-balancer.oraclecloud.com/internal",
        &["true"],
    ),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        &["private"],
    ),
    (
        "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type",
        &["intranet"],
    ),
];

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![ClusterRule::shared(
        Texts {
            id: "service-public-exposure",
            severity: Severity::Medium,
            title: "A Service is exposed outside the cluster without going through an ingress or gateway",
            description: "Users should reach workloads only through a load balancer in front of \
                an ingress controller or gateway, where TLS, authentication and rate limits are \
                enforced in one place. A public LoadBalancer Service open to every address, a \
                NodePort (a port on every node) or externalIPs expose the workload directly and \
                bypass those controls.",
            remediation: "Expose the workload through an Ingress or Gateway route and make the \
                Service ClusterIP; where a LoadBalancer Service is needed, restrict \
                `loadBalancerSourceRanges` or use your cloud's internal load-balancer annotation.",
        },
        Scope::kinds(&["Service"]),
        Scope::none(),
        Box::new(check),
    )]
}

/// Whether the Service carries an internal load-balancer annotation.
pub fn internal_annotation(res: &Resource) -> Option<&'static str> {
    INTERNAL_LB_ANNOTATIONS.iter().find_map(|(key, values)| {
        let v = res.annotation(key)?;
        values
            .iter()
            .any(|want| v.trim().eq_ignore_ascii_case(want))
            .then_some(*key)
    })
}

fn check(res: &Resource, _: &Context<'_>, out: &mut Emitter<'_>) {
    let Some(spec) = res.value.field("spec") else {
        return;
    };
    let spec_path = FieldPath::root().key("spec");
    match spec.field("type").and_then(Value::as_str) {
        Some("LoadBalancer") => load_balancer(res, spec, &spec_path, out),
        Some("NodePort") => {
            let path = spec_path.key("type");
            out.emit(
                &path,
                "Service of type NodePort opens its ports on every node (spec.type: NodePort)",
            );
        }
        _ => {}
    }
    if let Some(Value::Array(ips)) = spec.field("externalIPs") {
        if !ips.is_empty() {
            let list: Vec<&str> = ips.iter().filter_map(Value::as_str).collect();
            let path = spec_path.key("externalIPs");
            out.emit(
                &path,
                format!(
                    "Service accepts traffic on external IPs {} (spec.externalIPs)",
                    list.join(", ")
                ),
            );
        }
    }
}

fn load_balancer(res: &Resource, spec: &Value, spec_path: &FieldPath, out: &mut Emitter<'_>) {
    if internal_annotation(res).is_some() {
        return;
    }
    let ranges: &[Value] = match spec.field("loadBalancerSourceRanges") {
        Some(Value::Array(r)) => r,
        _ => &[],
    };
    if ranges.is_empty() {
        out.emit(
            &spec_path.key("type"),
            "Service of type LoadBalancer is open to every address: no loadBalancerSourceRanges and no internal load-balancer annotation (spec.type: LoadBalancer)",
        );
        return;
    }
    let open = ranges.iter().enumerate().find_map(|(i, r)| {
        Some((i, r.as_str()?.trim())).filter(|(_, r)| matches!(*r, "0.0.0.0/0" | "::/0"))
    });
    if let Some((i, r)) = open {
        out.emit(
            &spec_path.key("loadBalancerSourceRanges").index(i),
            format!("Service of type LoadBalancer allows every address ({r} in spec.loadBalancerSourceRanges)"),
        );
    }
}
