//! Deciding one admission request with the current engine.

use crate::engine::Engine;
use crate::images::Checked;
use crate::mutate::patch_for;
use crate::review::{Response, Review};
use base64::Engine as _;
use palisade_core::policy_set::IGNORE_ANNOTATION;
use palisade_core::{Action, Context, Finding, Inventory, Operation, Resource, Suppressed};
use palisade_core::{Field, Trust};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Which endpoint asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/validate`: enforce, warn, audit.
    Validate,
    /// `/mutate`: patches only, never denies.
    Mutate,
}

/// The outcome, with what the metrics and logs need.
pub struct Decision {
    /// The response to send.
    pub response: Response,
    /// `allowed`, `denied`, `warned`, `audited`, `mutated`, `excluded`,
    /// `invalid`, `cancelled`, `overloaded`.
    pub label: &'static str,
    /// The findings that were acted on.
    pub findings: Vec<Finding>,
}

/// Decides `review` with `engine`; the review's subject is moved out of it.
/// Evaluation stops between rules once `cancel` is set (the caller left).
pub fn decide(
    engine: &Engine,
    review: &mut Review,
    endpoint: Endpoint,
    cancel: Option<&AtomicBool>,
) -> Decision {
    decide_with(engine, review, endpoint, cancel, None)
}

/// [`decide`] with the verdicts on the object's images (see
/// [`crate::images::check_review`]): the image rules read them, and
/// `/mutate` pins the verified digests.
pub fn decide_with(
    engine: &Engine,
    review: &mut Review,
    endpoint: Endpoint,
    cancel: Option<&AtomicBool>,
    images: Option<Checked>,
) -> Decision {
    let uid = &review.uid;
    let plain = |label, response| Decision {
        response,
        label,
        findings: Vec::new(),
    };
    if !review.namespace.is_empty()
        && engine
            .settings
            .excluded(&engine.own_namespace, &review.namespace)
    {
        return plain("excluded", Response::allow(uid));
    }
    let Some(subject) = review.subject.take() else {
        // CONNECT without options or DELETE without oldObject: nothing to check.
        return plain("allowed", Response::allow(uid));
    };
    let Some(mut res) = Resource::from_value(subject) else {
        let msg = format!(
            "palisade: the {} object has no apiVersion and kind and request.kind does not name them",
            if review.info.operation == Operation::Delete { "oldObject" } else { "object" }
        );
        return plain("invalid", Response::deny(uid, 400, "BadRequest", msg));
    };
    if let Some(msg) = kind_mismatch(review, &res) {
        return plain("invalid", Response::deny(uid, 400, "BadRequest", msg));
    }
    if res.id.namespace.is_none() && !review.namespace.is_empty() {
        res.id.namespace = Some(review.namespace.clone());
    }
    if endpoint == Endpoint::Mutate {
        return mutate(engine, review, &res, images.as_ref());
    }
    let subject = Arc::new(res);
    let inventory = Inventory::new(inventory_items(engine, &subject));
    let res = &subject;
    let mut ext = engine.policies.prepare(&inventory);
    let mut pending = Vec::new();
    if let Some(c) = images {
        if let Some(v) = c.verdicts {
            ext.insert(v);
        }
        if let Some(content) = c.content {
            ext.insert(content.contents);
            pending = content.pending;
        }
    }
    let mut ctx = Context::new(&inventory, &ext, jiff::Timestamp::now());
    ctx.request = Some(&review.info);
    ctx.cancel = cancel;
    let eval = engine.policies.evaluate(res, &ctx);
    if eval.cancelled {
        return plain(
            "cancelled",
            Response::deny(
                uid,
                503,
                "ServiceUnavailable",
                "palisade: evaluation cancelled".into(),
            ),
        );
    }
    let mut findings = eval.findings;
    if review.info.operation == Operation::Delete || metadata_only_pod_update(review, res) {
        // A deletion removes a problem, and an update of a pod that leaves
        // its spec alone (labels, annotations, owner references set by
        // controllers) adds none, as the built-in Pod Security controller
        // decides: only policies that match the operation themselves apply.
        findings.retain(|f| engine.is_operation_aware(&f.rule));
    }
    let mut decision = respond(uid, findings, engine.settings.max_listed());
    note_pending(&mut decision, &pending);
    note_exemptions(
        &mut decision.response,
        &eval.suppressed,
        engine.settings.max_listed(),
    );
    if res.annotation(IGNORE_ANNOTATION).is_some() {
        decision
            .response
            .warnings
            .push(ignored_annotation_warning(engine));
    }
    decision
}

/// The kinds whose rules read the cluster's RBAC objects at admission.
const RBAC_KINDS: [&str; 4] = ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];

/// What a review is judged with beside the object: its namespace (from
/// the cluster and the configuration, never from earlier reviews) and, for
/// an RBAC object with `serve --cluster`, the cluster's roles and bindings
/// (without the object's current version, which the review replaces), so a
/// binding is judged by the rules of the role it grants.
fn inventory_items(engine: &Engine, subject: &Arc<Resource>) -> Vec<Arc<Resource>> {
    let mut items = vec![subject.clone()];
    let rbac = subject.id.api_version == "rbac.authorization.k8s.io/v1"
        && RBAC_KINDS.contains(&subject.id.kind.as_str());
    match (&engine.cluster, rbac) {
        (Some(cluster), true) => {
            // No Namespace here: the graph would take the namespace as
            // described, and its service accounts (not watched) as missing.
            items.extend(
                cluster
                    .rbac_objects()
                    .into_iter()
                    .filter(|r| r.id != subject.id),
            );
        }
        _ => {
            if let Some(ns) = subject.id.namespace.as_deref() {
                if let Some(n) = engine.namespace(ns) {
                    items.push(n);
                }
            }
        }
    }
    items
}

/// Why the object's own `apiVersion`/`kind` is not what `request.kind`
/// says: the API server stores the object, so judging by one and storing
/// the other would let a faked review pass anything (a real API server
/// never sends this).
fn kind_mismatch(review: &Review, res: &Resource) -> Option<String> {
    let k = &review.request_kind;
    if k.kind.is_empty() || k.version.is_empty() {
        return None;
    }
    let api = if k.group.is_empty() {
        k.version.clone()
    } else {
        format!("{}/{}", k.group, k.version)
    };
    (res.id.api_version != api || res.id.kind != k.kind).then(|| {
        format!(
            "palisade: the object is {} {} but request.kind is {api} {}: refusing to judge one and admit the other",
            res.id.api_version, res.id.kind, k.kind
        )
    })
}

/// The warning for an object carrying `palisade.io/ignore`: it is read at
/// admission only for the rules the administrator allowed.
fn ignored_annotation_warning(engine: &Engine) -> String {
    let allowed = match engine.policies.trust() {
        Trust::Admission { annotation_rules } if !annotation_rules.is_empty() => {
            let mut v: Vec<&str> = annotation_rules.iter().map(String::as_str).collect();
            v.sort_unstable();
            format!("only for {}", v.join(", "))
        }
        _ => "for no rule".to_string(),
    };
    format!("{IGNORE_ANNOTATION} is honoured at admission {allowed}; exemptions come from the webhook's configuration")
}

/// Answers for the images whose content is not inspected yet: each one
/// its policy denies is a denial (added to the findings' message), the
/// others a warning.
fn note_pending(decision: &mut Decision, pending: &[crate::content::Pending]) {
    let (allowed, denied): (Vec<_>, Vec<_>) = pending.iter().partition(|p| p.allow);
    for p in allowed {
        decision.response.warnings.push(format!(
            "palisade: admitted by onRegistryError: allow: {}",
            p.message
        ));
    }
    if denied.is_empty() {
        return;
    }
    let text: Vec<&str> = denied.iter().map(|p| p.message.as_str()).collect();
    let text = format!(
        "image content unknown (onRegistryError: deny): {}",
        text.join("; ")
    );
    let r = &mut decision.response;
    match r.status.as_mut().filter(|_| !r.allowed) {
        Some(status) => {
            status.message.push_str("; ");
            status.message.push_str(&text);
        }
        None => {
            let warnings = std::mem::take(&mut r.warnings);
            *r = Response::deny(&r.uid, 403, "Forbidden", format!("palisade: {text}"));
            r.warnings = warnings;
            decision.label = "denied";
        }
    }
}

/// Records the exemptions that hid findings in the `exempted` audit
/// annotation: `RULE by exemptions[N]: REASON`, at most `max` of them.
fn note_exemptions(response: &mut Response, suppressed: &[Suppressed], max: usize) {
    if suppressed.is_empty() {
        return;
    }
    let mut text = String::new();
    for s in suppressed.iter().take(max) {
        if !text.is_empty() {
            text.push_str("; ");
        }
        let _ = write!(text, "{} by {}: {}", s.finding.rule, s.by, s.reason);
    }
    if suppressed.len() > max {
        let _ = write!(text, "; and {} more", suppressed.len() - max);
    }
    response.audit_annotations.insert("exempted".into(), text);
}

fn mutate(engine: &Engine, review: &Review, res: &Resource, images: Option<&Checked>) -> Decision {
    let mut response = Response::allow(&review.uid);
    let mut label = "allowed";
    let pins = match (&engine.images, images) {
        (
            Some(imgs),
            Some(Checked {
                images,
                verdicts: Some(v),
                ..
            }),
        ) => imgs.pins(images, v),
        _ => Vec::new(),
    };
    let mut ops: Vec<Value> = pins
        .iter()
        .map(|(path, value)| json!({"op": "replace", "path": path, "value": value}))
        .collect();
    if engine.settings.mutate {
        // The hardening patch applies after the pins: computed on the
        // pinned object, it never undoes them.
        let pinned;
        let base = if pins.is_empty() {
            &res.value
        } else {
            let mut v = res.value.clone();
            for (path, value) in &pins {
                if let Some(slot) = v.pointer_mut(path) {
                    *slot = Value::String(value.clone());
                }
            }
            pinned = v;
            &pinned
        };
        if let Some(p) = patch_for(
            base,
            review.info.operation,
            review.info.sub_resource.as_deref(),
        ) {
            match serde_json::to_value(&p) {
                Ok(Value::Array(more)) => ops.extend(more),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "cannot serialize patch"),
            }
        }
    }
    if !ops.is_empty() {
        match serde_json::to_vec(&ops) {
            Ok(bytes) => {
                response.patch_type = Some("JSONPatch");
                response.patch = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
                label = "mutated";
            }
            Err(e) => tracing::error!(error = %e, "cannot serialize patch"),
        }
    }
    Decision {
        response,
        label,
        findings: Vec::new(),
    }
}

/// Turns findings into a response: any enforced finding denies (403, one
/// line per violation with rule, field and message), warned ones become
/// `warnings`, audited ones `auditAnnotations` (one key per rule).
/// A finding as one line of a denial or a warning.
struct Line<'a>(&'a Finding);

impl std::fmt::Display for Line<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let f = self.0;
        write!(out, "[{}] {}: {}{}", f.rule, f.severity, f.message, At(f))
    }
}

/// ` (at PATH)` after a finding's message, unless the message names the
/// path itself (most built-in messages do).
struct At<'a>(&'a Finding);

impl std::fmt::Display for At<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let f = self.0;
        if names(&f.message, &f.path) {
            return Ok(());
        }
        write!(out, " (at {})", f.path)
    }
}

/// Whether `message` contains `path` (true for an empty path). A plain
/// scan: messages are short, and `str::contains` costs more to set up
/// than this costs to run on them.
fn names(message: &str, path: &str) -> bool {
    let (m, p) = (message.as_bytes(), path.as_bytes());
    let Some(&first) = p.first() else {
        return true;
    };
    m.len() >= p.len() && (0..=m.len() - p.len()).any(|i| m[i] == first && m[i..].starts_with(p))
}

/// At most `max` findings of each action are listed; the counts are exact.
fn respond(uid: &str, findings: Vec<Finding>, max: usize) -> Decision {
    let mut denied = 0;
    let mut denial = String::new(); // one `- line` per enforced finding
    let mut warnings = Vec::new();
    let (mut warned, mut audited) = (0, 0);
    let mut audit: BTreeMap<String, String> = BTreeMap::new();
    for f in &findings {
        match f.action {
            Action::Enforce => {
                denied += 1;
                if denied <= max {
                    let _ = write!(denial, "\n- {}", Line(f));
                }
            }
            Action::Warn => {
                warned += 1;
                if warned <= max {
                    warnings.push(Line(f).to_string());
                }
            }
            Action::Audit => {
                audited += 1;
                if audited > max {
                    continue;
                }
                let e = audit.entry(annotation_key(&f.rule)).or_default();
                if !e.is_empty() {
                    e.push_str("; ");
                }
                let _ = write!(e, "{}{}", f.message, At(f));
            }
        }
    }
    if denied > max {
        let _ = write!(denial, "\n- ... and {} more", denied - max);
    }
    if warned > max {
        warnings.push(format!("... and {} more warnings", warned - max));
    }
    if audited > max {
        audit.insert(
            "more".into(),
            format!("{} more audited findings", audited - max),
        );
    }
    let (mut response, label) = if denied == 0 {
        let label = if !warnings.is_empty() {
            "warned"
        } else if !audit.is_empty() {
            "audited"
        } else {
            "allowed"
        };
        (Response::allow(uid), label)
    } else {
        let msg = format!(
            "denied by palisade: {denied} violation{}:{denial}",
            if denied == 1 { "" } else { "s" },
        );
        (Response::deny(uid, 403, "Forbidden", msg), "denied")
    };
    response.warnings = warnings;
    response.audit_annotations = audit;
    Decision {
        response,
        label,
        findings,
    }
}

/// An UPDATE of a Pod (not a subresource) whose `spec` is unchanged.
pub(crate) fn metadata_only_pod_update(review: &Review, res: &Resource) -> bool {
    review.info.operation == Operation::Update
        && review.info.sub_resource.is_none()
        && res.id.kind == "Pod"
        && res.id.group().is_empty()
        && review
            .info
            .old_object
            .as_ref()
            .is_some_and(|old| old.field("spec") == res.value.field("spec"))
}

/// A rule ID as an `auditAnnotations` key: the API server prefixes it with
/// the webhook name and a `/`, so it must be a plain name (at most 63
/// characters of letters, digits, `-`, `_`, `.`, alphanumeric at both ends).
/// User policy IDs (`policy/binding`) get `.` for `/`.
pub fn annotation_key(rule: &str) -> String {
    let mapped: String = rule
        .chars()
        .map(|c| match c {
            '/' => '.',
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') => c,
            _ => '-',
        })
        .take(63)
        .collect();
    let key = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if key.is_empty() {
        "palisade".into()
    } else {
        key.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{annotation_key, names};

    #[test]
    fn names_finds_the_path_anywhere_in_the_message() {
        assert!(names("x (spec.a)", "spec.a"));
        assert!(names("spec.a: true", "spec.a"));
        assert!(names("anything", ""));
        assert!(!names("sets spec.b", "spec.a"));
        assert!(!names("spec", "spec.a"));
    }

    #[test]
    fn audit_annotation_keys_are_plain_names() {
        assert_eq!(annotation_key("image-not-pinned"), "image-not-pinned");
        assert_eq!(
            annotation_key("no-exec/no-exec-binding"),
            "no-exec.no-exec-binding"
        );
        assert_eq!(annotation_key("-weird key!/"), "weird-key");
        assert_eq!(annotation_key(&"a".repeat(100)).len(), 63);
        assert_eq!(annotation_key("///"), "palisade");
    }
}
