//! Conformance with the built-in Pod Security Admission controller: every
//! upstream fixture in `testdata/psa/{baseline,restricted}/v1.N/
//! {pass,fail}/*.yaml` is admitted (pass) or denied (fail) at exactly its
//! level and version, with the check's words in the denial; the same pod
//! as a Deployment's template gets the same verdict.

use palisade_core::yaml::parse_stream;
use palisade_core::{Action, Config, Context, Extensions, Finding, Inventory, PolicySet, Resource};
use palisade_rules::{profile, ProfileOptions};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn corpora() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata")).to_path_buf()
}

/// The check family of a fixture file: its name without digits and `.yaml`.
fn family(file: &str) -> &str {
    file.trim_end_matches(".yaml")
        .trim_end_matches(|c: char| c.is_ascii_digit())
}

/// The words upstream expects in the denial of a fail fixture, by file prefix
/// (the corpus README).
fn expected_words(file: &str) -> Option<&'static str> {
    Some(match family(file) {
        "allowprivilegeescalation" => "allowPrivilegeEscalation",
        "apparmorprofile" => "forbidden AppArmor profile",
        "capabilities_baseline" => "capabilities",
        "capabilities_restricted" => "unrestricted capabilities",
        "hostnamespaces" => "host namespaces",
        "hostpathvolumes" => "hostPath",
        "hostports" => "hostPort",
        "hostprobesandhostlifecycle" => "probe or lifecycle host",
        "privileged" => "privileged",
        "procmount" | "procmount_restricted" => "procMount",
        "restrictedvolumes" => "restricted volume types",
        "runasnonroot" => "runAsNonRoot",
        "runasuser" => "runAsUser",
        "seccompprofile_baseline" | "seccompprofile_restricted" => "seccompProfile",
        "selinuxoptions" => "seLinuxOptions",
        "sysctls" => "forbidden sysctl",
        "windowshostprocess" => "hostProcess",
        _ => return None,
    })
}

fn sorted_dir(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn policy(level: &str, version: &str) -> PolicySet {
    let opts = ProfileOptions {
        pss_version: Some(version.to_string()),
    };
    let rules = profile(&format!("pss-{level}"), &opts).unwrap();
    PolicySet::builder(Config::default())
        .rules(rules)
        .build()
        .unwrap()
}

fn as_deployment(pod: &Value) -> Resource {
    let value = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": pod.pointer("/metadata/name").cloned().unwrap_or(Value::Null)},
        "spec": {
            "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": pod.get("metadata").cloned().unwrap_or(json!({})), "spec": pod["spec"].clone()},
        },
    });
    Resource::from_value(value).unwrap()
}

/// Why a verdict is wrong, or `None` when it is right.
fn judge(findings: &[Finding], pass: bool, words: Option<&str>, also: &[&str]) -> Option<String> {
    let denials: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.action == Action::Enforce)
        .collect();
    let shown = || {
        denials
            .iter()
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if pass {
        return (!denials.is_empty()).then(|| format!("denied, expected admitted: {}", shown()));
    }
    let Some(words) = words else {
        return Some("fail fixture with an unknown check prefix".to_string());
    };
    if denials.is_empty() {
        return Some("admitted, expected denied".to_string());
    }
    if !denials.iter().any(|f| f.message.contains(words)) {
        return Some(format!("denied without {words:?}: {}", shown()));
    }
    // Every other denial must be one the fixture's construction also causes
    // upstream; anything else would be a false positive.
    let extra: Vec<&&Finding> = denials
        .iter()
        .filter(|f| !f.message.contains(words) && !also.iter().any(|w| f.message.contains(w)))
        .collect();
    (!extra.is_empty()).then(|| format!("denied also for another check: {}", shown()))
}

/// Checks a fail fixture of family `prefix` breaks besides its own, by
/// construction: a Windows HostProcess pod must also use the host network,
/// a privileged container cannot set allowPrivilegeEscalation=false (API
/// validation forbids it), and allowprivilegeescalation3 is a container with
/// no securityContext at all, which also misses capabilities.drop=["ALL"].
fn also_breaks(prefix: &str) -> &'static [&'static str] {
    match prefix {
        "windowshostprocess" => &["host namespaces (hostNetwork=true)"],
        "privileged" => &["allowPrivilegeEscalation != false"],
        "allowprivilegeescalation" => &["unrestricted capabilities"],
        _ => &[],
    }
}

#[test]
fn every_upstream_fixture_gets_the_built_in_verdict() {
    let root = corpora().join("psa");
    let inventory = Inventory::default();
    let ext = Extensions::default();
    let ctx = Context::new(&inventory, &ext, jiff::Timestamp::UNIX_EPOCH);
    let mut failures = Vec::new();
    let (mut passes, mut fails, mut versions) = (0usize, 0usize, 0usize);
    for level in ["baseline", "restricted"] {
        for vdir in sorted_dir(&root.join(level)) {
            let version = vdir.file_name().unwrap().to_string_lossy().to_string();
            let set = policy(level, &version);
            versions += 1;
            for verdict in ["pass", "fail"] {
                for file in sorted_dir(&vdir.join(verdict)) {
                    let name = file.file_name().unwrap().to_string_lossy().to_string();
                    let shown = format!("{level}/{version}/{verdict}/{name}");
                    let text = std::fs::read_to_string(&file).unwrap();
                    let mut docs = parse_stream(&text);
                    assert_eq!(docs.len(), 1, "{shown}");
                    let doc = docs.remove(0).unwrap_or_else(|e| panic!("{shown}: {e:?}"));
                    let pod_value = doc.value.clone();
                    let mut res = Resource::from_document(doc, &Arc::from(shown.as_str()));
                    let pod = res.remove(0);
                    let words = expected_words(&name);
                    let also = also_breaks(family(&name));
                    let pass = verdict == "pass";
                    if pass {
                        passes += 1;
                    } else {
                        fails += 1;
                    }
                    if let Some(why) = judge(&set.evaluate(&pod, &ctx).findings, pass, words, also)
                    {
                        failures.push(format!("{shown}: {why}"));
                    }
                    let deployment = as_deployment(&pod_value);
                    if let Some(why) =
                        judge(&set.evaluate(&deployment, &ctx).findings, pass, words, also)
                    {
                        failures.push(format!("{shown} (as a Deployment): {why}"));
                    }
                }
            }
        }
    }
    println!("{versions} level versions, {passes} pass and {fails} fail fixtures, each as a Pod and as a Deployment");
    assert_eq!(
        passes + fails,
        4537,
        "the corpus should hold 4,537 fixtures"
    );
    assert!(
        failures.is_empty(),
        "{} of {} verdicts wrong:\n{}",
        failures.len(),
        2 * (passes + fails),
        failures.join("\n")
    );
}
