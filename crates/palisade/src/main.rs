//! `palisade`: scan manifests in CI, admit at runtime, audit the cluster.
//!
//! No unsafe code but three calls: the memory settings in `memory.rs`
//! (`prctl`, mimalloc's purge delay) and the SIGPIPE disposition below; the
//! library crates forbid unsafe code altogether.
#![deny(unsafe_code)]

mod cmd;
mod memory;

#[allow(unused_imports)]
use palisade::{engine, input, output, report};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
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
    /// Audit a cluster snapshot (`kubectl get -A -o yaml|json` output, `kubectl version -o json`): findings, PolicyReports, HTML.
    Audit(Box<cmd::audit::AuditArgs>),
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
    /// Print the manifests that install Palisade (`install --print | kubectl apply -f -`).
    Install(Box<cmd::install::InstallArgs>),
    /// Print the version.
    Version,
    /// Signed images: verify against the image policies, sign, attest, keygen.
    Image(cmd::image::ImageArgs),
}

fn main() -> ExitCode {
    let cli = parse();
    if !matches!(cli.command, Command::Serve(_)) {
        quiet_on_closed_output();
    }
    let result = match cli.command {
        Command::Rules(args) => cmd::rules::list(&args),
        Command::Explain(args) => cmd::rules::explain(&args),
        Command::Scan(args) => cmd::scan::run(&args),
        Command::Audit(args) => cmd::audit::run(&args),
        Command::Rbac(args) => cmd::rbac::run(&args),
        Command::Policy(args) => cmd::policy::run(&args),
        Command::Serve(args) => cmd::serve::run(*args),
        Command::WebhookConfig(args) => cmd::webhook_config::run(&args),
        Command::Certs(args) => cmd::certs::run(&args),
        Command::Image(args) => cmd::image::run(&args),
        Command::Install(args) => cmd::install::run(&args),
        Command::Version => {
            println!("palisade {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Parses the command line. Run as `kubectl-palisade` (a link on PATH,
/// which makes it the kubectl plugin `kubectl palisade`), usage and errors
/// name the command `kubectl palisade`.
fn parse() -> Cli {
    let mut command = Cli::command();
    let invoked = std::env::args_os().next().map(std::path::PathBuf::from);
    if invoked
        .as_deref()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "kubectl-palisade")
    {
        command = command.bin_name("kubectl palisade");
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Makes a closed standard output (`palisade rbac who-can ... | head -1`)
/// end the command quietly, as it ends `grep` or `cat`: Rust ignores
/// SIGPIPE, so every write to the closed pipe would fail and `println!`
/// would panic (exit 101). With the default action restored, the first
/// such write ends the process without a message. Not for `serve`, whose
/// sockets report a closed peer as an error to the connection alone.
#[allow(unsafe_code)] // one of the binary's unsafe calls (main.rs denies the rest)
fn quiet_on_closed_output() {
    #[cfg(target_os = "linux")]
    // SAFETY: restoring the default disposition of SIGPIPE at start, before
    // any thread is spawned; no signal handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
