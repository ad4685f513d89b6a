//! `invalidFields`: Palisade's own check that every field the Pod Security
//! checks read has the type and range the API server accepts.
//!
//! The checks read valid values only; a value of the wrong type (a string
//! where a boolean belongs, a negative `runAsUser`, an unknown seccomp type)
//! would otherwise pass silently, so it is reported here, at every level.
//! A finding on a field another rule also reports carries that rule's
//! concern, so the user sees one finding.

use super::Violation;
use crate::pss::pod::{Pod, VISIT_ORDER};
use crate::workload::fields::describe;
use palisade_core::Field;
use palisade_core::FieldPath;
use serde_json::Value;

const PROFILE_TYPES: [&str; 3] = ["RuntimeDefault", "Localhost", "Unconfined"];
const PROC_MOUNTS: [&str; 2] = ["Default", "Unmasked"];
const MAX_ID: i64 = 2_147_483_647;

/// Allowed values, whether the field is required, and its concern.
type Enum<'a> = (&'a [&'a str], bool, &'static str);

/// One step below the pod spec or metadata.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Deepest path this check reports below its base (e.g.
/// `containers[0].lifecycle.postStart.httpGet.host` is 6 steps).
const MAX_STEPS: usize = 8;

/// A field path built only when a violation is reported: the base path and
/// the steps below it, on the stack (most fields are valid, and building a
/// [`FieldPath`] per visited field would dominate the check).
#[derive(Clone, Copy)]
struct P<'a> {
    base: &'a FieldPath,
    steps: [Step<'a>; MAX_STEPS],
    len: usize,
}

impl<'a> P<'a> {
    fn new(base: &'a FieldPath) -> Self {
        P {
            base,
            steps: [Step::Index(0); MAX_STEPS],
            len: 0,
        }
    }

    fn push(mut self, step: Step<'a>) -> Self {
        // The depth is the checks' own, not the input's: a deeper check
        // needs a larger MAX_STEPS (caught by the tests in debug builds).
        debug_assert!(self.len < MAX_STEPS, "field path deeper than MAX_STEPS");
        if let Some(slot) = self.steps.get_mut(self.len) {
            *slot = step;
            self.len += 1;
        }
        self
    }

    fn key(&self, key: &'a str) -> Self {
        self.push(Step::Key(key))
    }

    fn index(&self, index: usize) -> Self {
        self.push(Step::Index(index))
    }

    fn build(&self) -> FieldPath {
        self.steps[..self.len]
            .iter()
            .fold(self.base.clone(), |p, s| match *s {
                Step::Key(k) => p.with_key(k),
                Step::Index(i) => p.with_index(i),
            })
    }
}

struct V<'o> {
    out: &'o mut Vec<Violation>,
}

