//! `palisade rbac can SUBJECT PATH...`: every permission of a user, group or
//! service account, with its implicit groups.

use super::load::load;
use super::who_can::{grant_json, print_grant, ListFormat};
use anyhow::{anyhow, bail};
use palisade_rules::rbac::palisade_rbac::{Identity, Scope, Subject};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `palisade rbac can`.
#[derive(clap::Args, Debug)]
pub struct CanArgs {
    /// `user:NAME`, `group:NAME` or `sa:NAMESPACE/NAME`.
    subject: String,
    /// Files, directories or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A group the user belongs to (from the identity provider); repeat for several.
    #[arg(long = "group", value_name = "GROUP")]
    groups: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

/// Runs `can`.
pub fn run(args: &CanArgs) -> anyhow::Result<ExitCode> {
    let subject = Subject::parse_cli(&args.subject).map_err(|e| anyhow!(e))?;
    let mut id = Identity::of(&subject);
    if !args.groups.is_empty() {
        if !matches!(subject, Subject::User(_)) {
            bail!("--group applies to user:NAME subjects only");
        }
        id.groups.extend(args.groups.iter().cloned());
    }
    let loaded = load(&args.paths);
    let graph = loaded.graph();
    let g = &graph;
    // rules that can never apply in their binding's scope (a URL or a
    // cluster-scoped resource through a RoleBinding, `pods/*`) are not listed
    let mut grants: Vec<_> = g
        .grants_of(&id, Scope::Any)
        .into_iter()
        .filter(|gr| g.grant_applies(gr))
        .collect();
    grants.sort_by_key(|gr| {
        (
            g.bindings[gr.binding].scope().map(str::to_string),
            gr.binding,
            gr.rule.role,
            gr.rule.index,
        )
    });
    let caveat = match &subject {
        Subject::User(_) if args.groups.is_empty() => Some(
            "groups from the identity provider are not known here: give them with --group NAME",
        ),
        _ => None,
    };
    match args.format {
        ListFormat::Json => {
            let rows: Vec<_> = grants.iter().map(|gr| grant_json(g, gr)).collect();
            let out = json!({
                "subject": subject.to_string(),
                "groups": id.groups,
                "note": caveat,
                "grants": rows,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        ListFormat::Table => {
            println!("{subject} (with groups {}):", id.groups.join(", "));
            if let Some(c) = caveat {
                println!("  note: {c}");
            }
            if grants.is_empty() {
                println!("  no permissions");
            }
            let mut last_scope = None;
            for gr in &grants {
                let scope = g.bindings[gr.binding].scope();
                if last_scope != Some(scope) {
                    match scope {
                        Some(ns) => println!("in namespace {ns}:"),
                        None => println!("cluster-wide:"),
                    }
                    last_scope = Some(scope);
                }
                print_grant(g, gr);
            }
        }
    }
    Ok(loaded.finish(ExitCode::SUCCESS))
}
