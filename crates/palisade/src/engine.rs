//! Building the engine from the command line: configuration file, profiles
//! and their options, into one compiled [`PolicySet`].
//!
//! Every command that evaluates policies (`scan`, `serve`, `audit`, ...)
//! flattens [`EngineArgs`] into its arguments and calls [`build`].

use anyhow::Context as _;
use palisade_core::path::FieldPath;
use palisade_core::{Action, Config, PolicySet, Rule};
use palisade_rules::ProfileOptions;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The configuration file read from the working directory when `--config`
/// is not given.
pub const DEFAULT_CONFIG: &str = "palisade.yaml";

/// The profile run when neither `--profile` nor the config's `profiles` names one.
pub const DEFAULT_PROFILE: &str = "default";

/// Flags shared by every command that evaluates policies.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct EngineArgs {
    /// Configuration file [default: ./palisade.yaml when it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Profile to run; repeat for several. Replaces the config's `profiles`
    /// [default: default].
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Pod Security Standards version for the pss-* profiles (`v1.N` or `latest`).
    #[arg(long, value_name = "VERSION")]
    pub pss_version: Option<String>,
    /// User policies: a file or directory of ValidatingAdmissionPolicies and
    /// bindings, Gatekeeper ConstraintTemplates and constraints (and their
    /// params); repeat for several. Added to the config's `policies`.
    #[arg(long = "policy", value_name = "FILE|DIR")]
    pub policies: Vec<PathBuf>,
    /// The Kubernetes version whose CEL environment ValidatingAdmissionPolicies
    /// are checked against (`1.N`; a function introduced later is undeclared,
    /// as the API server of that version refuses it). Replaces the config's
    /// `kubernetesVersion` [default: the latest the shipped data describes].
    #[arg(long, value_name = "1.N")]
    pub kubernetes_version: Option<String>,
}

/// Compiles the user policies of `--policy` and the config's `policies`
/// (relative to the config file); any policy error fails the build, naming
/// every bad policy.
pub fn user_policies(
    config: &Config,
    args: &EngineArgs,
) -> anyhow::Result<palisade_policy::LoadedPolicies> {
    let base = config
        .file
        .as_deref()
        .and_then(|f| Path::new(f).parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut paths: Vec<PathBuf> = config.spec.policies.iter().map(|p| base.join(p)).collect();
    paths.extend(args.policies.iter().cloned());
    if paths.is_empty() {
        return Ok(palisade_policy::LoadedPolicies::default());
    }
    let opts = palisade_policy::LoadOptions {
        kubernetes_version: cel_version(config, args)?,
        ..palisade_policy::LoadOptions::default()
    };
    let (loaded, errors) = palisade_policy::load_files(&paths, opts);
    if !errors.is_empty() {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::bail!(
            "{} invalid polic{}:\n  {}",
            list.len(),
            if list.len() == 1 { "y" } else { "ies" },
            list.join("\n  ")
        );
    }
    for w in &loaded.warnings {
        eprintln!("warning: {w}"); // loads but checks nothing: said, not skipped silently
    }
    Ok(loaded)
}

/// The Kubernetes version of the CEL environment: `--kubernetes-version`,
/// else the config's `kubernetesVersion` (a string: a YAML number such as
/// `1.30` would lose its trailing zero), else the latest.
fn cel_version(
    config: &Config,
    args: &EngineArgs,
) -> anyhow::Result<palisade_policy::cel::KubeVersion> {
    if let Some(v) = &args.kubernetes_version {
        return v.parse().context("--kubernetes-version");
    }
    let path = FieldPath::root().key("kubernetesVersion");
    match &config.spec.kubernetes_version {
        None => Ok(palisade_policy::cel::KubeVersion::LATEST),
        Some(serde_json::Value::String(v)) => {
            Ok(v.parse()
                .map_err(|e: palisade_policy::cel::version::BadVersion| {
                    config.error_at(&path, e.to_string())
                })?)
        }
        Some(other) => Err(config
            .error_at(
                &path,
                format!("expected a string such as \"1.32\", found {other}: quote the version"),
            )
            .into()),
    }
}

/// Loads the configuration: `path` if given (it must exist), else
/// `./palisade.yaml` if it exists, else the defaults.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from(DEFAULT_CONFIG);
            if !p.is_file() {
                return Ok(Config::default());
            }
            p
        }
    };
    let name = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read config file {name}"))?;
    Ok(Config::parse(&text, &name)?)
}

/// Loads the configuration named by `args` and builds the policy set.
pub fn build(args: &EngineArgs) -> anyhow::Result<PolicySet> {
    let config = load_config(args.config.as_deref())?;
    build_with(config, args)
}

