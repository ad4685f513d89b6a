//! The test suite's fake Kubernetes API server as a program, for the
//! benchmark (bench/audit.sh): serves the JSON snapshot files under the
//! given paths on 127.0.0.1 (an ephemeral port), writes a kubeconfig
//! pointing at it into the current directory, prints its path and serves
//! until killed.
//!
//! Usage: fake_apiserver PATH...

#[path = "../tests/common/fake_api.rs"]
mod fake_api;

use std::io::Write as _;
use std::path::PathBuf;

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: fake_apiserver PATH...");
        std::process::exit(2);
    }
    let (kinds, version) = fake_api::kinds_from(&paths);
    let objects: usize = kinds.iter().map(|k| k.items.len()).sum();
    let api = fake_api::FakeApi::start(kinds, version, fake_api::Faults::default());
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let kubeconfig = api.kubeconfig(&dir, "fake");
    println!("{} {objects}", kubeconfig.display());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
