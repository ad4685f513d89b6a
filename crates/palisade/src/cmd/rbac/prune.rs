//! `palisade rbac prune-expired PATH...`: the bindings past their
//! `palisade.io/expires-at`, as `kubectl delete` commands to review and run.

use super::load::{load, now, place};
use palisade_rules::rbac::palisade_rbac::parse::EXPIRES_AT;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `palisade rbac prune-expired`.
#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Files, directories or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Evaluate at this RFC 3339 time instead of now (for reproducible runs).
    #[arg(long, hide = true)]
    now: Option<String>,
}

/// Runs `prune-expired`: one comment and one `kubectl delete` line per
/// expired binding on stdout; unreadable expiries are reported on stderr and
/// give exit code 2 (they are not deleted: their intent is unknown).
pub fn run(args: &PruneArgs) -> anyhow::Result<ExitCode> {
    let now = now(args.now.as_deref())?;
    let loaded = load(&args.paths);
    let mut bad = false;
    let mut count = 0;
    let graph = loaded.graph();
    for b in &graph.bindings {
        match &b.membership.expires_at {
            Some(Ok(t)) if *t <= now => {
                count += 1;
                let mut about = format!("expired {t}");
                if let Some(o) = &b.membership.owner {
                    about.push_str(&format!(", owner {o}"));
                }
                if let Some(r) = &b.membership.reason {
                    about.push_str(&format!(", reason: {r}"));
                }
                println!("# {} {about} ({})", b.label(), place(&b.resource));
                let kind = if b.cluster {
                    "clusterrolebinding"
                } else {
                    "rolebinding"
                };
                match b.scope() {
                    Some(ns) => println!("kubectl delete {kind} {} -n {ns}", shell(&b.name)),
                    None => println!("kubectl delete {kind} {}", shell(&b.name)),
                }
            }
            Some(Err(e)) => {
                bad = true;
                eprintln!(
                    "error: {} {}: metadata.annotations[\"{EXPIRES_AT}\"]: {e}; not listed",
                    place(&b.resource),
                    b.label()
                );
            }
            _ => {}
        }
    }
    if count == 0 {
        println!("# no expired bindings");
    }
    let ok = if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    };
    Ok(loaded.finish(ok))
}

/// Quotes a name for the shell when it holds anything but safe characters.
fn shell(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'))
        && !name.is_empty()
    {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}
