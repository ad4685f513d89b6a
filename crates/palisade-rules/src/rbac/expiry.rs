//! Time-bound memberships: `rbac-binding-expired`, `rbac-binding-no-expiry`
//! and `rbac-binding-expiry-too-long`, read from the binding annotations
//! `palisade.io/expires-at` (RFC 3339 time, or a date valid through that day,
//! UTC), `palisade.io/owner` and `palisade.io/reason`. Time is the
//! evaluation's `now`.
//!
//! Concerns: the rule IDs.

use super::{RbacData, RbacRule, Subject, Texts};
use palisade_core::{Context, Emitter, FieldPath, Resource, Rule, Severity};
use palisade_rbac::parse::EXPIRES_AT;
use palisade_rbac::{Binding, Subject as Who};
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        RbacRule::bindings(
            Texts {
                id: "rbac-binding-expired",
                severity: Severity::High,
                title: "Binding is past its palisade.io/expires-at (or the date cannot be read)",
                description: "A time-bound membership that was not removed at its expiry is \
                    authorization decay: the access was meant to end. An expiry that cannot be \
                    read ends nothing.",
                remediation: "Delete the binding (`palisade rbac prune-expired` lists them), or \
                    renew it with a new RFC 3339 expiry and reason.",
            },
            check_expired,
        ),
        RbacRule::bindings(
            Texts {
                id: "rbac-binding-no-expiry",
                severity: Severity::Medium,
                title: "Binding for a person (or a configured group or role) has no expiry",
                description: "Memberships granted to people should end unless renewed; \
                    without an expiry nobody revisits them. Which bindings need one is set in \
                    the `rbac.requireExpiry` configuration (by default: bindings naming a User).",
                remediation: "Add `palisade.io/expires-at: <RFC 3339 time>` with \
                    `palisade.io/owner` and `palisade.io/reason` annotations.",
            },
            check_no_expiry,
        ),
        RbacRule::bindings(
            Texts {
                id: "rbac-binding-expiry-too-long",
                severity: Severity::Low,
                title: "Binding expires later than the configured maximum (default 90 days)",
                description: "A far-away expiry is no expiry. Memberships are renewed on \
                    purpose, which keeps them reviewed. The maximum counts from the binding's \
                    creationTimestamp or, for manifests, from now (`rbac.maxExpiryDays`).",
                remediation:
                    "Set `palisade.io/expires-at` within the maximum and renew when needed.",
            },
            check_too_long,
        ),
    ]
}

fn annotation_path() -> FieldPath {
    FieldPath::root()
        .key("metadata")
        .key("annotations")
        .key(EXPIRES_AT)
}

fn subjects_text(b: &Binding) -> String {
    let s: Vec<String> = b.subjects.iter().map(|s| s.subject.to_string()).collect();
    if s.is_empty() {
        "no subject".into()
    } else {
        s.join(", ")
    }
}

fn owner_text(b: &Binding) -> String {
    match (&b.membership.owner, &b.membership.reason) {
        (Some(o), Some(r)) => format!(" (owner {o}, reason: {r})"),
        (Some(o), None) => format!(" (owner {o})"),
        (None, Some(r)) => format!(" (reason: {r})"),
        (None, None) => String::new(),
    }
}

fn check_expired(
    res: &Resource,
    ctx: &Context<'_>,
    _data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    match &b.membership.expires_at {
        Some(Ok(t)) if *t <= ctx.now => {
            out.emit(
                &annotation_path(),
                format!(
                    "expired at {t}: still grants {} to {}{}",
                    role_text(b),
                    subjects_text(b),
                    owner_text(b)
                ),
            );
        }
        Some(Err(e)) => {
            let raw = res
                .meta("annotations")
                .and_then(|a| a.get(EXPIRES_AT))
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .unwrap_or_default();
            out.emit(
                &annotation_path(),
                format!("{EXPIRES_AT} `{raw}` cannot be read ({e}); the membership never ends"),
            );
        }
        _ => {}
    }
}

fn role_text(b: &Binding) -> String {
    b.role_ref
        .as_ref()
        .map(|r| format!("{} {}", r.kind, r.name))
        .unwrap_or_else(|| "its role".into())
}

fn check_no_expiry(
    _res: &Resource,
    _ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    if b.membership.expires_at.is_some() {
        return;
    }
    let req = &data.settings.require_expiry;
    let role = b.role_ref.as_ref().map(|r| r.name.as_str()).unwrap_or("");
    if req.exempt_roles.iter().any(|r| r == role) {
        return;
    }
    let mut why = Vec::new();
    if req.roles.iter().any(|r| r == role) {
        why.push(format!("role {role} requires one"));
    }
    for bs in &b.subjects {
        match &bs.subject {
            Who::User(n) if req.users.unwrap_or(true) && !n.starts_with("system:") => {
                why.push(format!("User {n}"));
            }
            Who::Group(g) if req.groups.contains(g) && !req.exempt_groups.contains(g) => {
                why.push(format!("Group {g}"));
            }
            _ => {}
        }
    }
    let only_exempt_groups = !b.subjects.is_empty()
        && b.subjects
            .iter()
            .all(|s| matches!(&s.subject, Who::Group(g) if req.exempt_groups.contains(g)));
    if why.is_empty() || only_exempt_groups {
        return;
    }
    let path = if res_has_annotations(b) {
        FieldPath::root().key("metadata").key("annotations")
    } else {
        FieldPath::root().key("metadata")
    };
    out.emit(
        &path,
        format!(
            "no {EXPIRES_AT} on a binding of {} to {} ({})",
            role_text(b),
            subjects_text(b),
            why.join(", ")
        ),
    );
}

fn res_has_annotations(b: &Binding) -> bool {
    b.resource.meta("annotations").is_some()
}

fn check_too_long(
    res: &Resource,
    ctx: &Context<'_>,
    data: &RbacData,
    s: Subject<'_>,
    out: &mut Emitter<'_>,
) {
    let Subject::Binding(b, _) = s else { return };
    let Some(Ok(expires)) = &b.membership.expires_at else {
        return;
    };
    let created = res
        .meta("creationTimestamp")
        .and_then(|v| v.as_str())
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let (from, from_text) = match created {
        Some(c) => (c, "its creation"),
        None => (ctx.now, "now"),
    };
    let max_days = data.settings.max_expiry_days();
    let limit = i64::from(max_days) * 86_400;
    let length = expires.as_second() - from.as_second();
    if length > limit {
        out.emit(
            &annotation_path(),
            format!(
                "expires at {expires}, {} days after {from_text}; the maximum is {max_days} days",
                length / 86_400
            ),
        );
    }
}
