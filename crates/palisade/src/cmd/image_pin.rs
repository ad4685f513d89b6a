//! `palisade image pin`: every container image of the manifests rewritten
//! to `reference@sha256:<digest>` (resolved at the registry), changing only
//! those scalars in place, found through the loader's source positions, so
//! comments, order and layout stay. `--check` changes nothing and exits 1
//! when something would change.

use super::image::{registry_options, RegistryArgs};
use crate::engine::load_config;
use anyhow::Context as _;
use palisade_core::workload::PodSpec;
use palisade_core::{Field, Resource};
use palisade_images::{ImagePolicies, ImageRef, Registry};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `palisade image pin`.
#[derive(clap::Args, Debug)]
pub struct PinArgs {
    /// Manifest files (YAML, multi-document, Lists, JSON).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Configuration file (its `registries:` settings) [default: ./palisade.yaml when it exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Change nothing; exit 1 when an image would be pinned.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// One image scalar of a file: its byte range (the reference as written,
/// quotes excluded), its line and its value.
struct Scalar {
    start: usize,
    end: usize,
    line: u32,
    image: String,
}

/// Runs `palisade image pin`: exit 0 (nothing to change, or changed), 1
/// (`--check` and something would change), 2 (a file could not be read or
/// parsed, or an image not resolved: that file is left unchanged).
pub fn run(args: &PinArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref())?;
    let policies = ImagePolicies::from_config(&config)?;
    let registry = Registry::new(registry_options(policies.registry.clone(), &args.registry)?);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut resolved: HashMap<String, Result<String, String>> = HashMap::new();
    let (mut failed, mut would_change) = (false, false);
    for file in &args.files {
        match pin_file(file, &registry, &rt, &mut resolved) {
            Err(errors) => {
                failed = true;
                for e in errors {
                    eprintln!("error: {e}");
                }
            }
            Ok(None) => {}
            Ok(Some((new_text, changes))) => {
                would_change = true;
                for (line, change) in &changes {
                    let verb = if args.check { "would pin" } else { "pinned" };
                    println!("{}:{line}: {verb} {change}", file.display());
                }
                if !args.check {
                    write_atomic(file, &new_text)?;
                }
            }
        }
    }
    Ok(ExitCode::from(if failed {
        2
    } else if args.check && would_change {
        1
    } else {
        0
    }))
}

/// A file's new text and its changes (line, `from -> to`).
type Pinned = (String, Vec<(u32, String)>);

/// The pinned text of `file` and the changes (line, `from -> to`), `None`
/// when nothing changes; errors name the file and line.
fn pin_file(
    file: &Path,
    registry: &Registry,
    rt: &tokio::runtime::Runtime,
    resolved: &mut HashMap<String, Result<String, String>>,
) -> Result<Option<Pinned>, Vec<String>> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| vec![format!("{name}: {e}")])?;
    let scalars = scalars(&name, &text)?;
    let mut errors = Vec::new();
    let mut edits = Vec::new();
    for s in scalars {
        if s.image.contains('@') {
            continue; // already pinned
        }
        let digest = resolved
            .entry(s.image.clone())
            .or_insert_with(|| {
                let r = ImageRef::parse(&s.image).map_err(|e| e.to_string())?;
                rt.block_on(registry.resolve(&r)).map_err(|e| e.to_string())
            })
            .clone();
        match digest {
            Ok(d) => edits.push((s, d)),
            Err(e) => errors.push(format!("{name}:{}: cannot pin {:?}: {e}", s.line, s.image)),
        }
    }
    if !errors.is_empty() {
        errors.push(format!("{name}: left unchanged"));
        return Err(errors);
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let mut out = text.clone();
    let mut changes = Vec::new();
    edits.sort_by_key(|(s, _)| std::cmp::Reverse(s.start));
    for (s, d) in &edits {
        let pinned = format!("{}@{d}", s.image);
        out.replace_range(s.start..s.end, &pinned);
        changes.push((s.line, format!("{} -> {pinned}", s.image)));
    }
    changes.reverse();
    Ok(Some((out, changes)))
}

/// Every container image scalar of the text, located in the source.
fn scalars(name: &str, text: &str) -> Result<Vec<Scalar>, Vec<String>> {
    let file: Arc<str> = Arc::from(name);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    for doc in palisade_core::yaml::parse_stream(text) {
        let doc = match doc {
            Ok(d) => d,
            Err(e) => {
                errors.push(format!("{name}: {e}"));
                continue;
            }
        };
        for res in Resource::from_document(doc, &file) {
            for (path, image) in images(&res) {
                let Some(pos) = res.locate(&path) else {
                    continue;
                };
                match find_scalar(text, &line_starts, pos.line, &image) {
                    Some((start, end)) => out.push(Scalar {
                        start,
                        end,
                        line: pos.line,
                        image,
                    }),
                    None => errors.push(format!(
                        "{name}:{}: image {image:?} not found as written (escaped?)",
                        pos.line
                    )),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.push(format!("{name}: left unchanged"));
        Err(errors)
    }
}

fn images(res: &Resource) -> Vec<(palisade_core::FieldPath, String)> {
    let Some(pod) = PodSpec::of(res) else {
        return Vec::new();
    };
    pod.containers()
        .iter()
        .filter_map(|c| match c.value.field("image") {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                Some((c.path.key("image"), s.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The byte range of `image` as the value of an `image` key, from the start
/// of `line` on (the loader gives the key's line).
fn find_scalar(text: &str, starts: &[usize], line: u32, image: &str) -> Option<(usize, usize)> {
    let from = *starts.get(line.checked_sub(1)? as usize)?;
    let mut at = from;
    while let Some(i) = text[at..].find(image) {
        let start = at + i;
        let end = start + image.len();
        let before = text[from..start].trim_end_matches(['"', '\'']).trim_end();
        let after = text[end..].chars().next();
        let ends = matches!(
            after,
            None | Some('"' | '\'' | ' ' | '\t' | '\r' | '\n' | ',' | '}' | ']')
        );
        if ends
            && (before.ends_with("image:")
                || before.ends_with("\"image\":")
                || before.ends_with("'image':"))
        {
            return Some((start, end));
        }
        at = end;
    }
    None
}

fn write_atomic(file: &Path, text: &str) -> anyhow::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.palisade-pin",
        file.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    if let Ok(meta) = std::fs::metadata(file) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, file).with_context(|| format!("cannot replace {}", file.display()))
}
