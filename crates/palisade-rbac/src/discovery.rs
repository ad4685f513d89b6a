//! The API resources of a Kubernetes version as discovery serves them
//! (shipped in `data/discovery/`, see `data/SOURCES.md`): which resources
//! are cluster-scoped, their subresources, and the names kubectl accepts for
//! them (plural, singular, kind, short names, `RES.GROUP`,
//! `RES.VERSION.GROUP`), resolved as kubectl's REST mapper resolves them.

use std::sync::OnceLock;

/// The Kubernetes version of the shipped discovery data.
pub const VERSION: &str = "1.33";

const V1_33: &str = include_str!("../data/discovery/v1.33.tsv");

/// One API resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResource {
    /// API group (empty for core).
    pub group: String,
    /// The version discovery lists it in first.
    pub version: String,
    /// Plural resource name (`deployments`).
    pub resource: String,
    /// Singular name (`deployment`).
    pub singular: String,
    /// Kind (`Deployment`).
    pub kind: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names (`deploy`).
    pub short_names: Vec<String>,
    /// Subresources (`scale`, `status`).
    pub subresources: Vec<String>,
}

impl ApiResource {
    /// `RES` or `RES.GROUP`, as kubectl prints it.
    pub fn name(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

/// Resources the authorizer is asked about that discovery does not list,
/// all asked with no namespace: impersonation
/// (`k8s.io/apiserver/pkg/endpoints/filters/impersonation.go` asks
/// `impersonate` on `users`, `groups`, `uids` and `userextras/KEY`;
/// `serviceaccounts` is asked in the account's namespace and is listed by
/// discovery) and certificate signers (`approve` and `sign` on `signers`,
/// `pkg/registry/certificates/certificates/storage` and the signing
/// controllers).
pub const AUTHORIZER_ONLY: [(&str, &str); 5] = [
    ("", "users"),
    ("", "groups"),
    ("authentication.k8s.io", "uids"),
    ("authentication.k8s.io", "userextras"),
    ("certificates.k8s.io", "signers"),
];

fn parse(text: &str) -> Vec<ApiResource> {
    let list = |s: &str| -> Vec<String> {
        if s == "-" {
            Vec::new()
        } else {
            s.split(',').map(str::to_string).collect()
        }
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.len() == 8).then(|| ApiResource {
                group: if c[0] == "-" {
                    String::new()
                } else {
                    c[0].to_string()
                },
                version: c[1].to_string(),
                resource: c[2].to_string(),
                singular: c[3].to_string(),
                kind: c[4].to_string(),
                namespaced: c[5] == "Namespaced",
                short_names: list(c[6]),
                subresources: list(c[7]),
            })
        })
        .collect()
}

/// The resources of the shipped version, in discovery order (core first).
pub fn resources() -> &'static [ApiResource] {
    static DATA: OnceLock<Vec<ApiResource>> = OnceLock::new();
    DATA.get_or_init(|| parse(V1_33))
}

/// The resource `group`/`resource` (the part before any `/`).
pub fn find(group: &str, resource: &str) -> Option<&'static ApiResource> {
    let res = resource.split('/').next().unwrap_or(resource);
    resources()
        .iter()
        .find(|r| r.group == group && r.resource == res)
}

/// Whether a request for `group`/`resource` carries no namespace: a
/// cluster-scoped resource of discovery or an impersonation target.
/// Unknown resources (custom resources) count as namespaced.
pub fn is_cluster_scoped(group: &str, resource: &str) -> bool {
    let res = resource.split('/').next().unwrap_or(resource);
    if AUTHORIZER_ONLY
        .iter()
        .any(|(g, r)| *g == group && *r == res)
    {
        return true;
    }
    find(group, res).is_some_and(|r| !r.namespaced)
}

/// Whether `group`/`resource` (with an optional `/SUB`) names something
/// that exists in the shipped version (custom resources are unknown).
pub fn exists(group: &str, resource: &str) -> bool {
    let (res, sub) = match resource.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (resource, None),
    };
    if AUTHORIZER_ONLY
        .iter()
        .any(|(g, r)| *g == group && *r == res)
    {
        return true;
    }
    match (find(group, res), sub) {
        (Some(_), None) => true,
        (Some(r), Some(s)) => r.subresources.iter().any(|x| x == s),
        (None, _) => false,
    }
}

/// How a name given on the command line was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// API group.
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Whether it is namespaced (custom resources given by the caller: as told).
    pub namespaced: bool,
}

