//! `palisade`: scan manifests in CI, admit at runtime, audit the cluster.

mod cmd;

#[allow(unused_imports)]
use palisade::{engine, input, output, report};

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: under load the webhook spent about a
/// sixth of its CPU in malloc and free (many small strings and JSON maps per
/// request, freed on other threads); see README, "Webhook benchmark".
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Kubernetes security policy agent.
#[derive(Parser)]
#[command(name = "palisade", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the built-in rules.
    Rules(cmd::rules::RulesArgs),
    /// Explain one rule: what it checks, why, and how to fix it.
    Explain(cmd::rules::ExplainArgs),
    /// Scan manifests (files, directories, `-` for stdin) for security problems.
    Scan(cmd::scan::ScanArgs),
    /// RBAC analysis: who-can, can, report (findings and per-group summary), prune-expired.
    Rbac(cmd::rbac::RbacArgs),
    /// User policies (ValidatingAdmissionPolicy, Gatekeeper): run gator suites, list compiled rules.
    Policy(cmd::policy::PolicyArgs),
    /// Run the admission webhook (HTTPS, AdmissionReview v1 on /validate and /mutate).
    Serve(Box<cmd::serve::ServeArgs>),
    /// Print the Validating- and MutatingWebhookConfiguration for `palisade serve`.
    WebhookConfig(cmd::webhook_config::WebhookConfigArgs),
    /// Create a CA and a serving certificate for the webhook.
    Certs(cmd::certs::CertsArgs),
    /// Signed images: verify against the image policies, sign, attest, keygen.
    Image(cmd::image::ImageArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rules(args) => cmd::rules::list(&args),
        Command::Explain(args) => cmd::rules::explain(&args),
        Command::Scan(args) => cmd::scan::run(&args),
        Command::Rbac(args) => cmd::rbac::run(&args),
        Command::Policy(args) => cmd::policy::run(&args),
        Command::Serve(args) => cmd::serve::run(*args),
        Command::WebhookConfig(args) => cmd::webhook_config::run(&args),
        Command::Certs(args) => cmd::certs::run(&args),
        Command::Image(args) => cmd::image::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