impl V<'_> {
    fn bad(&mut self, path: P<'_>, expected: &str, got: &Value, concern: Option<&'static str>) {
        self.bad_at(path.build(), expected, got, concern);
    }

    fn bad_at(
        &mut self,
        path: FieldPath,
        expected: &str,
        got: &Value,
        concern: Option<&'static str>,
    ) {
        let detail = format!("{path} must be {expected}, not {}", describe(got));
        let v = Violation::new(path, detail);
        self.out.push(match concern {
            Some(c) => v.concern(c),
            None => v,
        });
    }

    /// The field `key` of `obj` (skipping null); reports it when `obj` is
    /// not a mapping.
    fn field<'a>(&mut self, obj: &'a Value, key: &str) -> Option<&'a Value> {
        obj.field(key).filter(|v| !v.is_null())
    }

    fn object<'a>(&mut self, obj: &'a Value, key: &str, path: &P<'_>) -> Option<&'a Value> {
        let v = self.field(obj, key)?;
        if v.is_object() {
            Some(v)
        } else {
            self.bad(path.key(key), "a mapping", v, None);
            None
        }
    }

    fn array<'a>(&mut self, obj: &'a Value, key: &str, path: &P<'_>) -> Option<&'a Vec<Value>> {
        let v = self.field(obj, key)?;
        match v {
            Value::Array(a) => Some(a),
            _ => {
                self.bad(path.key(key), "a list", v, None);
                None
            }
        }
    }

    fn boolean(&mut self, obj: &Value, key: &str, path: &P<'_>, concern: Option<&'static str>) {
        if let Some(v) = self.field(obj, key).filter(|v| !v.is_boolean()) {
            self.bad(path.key(key), "a boolean (true or false)", v, concern);
        }
    }

    fn string(&mut self, obj: &Value, key: &str, path: &P<'_>) {
        if let Some(v) = self.field(obj, key).filter(|v| !v.is_string()) {
            self.bad(path.key(key), "a string", v, None);
        }
    }

    /// A string field that must be one of `allowed` (an enum of the API).
    fn one_of(&mut self, obj: &Value, key: &str, path: &P<'_>, allowed: Enum) {
        let (values, required, concern) = allowed;
        let got = match self.field(obj, key) {
            Some(Value::String(s)) if values.contains(&s.as_str()) => return,
            None if !required => return,
            None => &Value::Null,
            Some(v) => v,
        };
        let expected = format!("one of {}", values.join(", "));
        self.bad(path.key(key), &expected, got, Some(concern));
    }

    fn int(
        &mut self,
        obj: &Value,
        key: &str,
        path: &P<'_>,
        range: (i64, i64),
        concern: Option<&'static str>,
    ) {
        let Some(v) = self.field(obj, key) else {
            return;
        };
        if !v.as_i64().is_some_and(|n| n >= range.0 && n <= range.1) {
            let expected = format!("an integer from {} to {}", range.0, range.1);
            self.bad(path.key(key), &expected, v, concern);
        }
    }

    fn strings(&mut self, obj: &Value, key: &str, path: &P<'_>, concern: Option<&'static str>) {
        let Some(items) = self.array(obj, key, path) else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            if !item.is_string() {
                self.bad(path.key(key).index(i), "a string", item, concern);
            }
        }
    }

    /// The fields both pod and container security contexts have.
    fn security_context(&mut self, sc: &Value, p: &P<'_>) {
        self.boolean(sc, "runAsNonRoot", p, Some("run-as-root"));
        self.int(sc, "runAsUser", p, (0, MAX_ID), Some("run-as-root"));
        if let Some(se) = self.object(sc, "seLinuxOptions", p) {
            let sp = p.key("seLinuxOptions");
            for k in ["user", "role", "type", "level"] {
                self.string(se, k, &sp);
            }
        }
        for (key, concern) in [
            ("seccompProfile", "seccomp-profile"),
            ("appArmorProfile", "apparmor-profile"),
        ] {
            if let Some(profile) = self.object(sc, key, p) {
                let pp = p.key(key);
                self.one_of(profile, "type", &pp, (&PROFILE_TYPES, true, concern));
                self.string(profile, "localhostProfile", &pp);
            }
        }
        if let Some(w) = self.object(sc, "windowsOptions", p) {
            self.boolean(w, "hostProcess", &p.key("windowsOptions"), None);
        }
    }

    fn container(&mut self, c: &Value, p: &P<'_>) {
        self.string(c, "name", p);
        if let Some(sc) = self.object(c, "securityContext", p) {
            let sp = p.key("securityContext");
            self.security_context(sc, &sp);
            self.boolean(sc, "privileged", &sp, Some("privileged"));
            self.boolean(
                sc,
                "allowPrivilegeEscalation",
                &sp,
                Some("privilege-escalation"),
            );
            self.one_of(sc, "procMount", &sp, (&PROC_MOUNTS, false, "proc-mount"));
            if let Some(caps) = self.object(sc, "capabilities", &sp) {
                let cp = sp.key("capabilities");
                self.strings(caps, "add", &cp, Some("capabilities-added"));
                self.strings(caps, "drop", &cp, Some("capabilities-dropped"));
            }
        }
        if let Some(ports) = self.array(c, "ports", p) {
            for (j, port) in ports.iter().enumerate() {
                let pp = p.key("ports").index(j);
                if port.is_object() {
                    self.int(port, "hostPort", &pp, (0, 65535), Some("host-port"));
                } else {
                    self.bad(pp, "a mapping", port, None);
                }
            }
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if let Some(pr) = self.object(c, probe, p) {
                self.handler(pr, &p.key(probe));
            }
        }
        if let Some(lc) = self.object(c, "lifecycle", p) {
            for hook in ["postStart", "preStop"] {
                if let Some(h) = self.object(lc, hook, &p.key("lifecycle")) {
                    self.handler(h, &p.key("lifecycle").key(hook));
                }
            }
        }
    }

    fn handler(&mut self, h: &Value, p: &P<'_>) {
        for kind in ["httpGet", "tcpSocket"] {
            if let Some(x) = self.object(h, kind, p) {
                self.string(x, "host", &p.key(kind));
            }
        }
    }
}

