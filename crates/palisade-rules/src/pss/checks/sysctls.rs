//! `sysctls`: the safe list, which grows with the policy version.

use super::Violation;
use crate::pss::pod::{get, Pod};
use serde_json::Value;

/// The sysctls that are safe from a policy version on.
pub const SAFE: [(u32, &str); 14] = [
    (0, "kernel.shm_rmid_forced"),
    (0, "net.ipv4.ip_local_port_range"),
    (0, "net.ipv4.tcp_syncookies"),
    (0, "net.ipv4.ping_group_range"),
    (0, "net.ipv4.ip_unprivileged_port_start"),
    (27, "net.ipv4.ip_local_reserved_ports"),
    (29, "net.ipv4.tcp_keepalive_time"),
    (29, "net.ipv4.tcp_fin_timeout"),
    (29, "net.ipv4.tcp_keepalive_intvl"),
    (29, "net.ipv4.tcp_keepalive_probes"),
    (32, "net.ipv4.tcp_rmem"),
    (32, "net.ipv4.tcp_wmem"),
    (37, "net.ipv4.tcp_slow_start_after_idle"),
    (37, "net.ipv4.tcp_notsent_lowat"),
];

fn check(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    let Some(Value::Array(sysctls)) = pod.get(&["securityContext", "sysctls"]) else {
        return;
    };
    for (i, s) in sysctls.iter().enumerate() {
        let name = get(s, &["name"]).and_then(Value::as_str).unwrap_or("");
        if !SAFE.iter().any(|(since, n)| *since <= minor && *n == name) {
            let path = pod
                .path(&["securityContext", "sysctls"])
                .index(i)
                .key("name");
            out.push(Violation::new(path, name.to_string()));
        }
    }
}

/// sysctls v1.0.
pub fn sysctls_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    check(pod, 0, out);
}

/// sysctls v1.27: also `net.ipv4.ip_local_reserved_ports`.
pub fn sysctls_1_27(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    check(pod, 27, out);
}

/// sysctls v1.29: also the TCP keepalive and fin-timeout sysctls.
pub fn sysctls_1_29(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    check(pod, 29, out);
}

/// sysctls v1.32: also `net.ipv4.tcp_rmem` and `net.ipv4.tcp_wmem`.
pub fn sysctls_1_32(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    check(pod, 32, out);
}

/// sysctls v1.37: also `net.ipv4.tcp_slow_start_after_idle` and
/// `net.ipv4.tcp_notsent_lowat`.
pub fn sysctls_1_37(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    check(pod, 37, out);
}
