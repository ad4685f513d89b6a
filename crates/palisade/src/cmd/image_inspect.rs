//! `palisade image inspect`: what is inside an image (shells, package
//! managers, tools, setuid files, user, age, base OS), read from its
//! layers as streams; results cached by digest under the user cache dir.

use super::image::{registry_options, RegistryArgs};
use crate::engine::load_config;
use anyhow::Context as _;
use palisade_images::inspect::{
    inspect, ContentInspector, ImageContent, ImageSource, InspectCache, InspectOptions,
};
use palisade_images::{ImagePolicies, Registry};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `palisade image inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Images: a registry reference, `oci:DIR[:TAG]` or `docker-archive:FILE`.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// Configuration file (its `registries:` settings) [default: ./palisade.yaml when it exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Platform chosen in a multi-platform index.
    #[arg(long, default_value = "linux/amd64", value_name = "OS/ARCH[/VARIANT]")]
    platform: String,
    /// Cap on the decompressed layer bytes read per image (a decompression bomb stops there).
    #[arg(long, default_value_t = palisade_images::inspect::DEFAULT_MAX_DECOMPRESSED, value_name = "BYTES")]
    max_decompressed: u64,
    /// Do not read or write the on-disk cache.
    #[arg(long)]
    no_cache: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

/// Runs `palisade image inspect`: exit 0 when every image was inspected,
/// 2 when one could not be (its error on stderr, the others still reported).
pub fn run(args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref())?;
    let policies = ImagePolicies::from_config(&config)?;
    let registry = Registry::new(registry_options(policies.registry.clone(), &args.registry)?);
    let opts = InspectOptions {
        platform: args.platform.clone(),
        max_decompressed: args.max_decompressed,
        ..Default::default()
    };
    let cache = match InspectCache::user_dir() {
        Some(dir) if !args.no_cache => InspectCache::with_dir(64, dir),
        _ => InspectCache::memory(64),
    };
    let rt = runtime()?;
    let mut results = Vec::new();
    let mut failed = false;
    for image in &args.images {
        let outcome = ImageSource::parse(image)
            .map_err(anyhow::Error::from)
            .and_then(|source| {
                rt.block_on(inspect(&source, image, &registry, &opts, Some(&cache)))
                    .map_err(anyhow::Error::from)
            });
        match outcome {
            Ok(c) => results.push(c),
            Err(e) => {
                eprintln!("error: {image}: {e}");
                failed = true;
            }
        }
    }
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({ "images": results });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Table => print_table(&results),
    }
    Ok(ExitCode::from(if failed { 2 } else { 0 }))
}

fn print_table(results: &[ImageContent]) {
    for c in results {
        let mut t = comfy_table::Table::new();
        t.set_header([c.image.as_str(), c.digest.as_str()]);
        let list = |v: &[String]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join("\n")
            }
        };
        let user = format!(
            "{:?}{}",
            c.user,
            if c.runs_as_root { " (root)" } else { "" }
        );
        let rows = [
            ("minimal", c.minimal.to_string()),
            ("shells", list(&c.shells)),
            ("package managers", list(&c.package_managers)),
            ("tools", list(&c.tools)),
            ("setuid/setgid", list(&c.setuid)),
            ("user", user),
            ("created", c.created.clone().unwrap_or_else(|| "-".into())),
            ("os", c.os.clone().unwrap_or_else(|| "-".into())),
            ("size", format!("{} bytes", c.size_bytes)),
        ];
        for (k, v) in rows {
            t.add_row([k, v.as_str()]);
        }
        println!("{t}");
    }
}

/// The config at `path` (or ./palisade.yaml) and an inspector with its
/// registry settings and the on-disk cache (for `scan --inspect-images`).
pub fn inspector_for(
    path: Option<&std::path::Path>,
) -> anyhow::Result<(palisade_core::Config, Arc<ContentInspector>)> {
    let config = load_config(path)?;
    let policies = ImagePolicies::from_config(&config)?;
    let cache = match InspectCache::user_dir() {
        Some(dir) => InspectCache::with_dir(1024, dir),
        None => InspectCache::memory(1024),
    };
    let inspector = ContentInspector::new(
        Registry::new(policies.registry.clone()),
        InspectOptions::default(),
        cache,
    );
    Ok((config, Arc::new(inspector)))
}

/// Inspects every container image of the inventory's workloads; an image
/// that cannot be inspected is named on stderr (its rules then say nothing).
pub fn inspect_inventory(
    inspector: &ContentInspector,
    inventory: &palisade_core::Inventory,
) -> anyhow::Result<()> {
    let mut images: Vec<String> = inventory
        .iter()
        .flat_map(|r| palisade_images::images_of(r))
        .collect();
    images.sort();
    images.dedup();
    runtime()?.block_on(inspector.inspect_all(&images));
    let mut failed: Vec<(String, String)> = inspector
        .results()
        .into_iter()
        .filter_map(|(i, r)| r.err().map(|e| (i, e)))
        .collect();
    failed.sort();
    for (image, e) in failed {
        eprintln!("warning: image {image:?} not inspected: {e}");
    }
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
