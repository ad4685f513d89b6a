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
                let kind = if b.cluster {
                    "clusterrolebinding"
                } else {
                    "rolebinding"
                };
                match command(kind, b.scope(), &b.name) {
                    Ok(cmd) => {
                        let about = format!("{} {about} ({})", b.label(), place(&b.resource));
                        println!("# {}", comment(&about));
                        println!("{cmd}");
                    }
                    Err(e) => {
                        bad = true;
                        eprintln!(
                            "error: {} {}: cannot quote for the shell ({e}); not listed",
                            place(&b.resource),
                            comment(&b.label())
                        );
                    }
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

/// `kubectl delete KIND [-n NS] -- NAME`, every argument quoted for a
/// POSIX shell (shlex), the name after `--` so that a name such as `--all`
/// (RBAC object names may start with `-`) is never read as a flag.
fn command(kind: &str, ns: Option<&str>, name: &str) -> Result<String, shlex::QuoteError> {
    let mut words = vec!["kubectl", "delete", kind];
    if let Some(ns) = ns {
        words.extend(["-n", ns]);
    }
    words.extend(["--", name]);
    shlex::try_join(words)
}

/// A comment line's text with control characters (newlines end a shell
/// comment) and bidirectional overrides (which reorder what a reviewer
/// reads) replaced by `?`.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                '?'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{command, comment};

    #[test]
    fn commands_quote_every_argument() {
        assert_eq!(
            command("rolebinding", Some("shop"), "ci").unwrap(),
            "kubectl delete rolebinding -n shop -- ci"
        );
        assert_eq!(
            command("rolebinding", Some("a;b"), "$(x)").unwrap(),
            "kubectl delete rolebinding -n 'a;b' -- '$(x)'"
        );
        assert!(command("clusterrolebinding", None, "a\0b").is_err());
        assert_eq!(comment("a\nb\r\u{202e}c"), "a?b??c");
    }
}
