//! `node-public-ip`: a Node with an ExternalIP, or an InternalIP outside the
//! private ranges.
//!
//! Private: RFC 1918 (10/8, 172.16/12, 192.168/16), RFC 6598 shared address
//! space (100.64/10, carrier-grade NAT, used by some clouds for nodes),
//! loopback, IPv4 link-local (169.254/16), IPv6 unique local addresses
//! (fc00::/7, RFC 4193) and link-local (fe80::/10).

use super::{ClusterRule, Texts};
use palisade_core::{Context, Emitter, Field, FieldPath, Resource, Rule, Scope, Severity};
use serde_json::Value;
use std::net::IpAddr;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![ClusterRule::shared(
        Texts {
            id: "node-public-ip",
            severity: Severity::High,
            title: "A node has a public IP address",
            description: "Nodes run the kubelet API (port 10250), NodePorts and whatever \
                host-network pods listen on. A node reachable from the internet exposes all of \
                that to scanning and brute force, and one firewall mistake away from direct \
                compromise; users should reach workloads through a load balancer or ingress, \
                never the nodes.",
            remediation: "Run nodes in private subnets (private node pools, no external IPs) and \
                reach the cluster through load balancers; use a NAT gateway for outbound traffic.",
        },
        Scope::kinds(&["Node"]),
        Scope::none(),
        Box::new(check),
    )]
}

/// Whether `ip` is in a private, shared, loopback or link-local range.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (a == 100 && (64..128).contains(&b)) // RFC 6598
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

fn check(res: &Resource, _: &Context<'_>, out: &mut Emitter<'_>) {
    let Some(Value::Array(addresses)) =
        res.value.field("status").and_then(|s| s.field("addresses"))
    else {
        return;
    };
    for (i, a) in addresses.iter().enumerate() {
        let kind = a.field("type").and_then(Value::as_str).unwrap_or("");
        let Some(addr) = a.field("address").and_then(Value::as_str) else {
            continue;
        };
        let path = FieldPath::parse("status.addresses").index(i).key("address");
        let ip: Option<IpAddr> = addr.trim().parse().ok();
        match (kind, ip) {
            ("ExternalIP", _) => {
                out.emit(
                    &path,
                    format!("node has an external IP address {addr} ({path})"),
                );
            }
            ("InternalIP", Some(ip)) if !is_private(ip) => {
                out.emit(
                    &path,
                    format!("node's internal IP address {addr} is a public address, outside the private ranges ({path})"),
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges() {
        for (ip, private) in [
            ("10.1.2.3", true),
            ("172.31.255.1", true),
            ("172.32.0.1", false),
            ("192.168.0.1", true),
            ("100.64.0.1", true),
            ("100.127.255.255", true),
            ("100.128.0.1", false),
            ("169.254.1.1", true),
            ("127.0.0.1", true),
            ("8.8.8.8", false),
            ("fd00::1", true),
            ("fc00::1", true),
            ("fe80::1", true),
            ("2001:db8::1", false),
            ("::ffff:10.0.0.1", true),
            ("::ffff:8.8.8.8", false),
        ] {
            assert_eq!(is_private(ip.parse().unwrap()), private, "{ip}");
        }
    }
}
