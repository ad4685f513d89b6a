//! `host-port`: container ports bound on the node's network.
//!
//! Concern `host-port` on `<container>.ports[j].hostPort`.

use super::builtin::{BuiltinRule, Texts};
use super::fields::{describe, label};
use palisade_core::workload::with_pod_spec;
use palisade_core::Field;
use palisade_core::{Context, Emitter, Resource, Rule, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![BuiltinRule::workload(
        Texts {
            id: "host-port",
            severity: Severity::Medium,
            title: "Container binds a port on the node (hostPort)",
            description: "A hostPort opens the port on the node's own addresses, outside of \
                Services and often outside of NetworkPolicies, and pins the pod to nodes where \
                the port is free. It widens what is reachable from outside the cluster.",
            remediation: "Remove `hostPort` and expose the port through a Service.",
        },
        check,
    )]
}

fn check(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let Some(Value::Array(ports)) = c.value.field("ports") else {
                continue;
            };
            for (j, port) in ports.iter().enumerate() {
                let path = c.path.key("ports").index(j).key("hostPort");
                let message = match port.field("hostPort") {
                    None | Some(Value::Null) => continue,
                    Some(Value::Number(n)) if n.as_u64() == Some(0) => continue,
                    Some(Value::Number(n)) => {
                        format!("{} binds node port {n} ({path})", label(c))
                    }
                    Some(other) => format!(
                        "{} has a hostPort that is {}, not a port number ({path})",
                        label(c),
                        describe(other)
                    ),
                };
                out.emit(&path, message).concern = "host-port".into();
            }
        }
    });
}
