//! `palisade scan`: check manifests before they are deployed.

use crate::engine::{self, EngineArgs};
use crate::input;
use crate::output::{self, Format, Style};
use crate::report::Report;
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use palisade_core::{Inventory, Severity};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Bytes of report buffered before each write.
const OUTPUT_BUFFER: usize = 1 << 16;

/// Scans with at least this many files show a progress bar (on a terminal).
const PROGRESS_MIN_FILES: usize = 50;

/// Arguments of `palisade scan`.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Files, directories (read recursively: .yaml, .yml, .json) or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Lowest severity that fails the scan with exit code 1 (info, low, medium,
    /// high, critical) [default: the config's failOn, else low].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Configuration, profiles and profile options.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Verify the images of the scanned workloads against the config's
    /// `images:` policies (asks registries; off by default, so an offline
    /// scan never touches the network).
    #[arg(long)]
    pub verify_images: bool,
    /// Inspect the content of the scanned workloads' images (shells,
    /// package managers, user, age) for the image content rules (reads
    /// every layer from the registry, results cached by digest; off by default).
    #[arg(long)]
    pub inspect_images: bool,
    /// Only read and parse the inputs exactly as the scan does, building of
    /// each object what the policies read, without running the rules
    /// (benchmark baseline); print counts.
    #[arg(long, hide = true)]
    pub parse_only: bool,
    /// Only read the inputs and run the YAML parser over them, building
    /// nothing (benchmark floor); print counts.
    #[arg(long, hide = true, conflicts_with = "parse_only")]
    pub events_only: bool,
}

/// Runs the scan; the exit code is 0 (pass), 1 (findings at or above
/// fail-on) or 2 (input errors; everything readable was still scanned).
pub fn run(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    crate::memory::batch();
    let timings = Timings::from_env();
    let verifier = if args.verify_images {
        Some(super::image::verifier_for(args.engine.config.as_deref())?)
    } else {
        None
    };
    let inspector = if args.inspect_images {
        Some(super::image_inspect::inspector_for(
            args.engine.config.as_deref(),
        )?)
    } else {
        None
    };
    let mut extra: Vec<Arc<dyn palisade_core::ContextProvider>> = Vec::new();
    let mut config = None;
    if let Some((c, v)) = &verifier {
        config = Some(c.clone());
        extra.push(Arc::new(palisade_images::ImageProvider::new(v.clone())));
    }
    if let Some((c, i)) = &inspector {
        config.get_or_insert_with(|| c.clone());
        extra.push(Arc::new(palisade_images::inspect::ContentProvider::new(
            i.clone(),
        )));
    }
    let policy = match config {
        None => engine::build(&args.engine)?,
        Some(config) => engine::build_with_providers(config, &args.engine, extra)?,
    };
    timings.mark("build policies");
    let fail_on = args
        .fail_on
        .or(policy.config().spec.fail_on)
        .unwrap_or(Severity::Low);
    if args.events_only {
        let (counts, errors) =
            input::walk_map(&args.paths, input::read_stdin, &|| {}, &input::count_events);
        let events: usize = counts.iter().flatten().sum();
        let failed = counts.iter().filter(|c| c.is_none()).count() + errors.len();
        println!(
            "parser events: {} files, {events} events, {failed} unreadable or invalid",
            counts.len()
        );
        return Ok(ExitCode::from(if failed == 0 { 0 } else { 2 }));
    }
    let tty = std::io::stderr().is_terminal();
    let bar = progress_bar(tty);
    // Files are read while the walk goes on; objects are built as far as
    // the policies read them. `--parse-only` loads exactly as the scan does,
    // without running the rules.
    // A source of STREAM_FROM bytes or more (a cluster export) keeps only
    // what the context needs; it is read again object by object below.
    let mut loaded = input::discover_and_load_streaming(
        &args.paths,
        input::read_stdin,
        &|kind| policy.keep(kind),
        (&|kind| policy.context_keep(kind), input::stream_from()),
        &|| {
            if tty {
                found_one(&bar)
            }
        },
        &|| bar.inc(1),
    );
    timings.mark("discover, read and parse");
    if timings.0.is_some() {
        let nodes: usize = loaded
            .resources
            .iter()
            .filter_map(|r| r.positions.as_ref())
            .map(|p| p.as_slice().len())
            .sum();
        eprintln!("objects built: {} nodes", nodes);
    }
    let deferred = std::mem::take(&mut loaded.deferred);
    if args.parse_only {
        let s = loaded.stats;
        let objects = loaded.resources.len() + second_read_only(&deferred, &policy);
        println!(
            "parsed {} files, {} documents, {objects} objects, {} errors",
            s.files,
            s.documents,
            loaded.errors.len()
        );
        let code = if loaded.errors.is_empty() { 0 } else { 2 };
        std::mem::forget(loaded); // freed by the exit, not object by object
        bar.finish_and_clear();
        return Ok(ExitCode::from(code));
    }
    let inventory = Inventory::new(loaded.resources);
    timings.mark("inventory");
    if let Some((_, v)) = &verifier {
        super::image::verify_inventory(v, &inventory)?;
        timings.mark("verify images");
    }
    if let Some((_, i)) = &inspector {
        super::image_inspect::inspect_inventory(i, &inventory)?;
        timings.mark("inspect images");
    }
    bar.set_position(0);
    bar.set_length(inventory.len() as u64);
    bar.set_message("checking objects");
    let now = jiff::Timestamp::now();
    let ext = policy.prepare(&inventory);
    let progress = |_: &palisade_core::Resource| bar.inc(1);
    let report = Report::evaluate_deferred(
        &policy, &inventory, &ext, now, fail_on, &progress, &deferred,
    )
    .with_input(loaded.errors, loaded.stats);
    timings.mark("evaluate");
    bar.finish_and_clear();
    emit(&report, args.format, args.output.as_ref())?;
    timings.mark("write report");
    let code = report.exit_code();
    // The process ends here: leave the objects to the exit rather than
    // freeing them one by one (a third of the run on large inputs).
    std::mem::forget(inventory);
    std::mem::forget(report);
    std::mem::forget(policy);
    Ok(ExitCode::from(code))
}

