//! Replays the fuzz targets' seed corpus (fuzz/corpus/TARGET) and every
//! crash the fuzzer found (fuzz/regressions/TARGET, one file per crash)
//! through the same entry points (fuzz/targets.rs): none may panic.

#[path = "../../../fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

/// A target's name and entry point.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 6] = [
    ("yaml_stream", targets::yaml_stream),
    ("admission_review", targets::admission_review),
    ("config", targets::config),
    ("cel_policy", targets::cel_policy),
    ("rego_policy", targets::rego_policy),
    ("image_parsers", targets::image_parsers),
];

fn fuzz_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz"))
}

fn replay(dir: &Path, run: fn(&[u8])) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let caught = std::panic::catch_unwind(|| run(&data));
        assert!(caught.is_ok(), "{} panics", f.display());
    }
    files.len()
}

#[test]
fn the_seed_corpus_and_every_crash_found_run_without_panic() {
    for (name, run) in TARGETS {
        let seeds = replay(&fuzz_dir().join("corpus").join(name), run);
        assert!(seeds > 0, "no seed corpus for {name}");
        replay(&fuzz_dir().join("regressions").join(name), run);
    }
}
