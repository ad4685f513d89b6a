//! What may hide a finding: the configuration's `exemptions:` and the
//! `palisade.io/ignore` annotation, and which of them each front door trusts.
//!
//! `scan` and the auditor trust both: the annotation is a team's reviewed,
//! visible choice in a repository. At admission the requester wrote the
//! object, so nothing in it may lower the bar ([`Trust::Admission`]): the
//! annotation is ignored (unless the administrator opted in for named rules
//! of medium severity or lower), and an exemption that matches only on what
//! the requester chooses (a name glob or a label selector) is refused when
//! the webhook loads the configuration. At admission an exemption by name or
//! labels must also name namespaces (which RBAC controls) or requesters
//! (`users`, `groups`, `serviceAccounts`), as Pod Security Admission exempts
//! only usernames, runtime classes and namespaces.

use crate::config::{parse_expiry, Config, ConfigError, Exemption};
use crate::context::RequestInfo;
use crate::finding::Finding;
use crate::path::FieldPath;
use crate::resource::Resource;
use crate::severity::Severity;
use std::collections::HashSet;

/// Annotation listing rule IDs to ignore on an object (`*` for all).
pub const IGNORE_ANNOTATION: &str = "palisade.io/ignore";
/// Annotation giving the reason for [`IGNORE_ANNOTATION`].
pub const IGNORE_REASON_ANNOTATION: &str = "palisade.io/ignore-reason";
/// The most severe rule the annotation may ever hide at admission.
pub const ADMISSION_ANNOTATION_MAX: Severity = Severity::Medium;

/// What a front door lets hide findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Trust {
    /// `scan` and audit: every exemption and the annotation.
    #[default]
    Everything,
    /// Admission: exemptions that are not self-grantable (checked at load),
    /// and the annotation only for these rules (each of medium severity or
    /// lower; empty by default).
    Admission {
        /// Rules the annotation may hide.
        annotation_rules: HashSet<String>,
    },
}

/// A parsed `palisade.io/ignore` annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreAnnotation {
    /// The rule IDs listed (`*` for all).
    pub rules: Vec<String>,
    /// `palisade.io/ignore-reason`, or `(no reason given)`.
    pub reason: String,
}

impl IgnoreAnnotation {
    /// The annotation of `res`, if it carries one.
    pub fn of(res: &Resource) -> Option<IgnoreAnnotation> {
        let list = res.annotation(IGNORE_ANNOTATION)?;
        let rules = list
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let reason = res
            .annotation(IGNORE_REASON_ANNOTATION)
            .filter(|r| !r.trim().is_empty())
            .unwrap_or("(no reason given)")
            .to_string();
        Some(IgnoreAnnotation { rules, reason })
    }

    /// Whether it lists `f`'s rule (or one merged into it), as `trust` allows.
    pub(crate) fn hides(&self, f: &Finding, trust: &Trust) -> bool {
        let listed = |id: &str| self.rules.iter().any(|r| r == "*" || r == id);
        match trust {
            Trust::Everything => listed(&f.rule) || f.also.iter().any(|a| listed(a)),
            // Every rule merged into the finding must be allowed, or the
            // annotation would hide a stricter rule behind a lenient one.
            Trust::Admission { annotation_rules } => {
                f.severity <= ADMISSION_ANNOTATION_MAX
                    && std::iter::once(&*f.rule)
                        .chain(f.also.iter().map(|a| &**a))
                        .all(|id| annotation_rules.contains(id) && listed(id))
            }
        }
    }
}

/// One entry of `exemptions:`, compiled.
pub(crate) struct CompiledExemption {
    pub(crate) spec: Exemption,
    pub(crate) index: usize,
    names: globset::GlobSet,
    pub(crate) expires: Option<jiff::Timestamp>,
    /// Usernames of `serviceAccounts` (`system:serviceaccount:NS:NAME`).
    sa_users: Vec<String>,
}

impl CompiledExemption {
    /// Compiles `exemptions[index]`; rule IDs must be in `known`.
    pub(crate) fn compile(
        config: &Config,
        ex: &Exemption,
        index: usize,
        known: &HashSet<String>,
    ) -> Result<CompiledExemption, ConfigError> {
        let base = FieldPath::root().key("exemptions").index(index);
        for (j, id) in ex.rules.iter().enumerate() {
            if id != "*" && !known.contains(id) {
                return Err(
                    config.error_at(&base.key("rules").index(j), format!("unknown rule `{id}`"))
                );
            }
        }
        let mut names = globset::GlobSetBuilder::new();
        for (j, g) in ex.names.iter().enumerate() {
            let glob = globset::Glob::new(g)
                .map_err(|e| config.error_at(&base.key("names").index(j), e.to_string()))?;
            names.add(glob);
        }
        let names = names
            .build()
            .map_err(|e| config.error_at(&base.key("names"), e.to_string()))?;
        let expires = match &ex.expires {
            Some(t) => Some(parse_expiry(t).map_err(|m| config.error_at(&base.key("expires"), m))?),
            None => None,
        };
        let sa_users = ex
            .service_accounts
            .iter()
            .map(|sa| format!("system:serviceaccount:{}", sa.replacen('/', ":", 1)))
            .collect();
        Ok(CompiledExemption {
            spec: ex.clone(),
            index,
            names,
            expires,
            sa_users,
        })
    }

