//! `matchConstraints` / `matchResources` of ValidatingAdmissionPolicies and
//! their bindings: resource rules, exclusions and selectors.

use crate::matching::{is_cluster_scoped, namespace_object, resource_name, strings, version_of};
use palisade_core::{Context, LabelSelector, Operation, Resource};
use serde_json::Value;

/// One `resourceRules` entry.
#[derive(Debug, Clone, Default)]
struct ResourceRule {
    groups: Vec<String>,
    versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    scope: String,
    names: Vec<String>,
}

/// Which requests a policy or binding applies to.
#[derive(Debug, Clone, Default)]
pub struct MatchResources {
    rules: Vec<ResourceRule>,
    exclude: Vec<ResourceRule>,
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
}

fn rules(v: Option<&Value>) -> Vec<ResourceRule> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| ResourceRule {
            groups: strings(r.get("apiGroups")),
            versions: strings(r.get("apiVersions")),
            resources: strings(r.get("resources")),
            operations: strings(r.get("operations")),
            scope: r
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_string(),
            names: strings(r.get("resourceNames")),
        })
        .collect()
}

fn op_name(op: Operation) -> &'static str {
    match op {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

/// The resource a request is about: its `request.resource` when the API
/// server sent one (so `pods/exec` matches a CONNECT whose object is a
/// PodExecOptions), else derived from the object's kind.
struct Target<'a> {
    group: &'a str,
    version: &'a str,
    plural: String,
}

fn target<'a>(res: &'a Resource, ctx: &'a Context<'_>) -> Target<'a> {
    let requested = ctx
        .request
        .and_then(|r| r.raw.get("resource"))
        .and_then(|gvr| {
            let field = |k: &str| gvr.get(k).and_then(Value::as_str);
            Some(Target {
                group: field("group").unwrap_or(""),
                version: field("version").unwrap_or(""),
                plural: field("resource").filter(|r| !r.is_empty())?.to_string(),
            })
        });
    requested.unwrap_or_else(|| Target {
        group: res.id.group(),
        version: version_of(&res.id.api_version),
        plural: resource_name(&res.id.kind),
    })
}

impl ResourceRule {
    fn matches(&self, res: &Resource, t: &Target<'_>, op: Operation, sub: Option<&str>) -> bool {
        let id = &res.id;
        let any = |l: &[String], x: &str| l.iter().any(|v| v == "*" || v == x);
        let resource = match sub {
            Some(s) => format!("{}/{s}", t.plural),
            None => t.plural.clone(),
        };
        let res_ok = self.resources.iter().any(|r| {
            r == "*"
                || *r == resource
                || (sub.is_some() && r.strip_prefix("*/") == sub)
                || (sub.is_none() && r.strip_suffix("/*") == Some(resource.as_str()))
        });
        let cluster = is_cluster_scoped(id);
        let scope_ok = match self.scope.as_str() {
            "Cluster" => cluster,
            "Namespaced" => !cluster,
            _ => true,
        };
        any(&self.groups, t.group)
            && any(&self.versions, t.version)
            && res_ok
            && any(&self.operations, op_name(op))
            && scope_ok
            && (self.names.is_empty() || self.names.contains(&id.name))
    }
}

impl MatchResources {
    /// Parses a `matchConstraints` or `matchResources` object.
    pub fn parse(v: &Value) -> Result<MatchResources, (String, String)> {
        let sel = |k: &str| -> Result<Option<LabelSelector>, (String, String)> {
            match v.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(s) => LabelSelector::from_value(s)
                    .map(Some)
                    .map_err(|e| (k.to_string(), e)),
            }
        };
        Ok(MatchResources {
            rules: rules(v.get("resourceRules")),
            exclude: rules(v.get("excludeResourceRules")),
            namespace_selector: sel("namespaceSelector")?,
            object_selector: sel("objectSelector")?,
        })
    }

    /// Whether this applies to `res` under operation `op`. With
    /// `require_rules`, an empty `resourceRules` matches nothing (a policy's
    /// constraints); otherwise it matches everything (a binding's).
    pub fn matches(&self, res: &Resource, ctx: &Context<'_>, require_rules: bool) -> bool {
        let op = ctx.request.map_or(Operation::Create, |r| r.operation);
        let sub = ctx.request.and_then(|r| r.sub_resource.as_deref());
        let t = target(res, ctx);
        if (require_rules || !self.rules.is_empty())
            && !self.rules.iter().any(|r| r.matches(res, &t, op, sub))
        {
            return false;
        }
        if self.exclude.iter().any(|r| r.matches(res, &t, op, sub)) {
            return false;
        }
        if let Some(sel) = &self.object_selector {
            if !sel.matches_json(res.meta("labels")) {
                return false;
            }
        }
        if let Some(sel) = &self.namespace_selector {
            let is_namespace = res.id.kind == "Namespace" && res.id.group().is_empty();
            if is_namespace || !is_cluster_scoped(&res.id) {
                // An unknown namespace has no labels.
                let labels = namespace_object(res, ctx)
                    .and_then(|n| n.get("metadata").and_then(|m| m.get("labels")));
                if !sel.matches_json(labels) {
                    return false;
                }
            }
        }
        true
    }
}
