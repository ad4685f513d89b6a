//! The kube-apiserver's flags (from its static pod manifest):
//! `apiserver-anonymous-auth`, `apiserver-authorization-mode`,
//! `apiserver-profiling`, `apiserver-audit-log-missing`. Section numbers
//! are those of the CIS Kubernetes Benchmark v1.10.0 (as kube-bench's
//! `cfg/cis-1.10/master.yaml` numbers them).

use super::flags::ApiServerFlags;
use super::{ClusterRule, Texts};
use palisade_core::{Emitter, Rule, Scope, Severity};
use std::sync::Arc;

/// The check of a flag rule.
type FlagCheck = fn(&ApiServerFlags, &mut Emitter<'_>);

/// A rule over the flags of kube-apiserver pods.
pub fn flag_rule(t: Texts, check: FlagCheck) -> Arc<dyn Rule> {
    ClusterRule::shared(
        t,
        Scope::kinds(&["Pod"]),
        Scope::none(),
        Box::new(move |res, _, out| {
            if let Some(flags) = ApiServerFlags::of(res) {
                check(&flags, out);
            }
        }),
    )
}

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        flag_rule(
            Texts {
                id: "apiserver-anonymous-auth",
                severity: Severity::Medium,
                title: "The API server accepts anonymous requests",
                description: "With `--anonymous-auth` left at its default (true), requests \
                    without credentials are served as `system:anonymous`; any RBAC binding to that \
                    user or to `system:unauthenticated` is then open to the whole network. CIS \
                    Kubernetes Benchmark 1.2.1: ensure that the --anonymous-auth argument is set \
                    to false.",
                remediation: "Set `--anonymous-auth=false` in the kube-apiserver manifest (health \
                    checks can use authenticated probes, or the AuthenticationConfiguration's \
                    anonymous endpoints on v1.32 and later).",
            },
            anonymous_auth,
        ),
        flag_rule(
            Texts {
                id: "apiserver-authorization-mode",
                severity: Severity::Critical,
                title: "The API server authorizes every request, or does not use RBAC",
                description: "`--authorization-mode` defaults to AlwaysAllow: every authenticated \
                    request is allowed, so every service account token is cluster-admin. Without \
                    RBAC, roles and bindings have no effect. CIS Kubernetes Benchmark 1.2.6 (not \
                    AlwaysAllow) and 1.2.8 (includes RBAC); 1.2.7 asks for Node as well.",
                remediation: "Set `--authorization-mode=Node,RBAC` in the kube-apiserver manifest.",
            },
            authorization_mode,
        ),
        flag_rule(
            Texts {
                id: "apiserver-profiling",
                severity: Severity::Low,
                title: "The API server serves profiling data",
                description: "`--profiling` defaults to true and serves Go's pprof endpoints \
                    under /debug/pprof, which reveal internals and can be used to load the \
                    server. CIS Kubernetes Benchmark 1.2.15: ensure that the --profiling argument \
                    is set to false.",
                remediation: "Set `--profiling=false` in the kube-apiserver manifest.",
            },
            profiling,
        ),
        flag_rule(
            Texts {
                id: "apiserver-audit-log-missing",
                severity: Severity::Medium,
                title: "The API server writes no audit log",
                description: "Without `--audit-log-path` (or an audit webhook) nothing records \
                    who read Secrets, exec'd into pods or changed RBAC: an intrusion leaves no \
                    trace to investigate. CIS Kubernetes Benchmark 1.2.16: ensure that the \
                    --audit-log-path argument is set (with an --audit-policy-file, CIS 3.2.1).",
                remediation: "Set `--audit-log-path` and `--audit-policy-file` (with \
                    `--audit-log-maxage`, `--audit-log-maxbackup`, `--audit-log-maxsize`) in the \
                    kube-apiserver manifest, or send events to a webhook with \
                    `--audit-webhook-config-file`.",
            },
            audit_log,
        ),
    ]
}

fn anonymous_auth(f: &ApiServerFlags, out: &mut Emitter<'_>) {
    match f.get("anonymous-auth") {
        Some(flag) if flag.value.eq_ignore_ascii_case("false") => {}
        Some(flag) => {
            let path = flag.path.clone();
            out.emit(
                &path,
                format!(
                    "kube-apiserver runs with --anonymous-auth={} ({path})",
                    flag.value
                ),
            );
        }
        None => {
            let path = f.list_path.clone();
            out.emit(&path, format!("kube-apiserver does not set --anonymous-auth=false: anonymous requests are served ({path})"));
        }
    }
}

fn authorization_mode(f: &ApiServerFlags, out: &mut Emitter<'_>) {
    if f.get("authorization-config").is_some() {
        return; // structured authorization (v1.30+): the modes are in that file
    }
    let Some(flag) = f.get("authorization-mode") else {
        let path = f.list_path.clone();
        out.emit(&path, format!("kube-apiserver does not set --authorization-mode: it defaults to AlwaysAllow ({path})"));
        return;
    };
    let modes: Vec<&str> = flag.value.split(',').map(str::trim).collect();
    let path = flag.path.clone();
    if modes.contains(&"AlwaysAllow") {
        out.emit(
            &path,
            format!(
                "kube-apiserver's --authorization-mode={} includes AlwaysAllow ({path})",
                flag.value
            ),
        );
    } else if !modes.contains(&"RBAC") {
        out.emit(
            &path,
            format!(
                "kube-apiserver's --authorization-mode={} does not include RBAC ({path})",
                flag.value
            ),
        );
    }
}

fn profiling(f: &ApiServerFlags, out: &mut Emitter<'_>) {
    match f.get("profiling") {
        Some(flag) if flag.value.eq_ignore_ascii_case("false") => {}
        Some(flag) => {
            let path = flag.path.clone();
            out.emit(
                &path,
                format!(
                    "kube-apiserver runs with --profiling={} ({path})",
                    flag.value
                ),
            );
        }
        None => {
            let path = f.list_path.clone();
            out.emit(&path, format!("kube-apiserver does not set --profiling=false: profiling is on by default ({path})"));
        }
    }
}

fn audit_log(f: &ApiServerFlags, out: &mut Emitter<'_>) {
    let set = |n: &str| {
        f.get(n)
            .is_some_and(|x| !x.value.is_empty() && x.value != "true")
    };
    if set("audit-log-path") || set("audit-webhook-config-file") {
        return;
    }
    let path = f.list_path.clone();
    out.emit(&path, format!("kube-apiserver sets neither --audit-log-path nor --audit-webhook-config-file: no audit log ({path})"));
}