/// The second read of the deferred sources as the scan does it (objects
/// built and dropped one at a time), without evaluating: the objects read,
/// less those the first read kept (already counted).
fn second_read_only(deferred: &[input::Deferred], policy: &palisade_core::PolicySet) -> usize {
    let mut objects = 0;
    for d in deferred {
        let mut n = 0usize;
        let read = input::each_object(&d.source, &|k| policy.keep(k), &mut |r| match r {
            Some(_) => n += 1,
            None => n = 0,
        });
        if let Err(e) = read {
            eprintln!(
                "error: {}: cannot read the file again: {e}",
                d.source.name()
            );
        }
        objects += n - n.min(d.count);
    }
    objects
}

/// Writes `report` to `output` (or stdout) in `format`; input errors also go
/// to stderr when the report itself is not a table on the terminal.
pub fn emit(report: &Report, format: Format, output: Option<&PathBuf>) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let terminal = output.is_none() && stdout.is_terminal();
    let style = Style {
        color: terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        width: if terminal {
            comfy_table::Table::new().width()
        } else {
            None
        },
    };
    match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut w = BufWriter::with_capacity(OUTPUT_BUFFER, file);
            output::write(format, report, &style, &mut w)?;
            w.flush()?;
        }
        None => {
            // Stdout is line-buffered: a JSON report would be one write
            // per line (100,000 on the real-world corpus) without this.
            let mut w = BufWriter::with_capacity(OUTPUT_BUFFER, stdout.lock());
            let written = output::write(format, report, &style, &mut w)
                .and_then(|()| w.flush().map_err(anyhow::Error::from));
            match written {
                // `palisade scan . | head`: the reader left, nothing more to say.
                Err(e) if is_broken_pipe(&e) => return Ok(()),
                other => other?,
            }
        }
    }
    if !(format == Format::Table && output.is_none()) {
        for e in &report.errors {
            eprintln!("error: {e}");
        }
    }
    Ok(())
}

/// Phase durations on stderr when `PALISADE_TIMINGS` is set (for the benchmark).
struct Timings(Option<std::cell::Cell<std::time::Instant>>);

impl Timings {
    fn from_env() -> Self {
        Timings(
            std::env::var_os("PALISADE_TIMINGS")
                .map(|_| std::cell::Cell::new(std::time::Instant::now())),
        )
    }

    fn mark(&self, phase: &str) {
        if let Some(last) = &self.0 {
            let now = std::time::Instant::now();
            eprintln!("{phase}: {:.1} ms", (now - last.get()).as_secs_f64() * 1e3);
            last.set(now);
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == std::io::ErrorKind::BrokenPipe)
    })
}

/// A progress bar on a terminal's stderr, drawn once the scan has
/// [`PROGRESS_MIN_FILES`] files (its length grows as files are found).
fn progress_bar(tty: bool) -> ProgressBar {
    if !tty {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg} {pos}/{len} {wide_bar} {elapsed}")
    {
        bar.set_style(style);
    }
    bar.set_message("reading files");
    bar
}

/// One more file to read: the bar grows, and shows from the
/// [`PROGRESS_MIN_FILES`]th file on.
fn found_one(bar: &ProgressBar) {
    bar.inc_length(1);
    if bar.length() == Some(PROGRESS_MIN_FILES as u64) {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
}
