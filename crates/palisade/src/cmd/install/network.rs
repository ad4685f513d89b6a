//! NetworkPolicies: deny everything in Palisade's namespace, then allow
//! the API server's calls to the webhook port, DNS, the API server (for
//! the auditor and the pruning job) and the configured registries.

use super::{meta, selector, Plan};
use serde_json::{json, Value};

/// The policies.
pub fn objects(
    plan: &Plan<'_>,
    api_clients: &[&str],
    api: &[String],
    registries: &[String],
) -> Vec<Value> {
    let mut out = vec![
        policy(
            plan,
            "default-deny",
            json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        ),
        // The API server's address as seen by the pod depends on the network
        // plugin, so the webhook port is open to every source; nothing else is.
        policy(
            plan,
            "webhook-ingress",
            json!({
                "podSelector": {"matchLabels": selector("webhook")},
                "policyTypes": ["Ingress"],
                "ingress": [{"ports": [{"port": super::webhook::HTTPS_PORT, "protocol": "TCP"}]}],
            }),
        ),
        policy(
            plan,
            "dns-egress",
            json!({
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                }],
            }),
        ),
    ];
    if !api_clients.is_empty() {
        out.push(policy(
            plan,
            "apiserver-egress",
            json!({
                "podSelector": {"matchExpressions": [{
                    "key": "app.kubernetes.io/component", "operator": "In", "values": api_clients,
                }]},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": blocks(api),
                    "ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}],
                }],
            }),
        ));
    }
    if !registries.is_empty() {
        out.push(policy(
            plan,
            "registry-egress",
            json!({
                "podSelector": {"matchLabels": selector("webhook")},
                "policyTypes": ["Egress"],
                "egress": [{"to": blocks(registries), "ports": [{"port": 443, "protocol": "TCP"}]}],
            }),
        ));
    }
    out
}

fn blocks(cidrs: &[String]) -> Value {
    cidrs
        .iter()
        .map(|c| json!({"ipBlock": {"cidr": c}}))
        .collect()
}

fn policy(plan: &Plan<'_>, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(plan, name, "network"),
        "spec": spec,
    })
}

/// A CIDR as NetworkPolicy's ipBlock takes it; everything (`/0`) is refused.
pub fn check_cidr(c: &str) -> anyhow::Result<()> {
    let bad = |why: &str| anyhow::anyhow!("CIDR `{c}`: {why}");
    let (addr, len) = c
        .split_once('/')
        .ok_or_else(|| bad("expected ADDRESS/PREFIX, e.g. 10.0.0.1/32"))?;
    let ip: std::net::IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match len.parse::<u8>() {
        Ok(0) => Err(bad("a /0 allows every address")),
        Ok(n) if n <= max => Ok(()),
        _ => Err(bad(&format!("prefix length must be 1-{max}"))),
    }
}
