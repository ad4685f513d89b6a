//! Host access: `hostNamespaces`, `hostPathVolumes`, `hostPorts` and
//! `hostProbesAndHostLifecycle`.

use super::Violation;
use crate::pss::pod::{ctr_label, get, Pod};
use palisade_core::Field;
use serde_json::Value;

/// hostNamespaces v1.0: `hostNetwork`, `hostPID`, `hostIPC` must not be true.
pub fn host_namespaces_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (field, concern) in [
        ("hostNetwork", "host-network"),
        ("hostPID", "host-pid"),
        ("hostIPC", "host-ipc"),
    ] {
        if pod.get(&[field]) == Some(&Value::Bool(true)) {
            out.push(Violation::new(pod.path(&[field]), format!("{field}=true")).concern(concern));
        }
    }
}

/// hostPathVolumes v1.0: no `hostPath` volumes.
pub fn host_path_volumes_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    let Some(Value::Array(volumes)) = pod.get(&["volumes"]) else {
        return;
    };
    for (i, v) in volumes.iter().enumerate() {
        if get(v, &["hostPath"]).is_some() {
            let name = v.field("name").and_then(Value::as_str).unwrap_or("");
            let path = pod.path(&["volumes"]).index(i).key("hostPath");
            out.push(Violation::new(path, format!("volume {name:?}")).concern("host-path-volume"));
        }
    }
}

/// hostPorts v1.0: no container port may set a non-zero `hostPort`.
pub fn host_ports_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        let Some(Value::Array(ports)) = c.get(&["ports"]) else {
            continue;
        };
        for (j, port) in ports.iter().enumerate() {
            let Some(hp) = get(port, &["hostPort"]) else {
                continue;
            };
            if hp.as_i64() == Some(0) {
                continue;
            }
            let path = pod.ctr_path(&c, &["ports"]).index(j).key("hostPort");
            out.push(
                Violation::new(path, format!("{} uses hostPort {hp}", ctr_label(&c)))
                    .concern("host-port"),
            );
        }
    }
}

const PROBES: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];
const HOOKS: [&str; 2] = ["postStart", "preStop"];
const HANDLERS: [&str; 2] = ["httpGet", "tcpSocket"];

/// hostProbesAndHostLifecycle v1.34: probes and lifecycle handlers must not
/// set `host`.
pub fn host_probes_1_34(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    // Where a handler sits in a container: a probe, or a lifecycle hook.
    let bases = PROBES
        .iter()
        .map(|p| (None, *p))
        .chain(HOOKS.iter().map(|h| (Some("lifecycle"), *h)));
    for c in pod.containers() {
        for (parent, key) in bases.clone() {
            let holder = match parent {
                Some(l) => c.get(&[l, key]),
                None => c.get(&[key]),
            };
            let Some(holder) = holder else { continue };
            for handler in HANDLERS {
                let Some(host) = get(holder, &[handler, "host"]) else {
                    continue;
                };
                if host.as_str() == Some("") {
                    continue;
                }
                let shown = host
                    .as_str()
                    .map(|s| format!("{s:?}"))
                    .unwrap_or_else(|| host.to_string());
                let keys: &[&str] = match parent {
                    Some(l) => &[l, key, handler, "host"],
                    None => &[key, handler, "host"],
                };
                out.push(Violation::new(
                    pod.ctr_path(&c, keys),
                    format!("{} uses probe or lifecycle host {shown}", ctr_label(&c)),
                ));
            }
        }
    }
}
