//! How the Kubernetes RBAC authorizer matches a request against a policy
//! rule (`pkg/apis/rbac/v1/evaluation_helpers.go` and `RuleAllows` in
//! `plugin/pkg/auth/authorizer/rbac`), reproduced exactly:
//!
//! - a verb, API group or resource `*` matches anything;
//! - `*/SUB` matches subresource `SUB` of any resource; `RES/*` is *not* a
//!   wildcard (Kubernetes rejected it on purpose) and only matches literally;
//! - a rule with `resourceNames` matches only requests naming one of them
//!   (so never `list`, `watch` or `create`, which carry no name);
//! - a non-resource URL rule matches `*`, the exact path, or, when it ends in
//!   `*`, every path starting with what comes before the `*`.

use crate::model::PolicyRule;

/// What is asked: a resource request or a non-resource URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The verb (`get`, `create`, `escalate`, ...).
    pub verb: String,
    /// What the verb applies to.
    pub target: Target,
}

/// A resource (with optional subresource and name) or a URL path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A resource request.
    Resource {
        /// API group (empty for core).
        group: String,
        /// Resource, e.g. `pods`.
        resource: String,
        /// Subresource, e.g. `exec` (empty when none).
        subresource: String,
        /// Object name (empty when none, as for list and create).
        name: String,
    },
    /// A non-resource URL, e.g. `/healthz`.
    NonResource {
        /// The path.
        path: String,
    },
}

impl Request {
    /// A resource request.
    pub fn resource(
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
        name: &str,
    ) -> Self {
        Request {
            verb: verb.to_string(),
            target: Target::Resource {
                group: group.to_string(),
                resource: resource.to_string(),
                subresource: subresource.to_string(),
                name: name.to_string(),
            },
        }
    }

    /// A non-resource URL request.
    pub fn url(verb: &str, path: &str) -> Self {
        Request {
            verb: verb.to_string(),
            target: Target::NonResource {
                path: path.to_string(),
            },
        }
    }
}

/// `VerbMatches`.
pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

/// `APIGroupMatches`.
pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == "*" || g == group)
}

/// `ResourceMatches`: `combined` is `resource` or `resource/subresource`.
pub fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        r == "*"
            || r == combined
            || (!subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource))
    })
}

/// `ResourceNameMatches`.
pub fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == name)
}

/// `NonResourceURLMatches`.
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == "*" || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
    })
}

/// `RuleAllows`: whether `rule` grants `req`.
pub fn rule_allows(rule: &PolicyRule, req: &Request) -> bool {
    if !verb_matches(rule, &req.verb) {
        return false;
    }
    match &req.target {
        Target::Resource {
            group,
            resource,
            subresource,
            name,
        } => {
            let combined = if subresource.is_empty() {
                resource.clone()
            } else {
                format!("{resource}/{subresource}")
            };
            api_group_matches(rule, group)
                && resource_matches(rule, &combined, subresource)
                && resource_name_matches(rule, name)
        }
        Target::NonResource { path } => non_resource_url_matches(rule, path),
    }
}

/// Whether the permissions of `owner` cover everything `rule` grants, as the
/// escalation check of Kubernetes (`validation.Covers`) decides: each
/// (verb, group, resource, name) of `rule` must be granted by one rule of
/// `owner`, where a `*` in `rule` is only covered by a `*`.
pub fn covers<'a, I>(owner: I, rule: &PolicyRule) -> bool
where
    I: IntoIterator<Item = &'a PolicyRule> + Clone,
{
    let names: Vec<&str> = if rule.resource_names.is_empty() {
        vec![""]
    } else {
        rule.resource_names.iter().map(String::as_str).collect()
    };
    for verb in &rule.verbs {
        for url in &rule.non_resource_urls {
            if !owner.clone().into_iter().any(|o| {
                has(&o.verbs, verb) && o.non_resource_urls.iter().any(|u| url_covers(u, url))
            }) {
                return false;
            }
        }
        for group in &rule.api_groups {
            for res in &rule.resources {
                for name in &names {
                    if !owner.clone().into_iter().any(|o| {
                        has(&o.verbs, verb)
                            && has(&o.api_groups, group)
                            && o.resources.iter().any(|r| resource_covers(r, res))
                            && (o.resource_names.is_empty()
                                || (!name.is_empty() && o.resource_names.iter().any(|n| n == name)))
                    }) {
                        return false;
                    }
                }
            }
        }
    }
    true
}