    /// Whether it hides `f` on `res` at `now`, requested by `request` (none
    /// outside admission: an exemption naming requesters then never applies).
    pub(crate) fn hides(
        &self,
        f: &Finding,
        res: &Resource,
        now: jiff::Timestamp,
        request: Option<&RequestInfo>,
    ) -> bool {
        let s = &self.spec;
        self.expires.is_none_or(|t| now < t)
            && s.rules.iter().any(|r| r == "*" || f.has_rule(r))
            && (s.namespaces.is_empty()
                || res
                    .id
                    .namespace
                    .as_deref()
                    .is_some_and(|ns| s.namespaces.iter().any(|n| n == ns)))
            && (s.names.is_empty() || self.names.is_match(&res.id.name))
            && (s.kinds.is_empty() || s.kinds.contains(&res.id.kind))
            && s.selector
                .as_ref()
                .is_none_or(|sel| sel.matches_json(res.meta("labels")))
            && (!self.names_requesters() || request.is_some_and(|r| self.requested_by(r)))
    }

    fn names_requesters(&self) -> bool {
        let s = &self.spec;
        !(s.users.is_empty() && s.groups.is_empty() && s.service_accounts.is_empty())
    }

    /// Whether the requester is one of `users`, in one of `groups` or one of
    /// `serviceAccounts`.
    fn requested_by(&self, r: &RequestInfo) -> bool {
        let s = &self.spec;
        s.users.contains(&r.username)
            || self.sa_users.contains(&r.username)
            || s.groups.iter().any(|g| r.groups.contains(g))
    }

    /// Why a requester could grant it to themselves at admission: it
    /// matches on a name glob or a label selector (both chosen by whoever
    /// writes the object) without a namespace or requester to anchor it.
    /// Returns the key to blame.
    pub(crate) fn self_grantable(&self) -> Option<&'static str> {
        let s = &self.spec;
        if !s.namespaces.is_empty() || self.names_requesters() {
            return None;
        }
        if !s.names.is_empty() {
            Some("names")
        } else if s.selector.as_ref().is_some_and(|sel| !sel.is_empty()) {
            Some("selector")
        } else {
            None
        }
    }
}

/// Checks what [`Trust::Admission`] needs of the configuration: no
/// self-grantable exemption, and annotation rules that are active and of
/// medium severity or lower. `annotation_rules` are read from the key at
/// `at`; `severity_of` gives a rule's effective severity (`None`: inactive).
pub(crate) fn check_admission(
    config: &Config,
    exemptions: &[CompiledExemption],
    annotation_rules: &[String],
    at: &FieldPath,
    severity_of: impl Fn(&str) -> Option<Severity>,
) -> Result<(), ConfigError> {
    for ex in exemptions {
        if let Some(key) = ex.self_grantable() {
            let path = FieldPath::root().key("exemptions").index(ex.index).key(key);
            return Err(config.error_at(
                &path,
                format!(
                    "refused at admission: an exemption by {} is chosen by whoever writes the object, \
                     so anyone could exempt their own objects; add `namespaces` or the requesters \
                     (`users`, `groups`, `serviceAccounts`) it is for (scan accepts it as it is)",
                    if key == "names" { "name" } else { "label selector" }
                ),
            ));
        }
    }
    for (j, id) in annotation_rules.iter().enumerate() {
        let path = at.index(j);
        match severity_of(id) {
            _ if id == "*" => {
                return Err(config.error_at(
                    &path,
                    "`*` is not allowed: name each rule the annotation may hide",
                ))
            }
            None => {
                return Err(config.error_at(&path, format!("unknown or inactive rule `{id}`")))
            }
            Some(s) if s > ADMISSION_ANNOTATION_MAX => {
                return Err(config.error_at(
                    &path,
                    format!(
                        "rule `{id}` is {s}: the annotation may hide only rules of {ADMISSION_ANNOTATION_MAX} severity or lower at admission"
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}
