//! `host-network`, `host-pid`, `host-ipc`: pods sharing the node's namespaces.
//!
//! Concerns: `host-network`, `host-pid`, `host-ipc`, each on `<pod spec>.hostX`.

use super::builtin::{BuiltinRule, Texts};
use super::fields::Flag;
use palisade_core::workload::with_pod_spec;
use palisade_core::{Context, Emitter, Resource, Rule, Severity};
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        BuiltinRule::workload(
            Texts {
                id: "host-network",
                severity: Severity::High,
                title: "Pod uses the node's network namespace (hostNetwork)",
                description: "With hostNetwork the pod sees every interface of the node: it can \
                    reach services bound to localhost on the node (the kubelet, cloud metadata \
                    endpoints, other pods' traffic), bypasses NetworkPolicies, and can bind any \
                    node port. One compromised container then reaches much more than its own pod.",
                remediation: "Remove `hostNetwork: true`; expose the pod through a Service \
                    (or a hostPort-free NodePort/LoadBalancer) instead.",
            },
            check_network,
        ),
        BuiltinRule::workload(
            Texts {
                id: "host-pid",
                severity: Severity::High,
                title: "Pod uses the node's process namespace (hostPID)",
                description: "With hostPID the containers see every process of the node and, \
                    running as root, can read their environment and memory (/proc/<pid>/environ, \
                    ptrace) or signal them, leaking the secrets of every other workload on the node.",
                remediation: "Remove `hostPID: true`. To share processes between containers of \
                    one pod use `shareProcessNamespace: true` instead.",
            },
            check_pid,
        ),
        BuiltinRule::workload(
            Texts {
                id: "host-ipc",
                severity: Severity::High,
                title: "Pod uses the node's IPC namespace (hostIPC)",
                description: "With hostIPC the containers share System V IPC and POSIX shared \
                    memory with every process of the node, and can read or tamper with what \
                    other workloads exchange there.",
                remediation: "Remove `hostIPC: true`.",
            },
            check_ipc,
        ),
    ]
}

fn check_network(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    check_flag(res, ctx, out, "hostNetwork", "network");
}

fn check_pid(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    check_flag(res, ctx, out, "hostPID", "process");
}

fn check_ipc(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    check_flag(res, ctx, out, "hostIPC", "IPC");
}

/// Reports `field` of the pod spec when it is true or not a boolean.
fn check_flag(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>, field: &str, what: &str) {
    with_pod_spec(res, ctx, |pod| {
        let flag = Flag::of(pod.get(field));
        if matches!(flag, Flag::False | Flag::Absent) {
            return;
        }
        let path = pod.field(field);
        let message = match flag {
            Flag::True => format!("pod shares the node's {what} namespace ({path}: true)"),
            Flag::Invalid(d) => {
                format!("{path} is {d}, not a boolean: the API server rejects the pod")
            }
            Flag::False | Flag::Absent => return,
        };
        out.emit(&path, message);
    });
}
