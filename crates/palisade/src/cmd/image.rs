//! `palisade image verify|sign|attest|keygen`: check images against the
//! config's image policies, and sign them in a pipeline with no other tool.

use crate::engine::load_config;
use anyhow::{bail, Context as _};
use palisade_core::images::ImageVerdict;
use palisade_images::{
    ImagePolicies, ImageRef, Registry, RegistryOptions, SigningKey, Verifier, VerifierOptions,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `palisade image`.
#[derive(clap::Args, Debug)]
pub struct ImageArgs {
    #[command(subcommand)]
    command: ImageCommand,
}

#[derive(clap::Subcommand, Debug)]
enum ImageCommand {
    /// Verify images against the config's `images:` policies (exit 0: all pass, 1: one fails).
    Verify(VerifyArgs),
    /// Sign an image's digest (a Sigstore bundle referrer; `--legacy`: cosign's `.sig` layout).
    Sign(SignArgs),
    /// Attest a predicate about an image's digest (in-toto in DSSE, in a bundle referrer; `--legacy`: `.att`).
    Attest(AttestArgs),
    /// Write a key pair: cosign.key (encrypted with PALISADE_PASSWORD, cosign's format) and cosign.pub.
    Keygen(KeygenArgs),
    /// Inspect image content: shells, package managers, tools, setuid files, user, age, base OS.
    Inspect(super::image_inspect::InspectArgs),
    /// Pin every container image of manifests to its digest, in place (`--check`: exit 1 if one would change).
    Pin(super::image_pin::PinArgs),
}

/// Registry access flags.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct RegistryArgs {
    /// Docker `config.json` with registry credentials (`auths`).
    #[arg(long, value_name = "FILE")]
    registry_config: Option<PathBuf>,
    /// Registries (`host[:port]`) spoken to over plain HTTP: loopback tests only.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    insecure: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct VerifyArgs {
    /// Image references.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// Configuration file [default: ./palisade.yaml when it exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = VerifyFormat::Table)]
    format: VerifyFormat,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum VerifyFormat {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
struct SignArgs {
    /// The image to sign (its tag is resolved to the digest signed).
    #[arg(value_name = "IMAGE")]
    image: String,
    /// Private key (PEM; cosign's encrypted format opens with PALISADE_PASSWORD).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Write cosign's legacy `.sig`/`.att` layout instead of a Sigstore
    /// bundle v0.3 referrer (the default, as cosign 3 writes).
    #[arg(long)]
    legacy: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(clap::Args, Debug)]
struct AttestArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The predicate (JSON file).
    #[arg(long, value_name = "FILE")]
    predicate: PathBuf,
    /// The predicate type URI.
    #[arg(long = "type", value_name = "URI")]
    predicate_type: String,
}

#[derive(clap::Args, Debug)]
struct KeygenArgs {
    /// Prefix of the files written (PREFIX.key, PREFIX.pub).
    #[arg(long, default_value = "cosign", value_name = "PREFIX")]
    output_key_prefix: PathBuf,
}

/// Runs `palisade image ...`.
pub fn run(args: &ImageArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        ImageCommand::Verify(a) => verify(a),
        ImageCommand::Sign(a) => sign(a, None),
        ImageCommand::Attest(a) => {
            let text = std::fs::read_to_string(&a.predicate)
                .with_context(|| format!("cannot read predicate {}", a.predicate.display()))?;
            let predicate: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", a.predicate.display()))?;
            sign(&a.sign, Some((&a.predicate_type, predicate)))
        }
        ImageCommand::Keygen(a) => keygen(a),
        ImageCommand::Inspect(a) => super::image_inspect::run(a),
        ImageCommand::Pin(a) => super::image_pin::run(a),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Registry options: the config's `registries:` plus the flags.
pub(crate) fn registry_options(
    base: RegistryOptions,
    args: &RegistryArgs,
) -> anyhow::Result<RegistryOptions> {
    let mut opts = base;
    opts.insecure.extend(args.insecure.iter().cloned());
    if let Some(path) = &args.registry_config {
        opts.credentials.extend(docker_credentials(path)?);
    }
    Ok(opts)
}

/// `auths` of a Docker `config.json`: host -> (user, password).
pub(crate) fn docker_credentials(path: &Path) -> anyhow::Result<HashMap<String, (String, String)>> {
    let name = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {name}"))?;
    palisade_images::credentials::parse_docker_config(&text)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))
}

/// The config at `path` (or ./palisade.yaml) and a verifier for its image
/// policies (for `scan --verify-images`).
pub fn verifier_for(path: Option<&Path>) -> anyhow::Result<(palisade_core::Config, Arc<Verifier>)> {
    let config = load_config(path)?;
    let policies = ImagePolicies::from_config(&config)?;
    let registry = Registry::new(policies.registry.clone());
    let v = Verifier::new(Arc::new(policies), registry, VerifierOptions::default());
    Ok((config, Arc::new(v)))
}

