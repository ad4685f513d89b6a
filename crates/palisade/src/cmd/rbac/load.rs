//! Reading the inputs of the `rbac` commands with the scan loader, and the
//! pieces their outputs share.

use crate::input::{self, InputError};
use palisade_core::{Inventory, Keep, Resource};
use palisade_rules::rbac::palisade_rbac::RbacGraph;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// What the commands read: the objects and the input errors.
pub struct Loaded {
    /// Every object read.
    pub inventory: Inventory,
    /// Files or documents that could not be read (reported on stderr).
    pub errors: Vec<InputError>,
    /// The rest of what the loader counted.
    pub stats: input::LoadStats,
}

/// Reads `paths` (files, directories, `-`) as `scan` does.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let loaded =
        input::discover_and_load(paths, input::read_stdin, &|_| Keep::Whole, &|| {}, &|| {});
    Loaded {
        inventory: Inventory::new(loaded.resources),
        errors: loaded.errors,
        stats: loaded.stats,
    }
}

impl Loaded {
    /// The RBAC graph of the objects.
    pub fn graph(&self) -> RbacGraph {
        RbacGraph::build(&self.inventory)
    }

    /// Prints the input errors and graph problems to stderr; the exit code:
    /// 2 when there were input errors, else `ok`.
    pub fn finish(&self, ok: ExitCode) -> ExitCode {
        for e in &self.errors {
            eprintln!("error: {e}");
        }
        if self.errors.is_empty() {
            ok
        } else {
            ExitCode::from(2)
        }
    }
}

/// `file:line` of an object, or its identity.
pub fn place(res: &Resource) -> String {
    match (&res.source, &res.positions) {
        (Some(s), Some(p)) => format!("{}:{}", s.file, p.start().line),
        (Some(s), None) => s.file.to_string(),
        _ => res.id.to_string(),
    }
}

/// The object's place as JSON (`file`, `line`), when it came from a file.
pub fn place_json(res: &Arc<Resource>) -> serde_json::Value {
    match (&res.source, &res.positions) {
        (Some(s), Some(p)) => serde_json::json!({"file": &*s.file, "line": p.start().line}),
        (Some(s), None) => serde_json::json!({"file": &*s.file}),
        _ => serde_json::Value::Null,
    }
}

/// Parses a hidden `--now` (RFC 3339) or takes the clock.
pub fn now(text: Option<&str>) -> anyhow::Result<jiff::Timestamp> {
    match text {
        Some(t) => t
            .parse()
            .map_err(|e| anyhow::anyhow!("--now `{t}` is not an RFC 3339 time: {e}")),
        None => Ok(jiff::Timestamp::now()),
    }
}

/// The service accounts of the input that an implicit service-account group
/// stands for (`system:serviceaccounts[:NS]`), as `NS/NAME`, sorted.
pub fn known_members(graph: &RbacGraph, group: &str) -> Option<Vec<String>> {
    let ns_filter = if group == "system:serviceaccounts" {
        None
    } else {
        Some(group.strip_prefix("system:serviceaccounts:")?)
    };
    let mut out: Vec<String> = graph
        .accounts_by_namespace()
        .into_iter()
        .filter(|(ns, _)| ns_filter.is_none_or(|f| f == ns))
        .flat_map(|(ns, names)| names.into_iter().map(move |n| format!("{ns}/{n}")))
        .collect();
    out.sort();
    Some(out)
}

/// A note explaining an implicit group, if `group` is one.
pub fn implicit_note(group: &str) -> Option<String> {
    use palisade_rules::rbac::palisade_rbac::query::{
        AUTHENTICATED, SERVICE_ACCOUNTS, UNAUTHENTICATED,
    };
    if group == AUTHENTICATED {
        Some("every authenticated user and service account".into())
    } else if group == UNAUTHENTICATED {
        Some("every anonymous request".into())
    } else if group == SERVICE_ACCOUNTS {
        Some("every service account of every namespace".into())
    } else {
        group
            .strip_prefix("system:serviceaccounts:")
            .map(|ns| format!("every service account of namespace {ns}"))
    }
}