/// invalidFields v1.0.
pub fn invalid_fields_1_0(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    let mut v = V { out };
    let spec = pod.spec;
    let p = &P::new(pod.spec_path);
    let meta_path = &P::new(pod.meta_path);
    if let Some(meta) = pod.meta {
        if !meta.is_object() {
            v.bad_at(pod.meta_path.clone(), "a mapping", meta, None);
        } else if let Some(ann) = v.object(meta, "annotations", meta_path) {
            for (k, val) in ann.as_object().into_iter().flatten() {
                if !val.is_string() {
                    v.bad_at(pod.annotation_path(k), "a string", val, None);
                }
            }
        }
    }
    for (key, concern) in [
        ("hostNetwork", "host-network"),
        ("hostPID", "host-pid"),
        ("hostIPC", "host-ipc"),
    ] {
        v.boolean(spec, key, p, Some(concern));
    }
    v.boolean(spec, "hostUsers", p, None);
    v.string(spec, "runtimeClassName", p);
    if let Some(os) = v.object(spec, "os", p) {
        v.string(os, "name", &p.key("os"));
    }
    if let Some(sc) = v.object(spec, "securityContext", p) {
        let sp = p.key("securityContext");
        v.security_context(sc, &sp);
        if let Some(sysctls) = v.array(sc, "sysctls", &sp) {
            for (i, s) in sysctls.iter().enumerate() {
                let ip = sp.key("sysctls").index(i);
                if s.is_object() {
                    v.string(s, "name", &ip);
                } else {
                    v.bad(ip, "a mapping", s, None);
                }
            }
        }
    }
    if let Some(volumes) = v.array(spec, "volumes", p) {
        for (i, vol) in volumes.iter().enumerate() {
            let vp = p.key("volumes").index(i);
            if vol.is_object() {
                if let Some(hp) = vol
                    .field("hostPath")
                    .filter(|h| !h.is_null() && !h.is_object())
                {
                    v.bad(
                        vp.key("hostPath"),
                        "a mapping",
                        hp,
                        Some("host-path-volume"),
                    );
                }
            } else {
                v.bad(vp, "a mapping", vol, None);
            }
        }
    }
    if let Some(found) = pod.elsewhere {
        // containers outside the spec (Argo Workflows, Tekton)
        for c in found {
            let cp = P::new(&c.path);
            if c.value.is_object() {
                v.container(c.value, &cp);
            } else {
                v.bad_at(c.path.clone(), "a mapping", c.value, None);
            }
        }
        return;
    }
    for list in VISIT_ORDER {
        let Some(items) = v.array(spec, list, p) else {
            continue;
        };
        for (i, c) in items.iter().enumerate() {
            let cp = p.key(list).index(i);
            if c.is_object() {
                v.container(c, &cp);
            } else {
                v.bad(cp, "a mapping", c, None);
            }
        }
    }
}
