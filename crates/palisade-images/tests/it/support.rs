//! Helpers shared by the tests.

use palisade_core::Config;
use palisade_images::{ImagePolicies, Registry, RegistryOptions, Verifier, VerifierOptions};
use std::path::PathBuf;
use std::sync::Arc;

/// `testdata/supply/<rel>`.
pub fn supply(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/supply")
        .join(rel)
}

/// The text of `testdata/supply/<rel>`.
pub fn read(rel: &str) -> String {
    std::fs::read_to_string(supply(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Parses a config written in `dir` (so relative key paths resolve there).
pub fn config_in(dir: &std::path::Path, yaml: &str) -> Result<Config, palisade_core::ConfigError> {
    let file = dir.join("palisade.yaml");
    std::fs::write(&file, yaml).expect("write config");
    Config::parse(yaml, &file.to_string_lossy())
}

/// A verifier for `yaml` (written in `dir`) with `creds` for every host.
pub fn verifier(dir: &std::path::Path, yaml: &str, creds: Option<(&str, &str, &str)>) -> Verifier {
    let config = config_in(dir, yaml).unwrap_or_else(|e| panic!("config: {e}"));
    let mut policies =
        ImagePolicies::from_config(&config).unwrap_or_else(|e| panic!("policies: {e}"));
    let mut opts: RegistryOptions = policies.registry.clone();
    if let Some((host, u, p)) = creds {
        opts.credentials.insert(host.into(), (u.into(), p.into()));
    }
    policies.registry = opts.clone();
    Verifier::new(
        Arc::new(policies),
        Registry::new(opts),
        VerifierOptions::default(),
    )
}

/// A current-thread runtime.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}