/// Builds the policy set for `config`: the rules of the profiles named by
/// `--profile` (or the config's `profiles`, or `default`; a config profile
/// with an `action` gives it to its rules unless `rules.ID.action` sets
/// one, the strictest when several such profiles include a rule), with every catalog
/// rule ID known to the config validation and the context providers the
/// built-in rules need (the RBAC graph, with the config's `rbac` settings).
pub fn build_with(config: Config, args: &EngineArgs) -> anyhow::Result<PolicySet> {
    build_with_providers(config, args, Vec::new())
}

/// [`build_with`], adding `extra` context providers after the built-in ones:
/// image verification results for `scan --verify-images`, release data for
/// `audit --releases` (a later provider's data replaces an earlier one's of
/// the same type, as `audit --releases` replaces the shipped release data).
pub fn build_with_providers(
    config: Config,
    args: &EngineArgs,
    extra: Vec<Arc<dyn palisade_core::ContextProvider>>,
) -> anyhow::Result<PolicySet> {
    let opts = ProfileOptions {
        pss_version: args.pss_version.clone(),
    };
    let mut rules: Vec<Arc<dyn Rule>> = Vec::new();
    let mut profile_actions: HashMap<String, Action> = HashMap::new();
    let mut seen = HashSet::new();
    let mut add = |new: Vec<Arc<dyn Rule>>| {
        for r in new {
            if seen.insert(r.info().id.clone()) {
                rules.push(r);
            }
        }
    };
    if !args.profiles.is_empty() {
        for name in &args.profiles {
            add(
                palisade_rules::profile(name, &opts).with_context(|| match &args.pss_version {
                    Some(v) => format!("--profile {name} --pss-version {v}"),
                    None => format!("--profile {name}"),
                })?,
            );
        }
    } else if !config.spec.profiles.is_empty() {
        for (i, entry) in config.spec.profiles.iter().enumerate() {
            let found = palisade_rules::profile(&entry.name, &opts).map_err(|e| {
                config.error_at(&FieldPath::root().key("profiles").index(i), e.to_string())
            })?;
            if let Some(action) = entry.action {
                for r in &found {
                    let a = profile_actions.entry(r.info().id.clone()).or_insert(action);
                    *a = (*a).max(action); // in several profiles: the strictest
                }
            }
            add(found);
        }
    } else {
        add(palisade_rules::profile(DEFAULT_PROFILE, &opts)?);
    }
    let known: Vec<String> = palisade_rules::catalog()
        .iter()
        .map(|r| r.info().id.clone())
        .collect();
    let mut providers = palisade_rules::registry::providers_for(&config)?;
    let user = user_policies(&config, args)?;
    rules.extend(user.rules);
    providers.extend(user.providers);
    providers.extend(extra);
    let mut builder = PolicySet::builder(config).rules(rules).known_ids(known);
    for (id, action) in profile_actions {
        builder = builder.default_action(id, action);
    }
    for p in providers {
        builder = builder.provider(p);
    }
    Ok(builder.build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(config: &str, args: &EngineArgs) -> HashMap<String, Action> {
        let config = Config::parse(config, "p.yaml").unwrap();
        let set = build_with(config, args).unwrap();
        set.active_rules()
            .map(|(info, _, action)| (info.id.clone(), action))
            .collect()
    }

    #[test]
    fn profile_actions_strictest_wins_and_rule_actions_win_over_them() {
        let a = actions(
            "profiles:\n- {name: default, action: audit}\n- {name: pss-restricted, action: warn}\n\
             rules:\n  host-pid: {action: enforce}\n  pss-seccomp-profile: {action: audit}\n",
            &EngineArgs::default(),
        );
        assert_eq!(a["host-network"], Action::Audit, "the default profile's");
        assert_eq!(
            a["pss-host-namespaces"],
            Action::Warn,
            "in both: the strictest"
        );
        assert_eq!(a["host-pid"], Action::Enforce, "the rule's own action");
        assert_eq!(a["pss-seccomp-profile"], Action::Audit);
        // Without an action a profile leaves its rules to enforceAt.
        let a = actions(
            "enforceAt: critical\nprofiles: [default]\n",
            &EngineArgs::default(),
        );
        assert_eq!(a["host-network"], Action::Warn);
        // --profile replaces the config's profiles, and their actions.
        let args = EngineArgs {
            profiles: vec!["pss-restricted".into()],
            ..Default::default()
        };
        let a = actions(
            "profiles:\n- {name: pss-restricted, action: audit}\n",
            &args,
        );
        assert_eq!(a["pss-host-namespaces"], Action::Enforce);
    }
}