/// Resolves `name` as kubectl does (`po`, `Pods`, `pod`, `deploy`,
/// `deployments.apps`, `deployments.v1.apps`, `Deployment`): lower-cased,
/// then an exact `RES.VERSION.GROUP` or `RES.GROUP`, then the plural,
/// singular, kind or short name in discovery order (core first), which is
/// how kubectl's priority REST mapper picks between groups. `extra` are
/// resources known besides discovery (custom resources of the input).
pub fn resolve(name: &str, extra: &[ApiResource]) -> Result<Resolved, String> {
    let lower = name.to_ascii_lowercase();
    let all = || resources().iter().chain(extra.iter());
    let hit = |r: &ApiResource| Resolved {
        group: r.group.clone(),
        resource: r.resource.clone(),
        namespaced: r.namespaced,
    };
    if let Some(r) = authorizer_only(&lower) {
        return Ok(r);
    }
    if let Some((res, rest)) = lower.split_once('.') {
        // RES.VERSION.GROUP, then RES.GROUP
        if let Some((version, group)) = rest.split_once('.') {
            if let Some(r) = all()
                .find(|r| r.group == group && r.version == version && names(r).any(|n| n == res))
            {
                return Ok(hit(r));
            }
        }
        if let Some(r) = all().find(|r| r.group == rest && names(r).any(|n| n == res)) {
            return Ok(hit(r));
        }
        return Err(unknown(name));
    }
    all()
        .find(|r| names(r).any(|n| n == lower))
        .map(hit)
        .ok_or_else(|| unknown(name))
}

/// `users`, `groups`, `uids.authentication.k8s.io`, ... (see [`AUTHORIZER_ONLY`]).
fn authorizer_only(name: &str) -> Option<Resolved> {
    AUTHORIZER_ONLY.iter().find_map(|(g, r)| {
        let full = if g.is_empty() {
            r.to_string()
        } else {
            format!("{r}.{g}")
        };
        (name == *r || name == full).then(|| Resolved {
            group: g.to_string(),
            resource: r.to_string(),
            namespaced: false,
        })
    })
}

fn names(r: &ApiResource) -> impl Iterator<Item = String> + '_ {
    [
        r.resource.clone(),
        r.singular.clone(),
        r.kind.to_ascii_lowercase(),
    ]
    .into_iter()
    .chain(r.short_names.iter().cloned())
}

fn unknown(name: &str) -> String {
    format!(
        "the server doesn't have a resource type \"{name}\" (Kubernetes {VERSION} discovery data, \
         plus the CustomResourceDefinitions of the input)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_parses() {
        let text = V1_33
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count();
        assert_eq!(resources().len(), text);
        assert!(resources().len() > 70);
    }

    #[test]
    fn kubectl_names() {
        let r = |n: &str| resolve(n, &[]).map(|r| format!("{}/{}", r.group, r.resource));
        assert_eq!(r("po").unwrap(), "/pods");
        assert_eq!(r("Pods").unwrap(), "/pods");
        assert_eq!(r("pod").unwrap(), "/pods");
        assert_eq!(r("deploy").unwrap(), "apps/deployments");
        assert_eq!(r("deployments.v1.apps").unwrap(), "apps/deployments");
        assert_eq!(r("deployments.apps").unwrap(), "apps/deployments");
        assert_eq!(r("Deployment").unwrap(), "apps/deployments");
        assert_eq!(r("ev").unwrap(), "/events");
        assert_eq!(r("events.events.k8s.io").unwrap(), "events.k8s.io/events");
        assert!(r("deployments.v2.apps").is_err());
        assert!(r("widgets").is_err());
        assert!(r("pods.apps").is_err());
    }

    #[test]
    fn scope() {
        for (g, r) in [
            ("flowcontrol.apiserver.k8s.io", "flowschemas"),
            ("networking.k8s.io", "ipaddresses"),
            ("resource.k8s.io", "deviceclasses"),
            ("", "users"),
            ("authentication.k8s.io", "userextras/scopes"),
            ("", "nodes/proxy"),
        ] {
            assert!(is_cluster_scoped(g, r), "{g}/{r}");
        }
        assert!(!is_cluster_scoped("", "serviceaccounts"));
        assert!(!is_cluster_scoped("example.com", "widgets"));
        assert!(exists("", "pods/exec"));
        assert!(!exists("", "pods/*"));
    }
}
