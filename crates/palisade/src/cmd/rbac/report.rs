//! `palisade rbac report PATH... [--directory FILE]`: the RBAC rules' findings
//! in every output format of `scan` (same report, same writers), followed by
//! what each group can do (table: a section after the findings; JSON: a
//! `groups` key; SARIF and JUnit carry the findings only).

use super::load::{implicit_note, load, now};
use crate::cmd::scan::emit;
use crate::engine::{self, EngineArgs};
use crate::input::InputError;
use crate::output::{to_json, Format};
use crate::report::Report;
use anyhow::Context as _;
use palisade_core::Severity;
use palisade_rules::rbac::palisade_rbac::{
    builtin, Directory, Identity, RbacGraph, Scope, Subject,
};
use palisade_rules::rbac::RbacData;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `palisade rbac report`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Files, directories or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The organisation's current users and groups (YAML or JSON
    /// `{users: [...], groups: [...]}`, or an identity provider's CSV export
    /// with a header row); enables rbac-stale-subject.
    #[arg(long, value_name = "FILE")]
    directory: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Lowest severity that fails with exit code 1 [default: the config's failOn, else low].
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Configuration file (its `rbac` section tunes the rules) [default: ./palisade.yaml when it exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Evaluate at this RFC 3339 time instead of now (for reproducible runs).
    #[arg(long, hide = true)]
    now: Option<String>,
}

/// Runs `report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let now = now(args.now.as_deref())?;
    let config = engine::load_config(args.config.as_deref())?;
    let engine_args = EngineArgs {
        config: None,
        profiles: vec!["rbac".into()],
        ..EngineArgs::default()
    };
    let policy = engine::build_with(config, &engine_args)?;
    let fail_on = args
        .fail_on
        .or(policy.config().spec.fail_on)
        .unwrap_or(Severity::Low);
    let loaded = load(&args.paths);
    let mut errors = loaded.errors;
    let directory = match &args.directory {
        None => None,
        Some(path) => {
            let file: Arc<str> = Arc::from(path.display().to_string());
            let parsed = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read directory file: {e}"))
                .and_then(|text| Directory::parse(&text, &file).map_err(|e| e.detail()));
            match parsed {
                Ok(d) => Some(d),
                Err(message) => {
                    errors.push(InputError::file(
                        file,
                        format!("directory: {message} (rbac-stale-subject did not run)"),
                    ));
                    None
                }
            }
        }
    };
    let inventory = loaded.inventory;
    // the engine installs the registry's providers: the graph with the config's rbac settings
    let mut ext = policy.prepare(&inventory);
    if let Some(d) = directory {
        ext.insert(d);
    }
    let mut report = Report::evaluate(&policy, &inventory, &ext, now, fail_on, &|| {});
    report.errors = errors;
    report.stats = loaded.stats;
    let graph = ext
        .get::<RbacData>()
        .map(|d| &d.graph)
        .context("the RBAC graph is missing")?;
    let groups = group_summary(graph);
    match args.format {
        Format::Json => {
            let mut value = serde_json::to_value(to_json(&report))?;
            if let Some(map) = value.as_object_mut() {
                map.insert("groups".into(), groups_json(&groups));
            }
            let text = serde_json::to_string_pretty(&value)? + "\n";
            write_out(args.output.as_ref(), text.as_bytes(), false)?;
            for e in &report.errors {
                eprintln!("error: {e}");
            }
        }
        Format::Table => {
            emit(&report, args.format, args.output.as_ref())?;
            write_out(args.output.as_ref(), groups_text(&groups).as_bytes(), true)?;
        }
        Format::Sarif | Format::Junit => emit(&report, args.format, args.output.as_ref())?,
    }
    Ok(ExitCode::from(report.exit_code()))
}

fn write_out(output: Option<&PathBuf>, bytes: &[u8], append: bool) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            file.write_all(bytes)?;
        }
        None => std::io::stdout().lock().write_all(bytes)?,
    }
    Ok(())
}

/// One group's grants: (scope, binding, role) -> rule texts.
type GroupGrants = BTreeMap<(String, String, String), Vec<String>>;

/// What each group named by a binding of the input is granted directly
/// (Kubernetes' own bindings, present in every cluster, are left out).
fn group_summary(g: &RbacGraph) -> BTreeMap<String, GroupGrants> {
    let mut out = BTreeMap::new();
    for s in g.subjects() {
        let Subject::Group(name) = s else { continue };
        let named_by_input = g
            .bindings_naming(s)
            .iter()
            .any(|&(bi, _)| !g.bindings[bi].builtin);
        if !named_by_input {
            continue;
        }
        let id = Identity {
            user: None,
            groups: vec![name.clone()],
        };
        let mut grants: GroupGrants = BTreeMap::new();
        for gr in g.grants_of(&id, Scope::Any) {
            let b = &g.bindings[gr.binding];
            if b.builtin {
                continue;
            }
            let scope = match b.scope() {
                Some(ns) => format!("namespace {ns}"),
                None => "cluster-wide".into(),
            };
            let role = &g.roles[gr.role];
            let key = (scope, b.label(), role.key.to_string());
            let entry = grants.entry(key).or_default();
            match builtin::describe(&role.key.name).filter(|_| role.builtin) {
                // a shipped default role: one line instead of its many rules
                Some(words) => {
                    if entry.is_empty() {
                        entry.push(format!("Kubernetes default role: {words}"));
                    }
                }
                None => entry.push(g.rule(gr.rule).to_string()),
            }
        }
        out.insert(name.clone(), grants);
    }
    out
}

fn groups_text(groups: &BTreeMap<String, GroupGrants>) -> String {
    let mut s = String::from("\nWhat each group can do:\n");
    if groups.is_empty() {
        s.push_str("  (no binding names a group)\n");
    }
    for (name, grants) in groups {
        match implicit_note(name) {
            Some(note) => s.push_str(&format!("\ngroup {name} ({note}):\n")),
            None => s.push_str(&format!("\ngroup {name}:\n")),
        }
        if grants.is_empty() {
            s.push_str("  nothing (its bindings refer to missing roles)\n");
        }
        for ((scope, binding, role), rules) in grants {
            s.push_str(&format!("  {scope}: {role} via {binding}\n"));
            for r in rules {
                s.push_str(&format!("    {r}\n"));
            }
        }
    }
    s
}

fn groups_json(groups: &BTreeMap<String, GroupGrants>) -> serde_json::Value {
    let list: Vec<_> = groups
        .iter()
        .map(|(name, grants)| {
            let grants: Vec<_> = grants
                .iter()
                .map(|((scope, binding, role), rules)| {
                    json!({"scope": scope, "binding": binding, "role": role, "rules": rules})
                })
                .collect();
            json!({"group": name, "implicit": implicit_note(name), "grants": grants})
        })
        .collect();
    serde_json::Value::Array(list)
}
