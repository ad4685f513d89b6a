//! The data-driven case-file harness: loads `tests/cases/**/*.yaml`, runs
//! each case through a real [`PolicySet`] and compares the findings.
//! The format is documented in `tests/cases/README.md`.

#![allow(dead_code)] // each test binary uses a different part

pub mod compare;

use palisade_core::yaml::parse_stream;
use palisade_core::{Config, Finding, Inventory, LoadError, PolicySet, Resource, Suppressed};
use palisade_rules::registry::providers_for;
use palisade_rules::{catalog, profile, ProfileOptions};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name findings in the case's `input` are reported against.
pub const INPUT_FILE: &str = "input.yaml";
/// The name findings in the case's `config` are reported against.
pub const CONFIG_FILE: &str = "palisade.yaml";
/// "Now" when a case gives none.
pub const DEFAULT_NOW: &str = "2026-11-29T00:00:00Z";

/// One case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows.
    pub description: String,
    /// The profile whose rules run.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Pod Security Standards version for the pss profiles.
    #[serde(default)]
    pub pss_version: Option<String>,
    /// Rules whose findings are compared; others are ignored.
    pub rules: Vec<String>,
    /// palisade.yaml text.
    #[serde(default)]
    pub config: Option<String>,
    /// Fixed evaluation time (RFC 3339).
    #[serde(default)]
    pub now: Option<String>,
    /// YAML or JSON stream of objects.
    pub input: String,
    /// Exactly the findings of `rules` expected.
    pub expect: Vec<Expected>,
    /// When given, exactly the suppressed findings of `rules` expected.
    #[serde(default)]
    pub suppressed: Option<Vec<ExpectedSuppressed>>,
    /// Load errors expected in `input` (none by default).
    #[serde(default)]
    pub errors: Vec<ExpectedError>,
    /// Image inspection results in the context, by reference as written:
    /// an `ImageContent` (JSON of `palisade image inspect`) or `{error: why}`.
    #[serde(default)]
    pub image_content: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Puts a case's image inspection results in the context.
struct StaticContent(palisade_core::image_content::ImageContents);

impl palisade_core::ContextProvider for StaticContent {
    fn provide(&self, _: &Inventory, ext: &mut palisade_core::Extensions) {
        ext.insert(self.0.clone());
    }
    fn reads(&self) -> palisade_core::Scope {
        palisade_core::Scope::none()
    }
}

fn image_contents(case: &Case) -> Result<palisade_core::image_content::ImageContents, String> {
    let mut out = palisade_core::image_content::ImageContents::default();
    for (image, v) in &case.image_content {
        let r = match v.get("error").and_then(|e| e.as_str()) {
            Some(e) => Err(e.to_string()),
            None => Ok(serde_json::from_value(v.clone())
                .map_err(|e| format!("image_content.{image}: {e}"))?),
        };
        out.images.insert(image.clone(), r);
    }
    Ok(out)
}

fn default_profile() -> String {
    "default".to_string()
}

/// One expected finding.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Rule ID (also matches a finding that lists it in `also`).
    pub rule: String,
    /// Line, from 1, in `input` (or in `config` when `file` is palisade.yaml).
    pub line: u32,
    /// Field path.
    pub path: String,
    /// A substring of the message.
    #[serde(default)]
    pub message: Option<String>,
    /// Column, from 1.
    #[serde(default)]
    pub column: Option<u32>,
    /// Effective severity.
    #[serde(default)]
    pub severity: Option<String>,
    /// Effective action (`enforce`, `warn`, `audit`).
    #[serde(default)]
    pub action: Option<String>,
    /// `input.yaml` (default) or `palisade.yaml`.
    #[serde(default)]
    pub file: Option<String>,
    /// `Kind/name` of the object.
    #[serde(default)]
    pub resource: Option<String>,
}

/// One expected suppressed finding.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedSuppressed {
    /// Rule ID.
    pub rule: String,
    /// Field path.
    pub path: String,
    /// `annotation` or `exemptions[N]`.
    pub by: String,
    /// A substring of the reason.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One expected load error.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedError {
    /// Line, from 1, in `input`.
    pub line: u32,
    /// A substring of the message.
    #[serde(default)]
    pub message: Option<String>,
}

/// What evaluating a case produced.
pub struct Outcome {
    /// Reported findings, including config findings (expired exemptions).
    pub findings: Vec<Finding>,
    /// Suppressed findings.
    pub suppressed: Vec<Suppressed>,
    /// Load errors of the input.
    pub errors: Vec<LoadError>,
}

/// The folder of case files.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("cases")
}

/// Every `*.yaml` file under `dir`, sorted.
pub fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Reads and parses one case file.
pub fn load(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut docs = parse_stream(&text);
    if docs.len() != 1 {
        return Err(format!("expected one YAML document, found {}", docs.len()));
    }
    let doc = docs.remove(0).map_err(|e| format!("bad YAML: {e}"))?;
    let case: Case = serde_json::from_value(doc.value).map_err(|e| format!("bad case: {e}"))?;
    let known: Vec<String> = catalog().iter().map(|r| r.info().id.clone()).collect();
    if case.rules.is_empty() {
        return Err("`rules` is empty: the case would compare nothing".into());
    }
    for r in case.rules.iter().chain(case.expect.iter().map(|e| &e.rule)) {
        if !known.contains(r) && r != palisade_core::policy_set::EXEMPTION_EXPIRED {
            return Err(format!("unknown rule `{r}`"));
        }
    }
    for e in &case.expect {
        if !case.rules.contains(&e.rule) {
            return Err(format!("expected rule `{}` is not in `rules`", e.rule));
        }
    }
    Ok(case)
}

/// Builds the policy set of `case`, parses its input and evaluates it.
pub fn run(case: &Case) -> Result<Outcome, String> {
    let config = match &case.config {
        Some(text) => Config::parse(text, CONFIG_FILE).map_err(|e| format!("config: {e}"))?,
        None => Config::default(),
    };
    let opts = ProfileOptions {
        pss_version: case.pss_version.clone(),
    };
    let rules = profile(&case.profile, &opts).map_err(|e| e.to_string())?;
    let known: Vec<String> = catalog().iter().map(|r| r.info().id.clone()).collect();
    let providers = providers_for(&config).map_err(|e| format!("config: {e}"))?;
    let mut builder = PolicySet::builder(config).rules(rules).known_ids(known);
    for p in providers {
        builder = builder.provider(p);
    }
    if !case.image_content.is_empty() {
        builder = builder.provider(Arc::new(StaticContent(image_contents(case)?)));
    }
    let set = builder.build().map_err(|e| format!("config: {e}"))?;
    let file: Arc<str> = Arc::from(INPUT_FILE);
    let mut resources = Vec::new();
    let mut errors = Vec::new();
    for doc in parse_stream(&case.input) {
        match doc {
            Ok(doc) => resources.extend(
                Resource::from_document(doc, &file)
                    .into_iter()
                    .map(Arc::new),
            ),
            Err(e) => errors.push(e),
        }
    }
    let now: jiff::Timestamp = case
        .now
        .as_deref()
        .unwrap_or(DEFAULT_NOW)
        .parse()
        .map_err(|e| format!("bad `now`: {e}"))?;
    let inventory = Inventory::new(resources);
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    for eval in set.evaluate_inventory(&inventory, now) {
        findings.extend(eval.findings);
        suppressed.extend(eval.suppressed);
    }
    findings.extend(set.config_findings(now));
    Ok(Outcome {
        findings,
        suppressed,
        errors,
    })
}
