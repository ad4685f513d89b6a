//! `palisade policy`: run Gatekeeper gator suites (`policy test`) and list
//! what a set of user policies compiles to (`policy list`).

use anyhow::bail;
use palisade_policy::suite::run_paths;
use palisade_policy::{load_files, LoadOptions, PolicyEngine};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `palisade policy`.
#[derive(clap::Args, Debug)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(clap::Subcommand, Debug)]
enum PolicyCommand {
    /// Run every gator suite (suite.yaml) under the paths; print failing
    /// assertions and `N passed, N failed`.
    Test(TestArgs),
    /// Compile ValidatingAdmissionPolicies, ConstraintTemplates and their
    /// bindings/constraints under the paths and list the rules they give.
    List(ListArgs),
}

/// Output of `policy test`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum TestFormat {
    Text,
    Json,
}

/// Engine for templates that carry both Rego and CEL.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum EngineChoice {
    Rego,
    Cel,
}

impl From<EngineChoice> for PolicyEngine {
    fn from(e: EngineChoice) -> Self {
        match e {
            EngineChoice::Rego => PolicyEngine::Rego,
            EngineChoice::Cel => PolicyEngine::Cel,
        }
    }
}

#[derive(clap::Args, Debug)]
struct TestArgs {
    /// Suite files or directories searched for suite.yaml.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = TestFormat::Text)]
    format: TestFormat,
    /// Engine for templates with both Rego and CEL (K8sNativeValidation) code.
    #[arg(long, value_enum, default_value_t = EngineChoice::Rego)]
    engine: EngineChoice,
    /// Longest one policy evaluation may run, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    timeout_ms: u64,
}

#[derive(clap::Args, Debug)]
struct ListArgs {
    /// Policy files or directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Engine for templates with both Rego and CEL (K8sNativeValidation) code.
    #[arg(long, value_enum, default_value_t = EngineChoice::Rego)]
    engine: EngineChoice,
}

/// Runs `palisade policy ...`.
pub fn run(args: &PolicyArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        PolicyCommand::Test(t) => test(t),
        PolicyCommand::List(l) => list(l),
    }
}

/// Exit code 0 when every assertion passed, 1 when some failed, 2 when no
/// suite was found or a path cannot be read (the suites that could be read
/// are still run and reported).
fn test(args: &TestArgs) -> anyhow::Result<ExitCode> {
    let limit = Duration::from_millis(args.timeout_ms.max(1));
    let report = run_paths(&args.paths, args.engine.into(), limit);
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    if report.results.is_empty() {
        bail!("no suite.yaml with assertions under {}", show(&args.paths));
    }
    let mut text = String::new();
    match args.format {
        TestFormat::Json => text = serde_json::to_string_pretty(&report)? + "\n",
        TestFormat::Text => {
            use std::fmt::Write as _;
            for r in report.results.iter().filter(|r| !r.passed) {
                writeln!(
                    text,
                    "FAIL {}: {} / {} [assertion {}]: expected {}: {}",
                    r.suite,
                    r.test,
                    r.case,
                    r.assertion,
                    r.expected,
                    r.reason.as_deref().unwrap_or("")
                )?;
            }
            writeln!(
                text,
                "{} passed, {} failed",
                report.summary.passed, report.summary.failed
            )?;
        }
    }
    print_quietly(&text)?;
    Ok(ExitCode::from(if !report.errors.is_empty() {
        2
    } else if report.summary.failed == 0 {
        0
    } else {
        1
    }))
}

/// Prints `text` to stdout; a closed pipe (`| head`) is not an error.
fn print_quietly(text: &str) -> anyhow::Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn show(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Exit code 0 when everything compiled into at least one rule, 2 when a
/// policy does not compile, a path cannot be read, or the paths hold no
/// policy that checks anything (errors on stderr; what compiled is listed).
fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let opts = LoadOptions {
        engine: args.engine.into(),
        ..LoadOptions::default()
    };
    let (loaded, errors) = load_files(&args.paths, opts);
    let rows: Vec<[String; 3]> = loaded
        .rules
        .iter()
        .map(|r| {
            let i = r.info();
            let line = i
                .description
                .lines()
                .find(|l| l.starts_with("Engine: "))
                .unwrap_or("");
            let engine = line.trim_start_matches("Engine: ").trim_end_matches('.');
            [i.id.clone(), i.severity.to_string(), engine.to_string()]
        })
        .collect();
    if !rows.is_empty() {
        let header = ["RULE", "SEVERITY", "ENGINE"];
        crate::output::listing::print(&crate::output::listing::columns(header, &rows))?;
    }
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    if rows.is_empty() {
        eprintln!(
            "error: no policies found under {}: no ValidatingAdmissionPolicy with a binding \
             and no Gatekeeper constraint with its ConstraintTemplate",
            show(&args.paths)
        );
    }
    Ok(ExitCode::from(if errors.is_empty() && !rows.is_empty() {
        0
    } else {
        2
    }))
}