fn has(list: &[String], item: &str) -> bool {
    list.iter().any(|x| x == "*" || x == item)
}

fn resource_covers(owner: &str, res: &str) -> bool {
    if owner == "*" || owner == res {
        return true;
    }
    match (owner.strip_prefix("*/"), res.split_once('/')) {
        (Some(sub), Some((_, rsub))) => sub == rsub,
        _ => false,
    }
}

fn url_covers(owner: &str, url: &str) -> bool {
    owner == "*"
        || owner == url
        || (owner.ends_with('*') && url.starts_with(owner.trim_end_matches('*')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], res: &[&str], names: &[&str]) -> PolicyRule {
        let s = |l: &[&str]| l.iter().map(|x| x.to_string()).collect();
        PolicyRule {
            verbs: s(verbs),
            api_groups: s(groups),
            resources: s(res),
            resource_names: s(names),
            non_resource_urls: Vec::new(),
        }
    }

    #[test]
    fn star_slash_subresource_but_not_resource_slash_star() {
        let any_exec = rule(&["create"], &[""], &["*/exec"], &[]);
        assert!(rule_allows(
            &any_exec,
            &Request::resource("create", "", "pods", "exec", "")
        ));
        assert!(!rule_allows(
            &any_exec,
            &Request::resource("create", "", "pods", "", "")
        ));
        assert!(!rule_allows(
            &any_exec,
            &Request::resource("create", "", "pods", "execx", "")
        ));
        let pods_star = rule(&["create"], &[""], &["pods/*"], &[]);
        assert!(!rule_allows(
            &pods_star,
            &Request::resource("create", "", "pods", "exec", "")
        ));
        assert!(rule_allows(
            &pods_star,
            &Request::resource("create", "", "pods", "*", "")
        ));
    }

    #[test]
    fn resource_names_need_a_named_request() {
        let r = rule(&["get", "list"], &[""], &["secrets"], &["db"]);
        assert!(rule_allows(
            &r,
            &Request::resource("get", "", "secrets", "", "db")
        ));
        assert!(!rule_allows(
            &r,
            &Request::resource("get", "", "secrets", "", "other")
        ));
        assert!(!rule_allows(
            &r,
            &Request::resource("list", "", "secrets", "", "")
        ));
    }

    #[test]
    fn non_resource_urls() {
        let mut r = rule(&["get"], &[], &[], &[]);
        r.non_resource_urls = vec!["/healthz".into(), "/apis/*".into()];
        assert!(rule_allows(&r, &Request::url("get", "/healthz")));
        assert!(!rule_allows(&r, &Request::url("get", "/healthz/ready")));
        assert!(rule_allows(&r, &Request::url("get", "/apis/apps/v1")));
        assert!(rule_allows(&r, &Request::url("get", "/apis/")));
        assert!(!rule_allows(&r, &Request::url("get", "/apis")));
        assert!(!rule_allows(&r, &Request::url("post", "/healthz")));
        // a resource rule never grants a URL, and a URL rule never a resource
        assert!(!rule_allows(
            &rule(&["*"], &["*"], &["*"], &[]),
            &Request::url("get", "/healthz")
        ));
        assert!(!rule_allows(
            &r,
            &Request::resource("get", "", "pods", "", "")
        ));
    }

    #[test]
    fn covers_like_the_escalation_check() {
        let owner = [rule(&["get", "list"], &[""], &["pods", "secrets"], &[])];
        assert!(covers(&owner, &rule(&["get"], &[""], &["pods"], &[])));
        assert!(covers(&owner, &rule(&["get"], &[""], &["secrets"], &["x"])));
        assert!(!covers(&owner, &rule(&["*"], &[""], &["pods"], &[])));
        assert!(!covers(&owner, &rule(&["get"], &[""], &["pods/exec"], &[])));
        let named = [rule(&["get"], &[""], &["secrets"], &["x"])];
        assert!(!covers(&named, &rule(&["get"], &[""], &["secrets"], &[])));
        let sub = [rule(&["get"], &[""], &["*/log"], &[])];
        assert!(covers(&sub, &rule(&["get"], &[""], &["pods/log"], &[])));
    }
}
