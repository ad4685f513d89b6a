//! `palisade rbac prune-expired [PATH...]`: the bindings past their
//! `palisade.io/expires-at`, as `kubectl delete` commands to review and run
//! (a dry run, the default), or deleted through the API with `--apply`.
//! Without paths the bindings are read from the live cluster.

use super::load::{load, now, place, Loaded};
use crate::input::{InputError, LoadStats};
use palisade_audit::live::apply::{self, ObjectRef};
use palisade_audit::live::{self, Connect, Options, Want};
use palisade_core::{Inventory, Resource};
use palisade_rules::rbac::palisade_rbac::parse::EXPIRES_AT;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `palisade rbac prune-expired`.
#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Files, directories or `-` for stdin [default: the live cluster's
    /// RoleBindings and ClusterRoleBindings].
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Delete the expired bindings through the API (with a UID
    /// precondition: a binding recreated since it was read is kept).
    #[arg(long)]
    apply: bool,
    /// The kubeconfig file [default: KUBECONFIG, ~/.kube/config, then the
    /// in-cluster service account].
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context [default: its current context].
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Evaluate at this RFC 3339 time instead of now (for reproducible runs).
    #[arg(long, hide = true)]
    now: Option<String>,
}

/// Runs `prune-expired`: one comment and one `kubectl delete` line per
/// expired binding on stdout; unreadable expiries are reported on stderr and
/// give exit code 2 (they are not deleted: their intent is unknown).
pub fn run(args: &PruneArgs) -> anyhow::Result<ExitCode> {
    let now = now(args.now.as_deref())?;
    let connect = Connect {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
    };
    let loaded = if args.paths.is_empty() {
        live_bindings(&connect)?
    } else {
        load(&args.paths)
    };
    let mut bad = false;
    let mut expired = Vec::new();
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
                        expired.push(object_ref(b));
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
    if args.apply && !expired.is_empty() && !delete(&connect, &expired)? {
        bad = true;
    }
    let ok = if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    };
    Ok(loaded.finish(ok))
}

/// The binding's address and UID.
fn object_ref(
    b: &palisade_rules::rbac::palisade_rbac::model::Binding,
) -> (ObjectRef, Option<String>) {
    let r = ObjectRef {
        api_version: "rbac.authorization.k8s.io/v1".into(),
        plural: if b.cluster {
            "clusterrolebindings"
        } else {
            "rolebindings"
        }
        .into(),
        namespace: b.scope().map(str::to_string),
        name: b.name.clone(),
    };
    let uid = b.resource.value["metadata"]["uid"]
        .as_str()
        .map(str::to_string);
    (r, uid)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The live cluster's RoleBindings and ClusterRoleBindings.
fn live_bindings(connect: &Connect) -> anyhow::Result<Loaded> {
    let opts = Options {
        connect: connect.clone(),
        ..Options::default()
    };
    let want = |kind: &str| match kind {
        "RoleBinding" | "ClusterRoleBinding" => Want::Whole,
        _ => Want::Nothing,
    };
    let read = runtime()?.block_on(live::read(&opts, &want))?;
    let mut errors = Vec::new();
    for n in &read.not_read {
        errors.push(InputError::file(
            Arc::from("cluster"),
            format!("{}: {}", n.what, n.why),
        ));
    }
    let resources: Vec<Arc<Resource>> = read
        .objects
        .into_iter()
        .filter_map(Resource::from_value)
        .map(Arc::new)
        .collect();
    Ok(Loaded {
        inventory: Inventory::new(resources),
        errors,
        stats: LoadStats::default(),
    })
}

/// Deletes the expired bindings; says what it did on stderr. `false` when
/// a delete failed.
fn delete(connect: &Connect, expired: &[(ObjectRef, Option<String>)]) -> anyhow::Result<bool> {
    runtime()?.block_on(async {
        let client = connect.client().await?;
        let mut ok = true;
        for (r, uid) in expired {
            match apply::delete(&client, r, uid.as_deref()).await {
                Ok(()) => eprintln!("deleted {} {}", r.plural, r.label()),
                Err(e) => {
                    ok = false;
                    eprintln!("error: delete {}: {e}", r.path());
                }
            }
        }
        anyhow::Ok(ok)
    })
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
