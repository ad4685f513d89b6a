//! `palisade rbac who-can VERB RESOURCE [-n NS | -A] [--subresource S] [--name N] PATH...`

use super::load::{implicit_note, known_members, load, place, place_json};
use anyhow::anyhow;
use palisade_rules::rbac::palisade_rbac::builtin::DEFAULT_VERSION;
use palisade_rules::rbac::palisade_rbac::{query, resources, Grant, RbacGraph, Scope, Subject};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output of `who-can` and `can`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Lines for terminals.
    Table,
    /// JSON.
    Json,
}

/// Arguments of `palisade rbac who-can`.
#[derive(clap::Args, Debug)]
pub struct WhoCanArgs {
    /// The verb: get, list, create, delete, escalate, impersonate, ...
    verb: String,
    /// The resource as kubectl names it (`pods`, `deployments.apps`,
    /// `pods/exec`), or a non-resource URL such as `/healthz`.
    resource: String,
    /// Files, directories or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The namespace of the request [default: cluster-wide, where only
    /// ClusterRoleBindings grant].
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    namespace: Option<String>,
    /// In any namespace: RoleBindings of every namespace count too.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// The subresource (`exec`, `log`, `scale`, ...).
    #[arg(long)]
    subresource: Option<String>,
    /// The object name (rules with resourceNames match only named requests).
    #[arg(long)]
    name: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

/// Runs `who-can`.
pub fn run(args: &WhoCanArgs) -> anyhow::Result<ExitCode> {
    let loaded = load(&args.paths);
    // custom resources are known from the input's CustomResourceDefinitions
    let custom = resources::custom_resources(loaded.inventory.iter().map(|r| &**r));
    let req = resources::request(
        &args.verb,
        &args.resource,
        args.subresource.as_deref(),
        args.name.as_deref(),
        &custom,
    )
    .map_err(|e| anyhow!(e))?;
    let graph = loaded.graph();
    let g = &graph;
    let scope = match (&args.namespace, args.all_namespaces) {
        (Some(ns), _) => Scope::Namespace(ns),
        (None, true) => Scope::Any,
        (None, false) => Scope::Cluster,
    };
    let grants = g.who_can(&req, scope);
    // URLs and cluster-scoped resources are asked without a namespace
    let asked_req = query::with_scope_name(&req, scope);
    let scope = query::effective_scope(&asked_req, scope);
    let where_ = match scope {
        Scope::Namespace(ns) => format!("in namespace {ns}"),
        Scope::Any => "in some namespace".to_string(),
        Scope::Cluster => "cluster-wide".to_string(),
    };
    // the resource as resolved from discovery (`po` -> `pods`, `deploy` -> `deployments.apps`)
    let asked = format!("{} {}", args.verb, resources::describe(&asked_req));
    match args.format {
        ListFormat::Json => {
            let rows: Vec<_> = grants.iter().map(|gr| grant_json(g, gr)).collect();
            let out = json!({"request": asked, "scope": where_, "grants": rows});
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        ListFormat::Table => {
            if grants.is_empty() {
                println!("nobody can {asked} {where_}");
            } else {
                println!("who can {asked} {where_}:");
                for gr in &grants {
                    print_grant(g, gr);
                }
            }
        }
    }
    Ok(loaded.finish(ExitCode::SUCCESS))
}

/// One grant as a block of lines: the chain, then where it is and the rule.
pub fn print_grant(g: &RbacGraph, gr: &Grant) {
    let b = &g.bindings[gr.binding];
    println!("  {}", g.chain(gr));
    if b.builtin {
        println!("      binding Kubernetes default binding (bootstrap policy {DEFAULT_VERSION})");
    } else {
        println!("      binding {}", place(&b.resource));
    }
    let rule_role = &g.roles[gr.rule.role];
    let origin = if rule_role.builtin {
        "Kubernetes default role".to_string()
    } else {
        place(&rule_role.resource)
    };
    println!(
        "      rule    {} rules[{}]: {} ({origin})",
        rule_role.key,
        gr.rule.index,
        g.rule(gr.rule)
    );
    if let Some(Subject::Group(name)) = g.grant_subject(gr) {
        if let Some(note) = implicit_note(name) {
            println!("      note    {name} is {note}");
        }
        if let Some(members) = known_members(g, name) {
            let n = members.len();
            let shown: Vec<&str> = members.iter().take(10).map(String::as_str).collect();
            let more = if n > 10 {
                format!(" and {} more", n - 10)
            } else {
                String::new()
            };
            println!("      members {}{more}", shown.join(", "));
        }
    }
}

/// One grant as JSON.
pub fn grant_json(g: &RbacGraph, gr: &Grant) -> serde_json::Value {
    let b = &g.bindings[gr.binding];
    let role = &g.roles[gr.role];
    let rule_role = &g.roles[gr.rule.role];
    let subject = g.grant_subject(gr);
    json!({
        "subject": subject.map(ToString::to_string),
        "implicit": match subject {
            Some(Subject::Group(n)) => implicit_note(n),
            _ => None,
        },
        "members": match subject {
            Some(Subject::Group(n)) => known_members(g, n),
            _ => None,
        },
        "binding": {
            "kind": b.resource.id.kind,
            "namespace": b.namespace,
            "name": b.name,
            "source": place_json(&b.resource),
            "builtin": b.builtin,
        },
        "role": {
            "kind": role.key.kind.as_str(),
            "namespace": role.key.namespace,
            "name": role.key.name,
            "builtin": role.builtin,
        },
        "rule": {
            "role": rule_role.key.to_string(),
            "index": gr.rule.index,
            "text": g.rule(gr.rule).to_string(),
            "source": if rule_role.builtin { serde_json::Value::Null } else { place_json(&rule_role.resource) },
        },
        "scope": b.scope(),
    })
}
