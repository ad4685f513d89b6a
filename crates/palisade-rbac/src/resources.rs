//! Naming resources on the command line as kubectl does: `pods`, `po`,
//! `deploy`, `deployments.apps`, `deployments.v1.apps`, `pods/exec`, or a
//! non-resource URL such as `/healthz`. Names are resolved against the
//! shipped discovery data ([`crate::discovery`]) and the custom resources
//! of the input; an unknown name is an error, as in kubectl.

use crate::discovery::{self, ApiResource};
use crate::matching::{Request, Target};
use palisade_core::{Field, Resource};
use serde_json::Value;

/// Whether a request for `group`/`resource` carries no namespace (see
/// [`discovery::is_cluster_scoped`]).
pub fn is_cluster_scoped(group: &str, resource: &str) -> bool {
    discovery::is_cluster_scoped(group, resource)
}

/// The resources the CustomResourceDefinitions among `objects` define.
pub fn custom_resources<'a>(objects: impl IntoIterator<Item = &'a Resource>) -> Vec<ApiResource> {
    objects
        .into_iter()
        .filter(|r| r.id.kind == "CustomResourceDefinition")
        .filter_map(|r| {
            let spec = r.value.field("spec")?;
            let names = spec.field("names")?;
            let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
            let version = spec
                .field("versions")
                .and_then(Value::as_array)
                .and_then(|v| v.first())
                .map(|v| text(v.field("name")))
                .unwrap_or_default();
            let plural = text(names.field("plural"));
            (!plural.is_empty()).then(|| ApiResource {
                group: text(spec.field("group")),
                version,
                resource: plural,
                singular: text(names.field("singular")),
                kind: text(names.field("kind")),
                namespaced: text(spec.field("scope")) != "Cluster",
                short_names: names
                    .field("shortNames")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                subresources: Vec::new(),
            })
        })
        .collect()
}

/// Builds a request from the command-line words: `verb`, `resource`
/// (`RES`, `RES.GROUP`, `RES.VERSION.GROUP`, `RES/SUB`, or a URL starting
/// with `/`), an optional `--subresource` and an optional object name.
/// `extra` are the custom resources of the input.
pub fn request(
    verb: &str,
    resource: &str,
    subresource: Option<&str>,
    name: Option<&str>,
    extra: &[ApiResource],
) -> Result<Request, String> {
    if verb.is_empty() {
        return Err("the verb is empty".into());
    }
    if resource.starts_with('/') {
        if subresource.is_some() || name.is_some() {
            return Err(format!(
                "`{resource}` is a URL: --subresource and --name do not apply"
            ));
        }
        return Ok(Request::url(verb, resource));
    }
    let (res, inline_sub) = match resource.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (resource, None),
    };
    let sub = match (inline_sub, subresource) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "`{resource}` already names a subresource; drop --subresource"
            ))
        }
        (a, b) => a.or(b).unwrap_or(""),
    };
    if res.is_empty() {
        return Err(format!("`{resource}`: the resource is empty"));
    }
    let resolved = discovery::resolve(res, extra)?;
    if !sub.is_empty() {
        let known = discovery::find(&resolved.group, &resolved.resource)
            .map(|r| r.subresources.iter().any(|s| s == sub));
        if known == Some(false) {
            return Err(format!(
                "`{}` has no subresource `{sub}` (Kubernetes {} discovery data)",
                display_name(&resolved.group, &resolved.resource),
                discovery::VERSION
            ));
        }
    }
    Ok(Request::resource(
        verb,
        &resolved.group,
        &resolved.resource,
        sub,
        name.unwrap_or(""),
    ))
}

/// `RES` or `RES.GROUP`.
fn display_name(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// What a request is about, as kubectl prints a resolved resource:
/// `pods`, `deployments.apps/scale`, `secrets db`, or the URL.
pub fn describe(req: &Request) -> String {
    match &req.target {
        Target::NonResource { path } => path.clone(),
        Target::Resource {
            group,
            resource,
            subresource,
            name,
        } => {
            let mut s = display_name(group, resource);
            if !subresource.is_empty() {
                s.push('/');
                s.push_str(subresource);
            }
            if !name.is_empty() {
                s.push(' ');
                s.push_str(name);
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_forms() {
        let r = request("create", "pods/exec", None, None, &[]).unwrap();
        assert_eq!(r, Request::resource("create", "", "pods", "exec", ""));
        let r = request("get", "deploy", Some("scale"), None, &[]).unwrap();
        assert_eq!(
            r,
            Request::resource("get", "apps", "deployments", "scale", "")
        );
        assert_eq!(describe(&r), "deployments.apps/scale");
        let r = request("get", "/healthz", None, None, &[]).unwrap();
        assert!(matches!(r.target, Target::NonResource { .. }));
        assert!(request("get", "pods/log", Some("exec"), None, &[]).is_err());
        assert!(request("get", "widgets.example.com", None, Some("w1"), &[]).is_err());
        assert!(request("get", "pods/nope", None, None, &[]).is_err());
        let crd = ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            resource: "widgets".into(),
            singular: "widget".into(),
            kind: "Widget".into(),
            namespaced: true,
            short_names: vec!["wd".into()],
            subresources: Vec::new(),
        };
        let r = request("get", "wd", None, Some("w1"), &[crd]).unwrap();
        assert_eq!(
            r,
            Request::resource("get", "example.com", "widgets", "", "w1")
        );
    }
}
