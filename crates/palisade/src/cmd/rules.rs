//! `palisade rules` and `palisade explain`.

use anyhow::bail;
use std::process::ExitCode;

/// Arguments of `palisade rules`.
#[derive(clap::Args)]
pub struct RulesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `palisade explain`.
#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The rule ID, e.g. `host-network`.
    rule: String,
    /// Also look among these user policies (files or directories).
    #[arg(long = "policy", value_name = "FILE|DIR")]
    policies: Vec<std::path::PathBuf>,
}

/// Lists every built-in rule.
pub fn list(args: &RulesArgs) -> anyhow::Result<ExitCode> {
    let rules = palisade_rules::catalog();
    if args.json {
        let items: Vec<_> = rules
            .iter()
            .map(|r| {
                let i = r.info();
                serde_json::json!({"id": i.id, "severity": i.severity, "family": i.family, "title": i.title})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else {
        let rows: Vec<[String; 4]> = rules
            .iter()
            .map(|r| {
                let i = r.info();
                [
                    i.id.to_string(),
                    i.severity.to_string(),
                    i.family.to_string(),
                    i.title.to_string(),
                ]
            })
            .collect();
        let header = ["RULE", "SEVERITY", "FAMILY", "TITLE"];
        let listing = crate::output::listing::columns(header, &rows);
        crate::output::listing::print(&listing)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints what one rule checks, why, and how to fix it.
pub fn explain(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    let mut rules = palisade_rules::catalog();
    if !args.policies.is_empty() && !rules.iter().any(|r| r.info().id == args.rule) {
        let engine_args = crate::engine::EngineArgs {
            policies: args.policies.clone(),
            ..Default::default()
        };
        rules.extend(crate::engine::user_policies(&Default::default(), &engine_args)?.rules);
    }
    let Some(rule) = rules.iter().find(|r| r.info().id == args.rule) else {
        bail!("unknown rule `{}` (see `palisade rules`)", args.rule);
    };
    let i = rule.info();
    println!(
        "{} ({}, {})\n\n{}\n\nWhy: {}\n\nFix: {}",
        i.id, i.severity, i.family, i.title, i.description, i.remediation
    );
    Ok(ExitCode::SUCCESS)
}