/// Verifies every container image of the inventory's workloads (in
/// parallel), so that the image rules find fresh verdicts.
pub fn verify_inventory(v: &Verifier, inventory: &palisade_core::Inventory) -> anyhow::Result<()> {
    let mut images: Vec<String> = inventory
        .iter()
        .flat_map(|r| palisade_images::images_of(r))
        .collect();
    images.sort();
    images.dedup();
    runtime()?.block_on(v.verify_all(&images));
    Ok(())
}

fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref())?;
    let mut policies = ImagePolicies::from_config(&config)?;
    policies.registry = registry_options(std::mem::take(&mut policies.registry), &args.registry)?;
    let registry = Registry::new(policies.registry.clone());
    let verifier = Verifier::new(Arc::new(policies), registry, VerifierOptions::default());
    let verdicts = runtime()?.block_on(verifier.verify_all(&args.images));
    match args.format {
        VerifyFormat::Json => {
            let doc = serde_json::json!({ "images": verdicts });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        VerifyFormat::Table => print_table(&verdicts),
    }
    Ok(ExitCode::from(
        if verdicts.iter().all(ImageVerdict::passed) {
            0
        } else {
            1
        },
    ))
}

fn print_table(verdicts: &[ImageVerdict]) {
    let mut t = comfy_table::Table::new();
    t.set_header(["image", "policy", "attestor", "result", "reason"]);
    for v in verdicts {
        let digest = v
            .digest
            .as_deref()
            .map(|d| format!("\n{d}"))
            .unwrap_or_default();
        let image = format!("{}{digest}", v.image);
        if let Some(e) = &v.error {
            t.add_row([image.as_str(), "", "", "FAIL", e]);
        } else if v.policies.is_empty() {
            let (r, why) = if v.unmatched_denied {
                ("FAIL", "no image policy matches (imagesUnmatched: deny)")
            } else {
                ("pass", "no image policy matches")
            };
            t.add_row([image.as_str(), "", "", r, why]);
        }
        for p in &v.policies {
            let result = if p.passed { "pass" } else { "FAIL" };
            let policy = format!("{} (require {})", p.name, p.require);
            if let Some(e) = &p.registry_error {
                t.add_row([image.as_str(), &policy, "", result, e]);
            }
            for a in &p.attestors {
                let r = if a.passed { "pass" } else { "FAIL" };
                t.add_row([image.as_str(), &policy, &a.name, r, &a.reason]);
            }
        }
    }
    println!("{t}");
}

fn password() -> Vec<u8> {
    std::env::var("PALISADE_PASSWORD")
        .unwrap_or_default()
        .into_bytes()
}

fn sign(args: &SignArgs, attest: Option<(&String, serde_json::Value)>) -> anyhow::Result<ExitCode> {
    let pem = std::fs::read_to_string(&args.key)
        .with_context(|| format!("cannot read key {}", args.key.display()))?;
    let key =
        SigningKey::from_pem(&pem, &password()).with_context(|| args.key.display().to_string())?;
    let image = ImageRef::parse(&args.image)?;
    let registry = Registry::new(registry_options(
        RegistryOptions::default(),
        &args.registry,
    )?);
    let written = runtime()?.block_on(async {
        use palisade_images::{bundle::sign as bundle, sign as legacy};
        match (attest, args.legacy) {
            (None, true) => legacy::sign_legacy(&registry, &image, &key).await,
            (Some((t, p)), true) => legacy::attest_legacy(&registry, &image, &key, t, p).await,
            (None, false) => bundle::sign_bundle(&registry, &image, &key).await,
            (Some((t, p)), false) => bundle::attest_bundle(&registry, &image, &key, t, p).await,
        }
    })?;
    eprintln!("wrote {} for {}", written.reference, written.digest);
    Ok(ExitCode::SUCCESS)
}

fn keygen(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let key = SigningKey::generate();
    let prefix = args.output_key_prefix.display().to_string();
    let (priv_path, pub_path) = (format!("{prefix}.key"), format!("{prefix}.pub"));
    for p in [&priv_path, &pub_path] {
        if Path::new(p).exists() {
            bail!("{p} exists: not overwritten");
        }
    }
    let encrypted = key.to_encrypted_pem(&password())?;
    write_private(&priv_path, encrypted.as_bytes())?;
    std::fs::write(&pub_path, key.public_key_pem()?)
        .with_context(|| format!("cannot write {pub_path}"))?;
    eprintln!("wrote {priv_path} (encrypted) and {pub_path}");
    Ok(ExitCode::SUCCESS)
}

/// Writes a private key readable by its owner only.
fn write_private(path: &str, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {path}"))?;
    f.write_all(data)
        .with_context(|| format!("cannot write {path}"))?;
    Ok(())
}
