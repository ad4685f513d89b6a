//! `palisade policy test|list`, `scan --policy`, the config's `policies:` and
//! `explain --policy` through the real binary, each in a temporary directory.

mod common;

use common::{corpora, palisade, write};
use serde_json::Value;

const TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8snolatest}
spec:
  crd: {spec: {names: {kind: K8sNoLatest}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8snolatest
      violation[{"msg": msg}] {
        c := input.review.object.spec.containers[_]
        endswith(c.image, ":latest")
        msg := sprintf("container %v uses a latest tag", [c.name])
      }
"#;

const CONSTRAINT: &str = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNoLatest\nmetadata: {name: no-latest}\nspec:\n  enforcementAction: warn\n  match: {kinds: [{apiGroups: [\"\"], kinds: [Pod]}]}\n";

const VAP: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: need-team}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}]
  validations:
  - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    messageExpression: "'pod ' + object.metadata.name + ' has no team label'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: need-team}
spec: {policyName: need-team, validationActions: [Deny]}
"#;

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx:latest\n";

#[test]
fn policy_test_runs_corpus_suites() {
    let dir = tempfile::tempdir().unwrap();
    let lib = corpora().join("gatekeeper-library/library/general/allowedrepos");
    let out = palisade(dir.path(), &["policy", "test", lib.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.trim_end().lines().last().unwrap(),
        "11 passed, 0 failed"
    );
    let json = palisade(
        dir.path(),
        &["policy", "test", "--format", "json", lib.to_str().unwrap()],
    );
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["passed"], 11);
    assert_eq!(v["summary"]["failed"], 0);
    assert_eq!(v["results"].as_array().unwrap().len(), 11);
}

#[test]
fn policy_test_prints_failing_assertions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s/template.yaml", TEMPLATE);
    write(d, "s/constraint.yaml", CONSTRAINT);
    write(d, "s/pod.yaml", POD);
    write(
        d,
        "s/suite.yaml",
        "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\ntests:\n- name: t\n  template: template.yaml\n  constraint: constraint.yaml\n  cases:\n  - name: latest\n    object: pod.yaml\n    assertions:\n    - violations: 1\n      message: uses a latest\n    - violations: no\n",
    );
    let out = palisade(d, &["policy", "test", "."]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        lines[0]
            .starts_with("FAIL ./s/suite.yaml: t / latest [assertion 1]: expected violations: no"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("container app uses a latest tag"));
    assert_eq!(lines[1], "1 passed, 1 failed");
    let json = palisade(d, &["policy", "test", "-f", "json", "."]);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"], serde_json::json!({"passed": 1, "failed": 1}));
    assert_eq!(v["results"][1]["passed"], false);
    let empty = tempfile::tempdir().unwrap();
    let out = palisade(empty.path(), &["policy", "test", "."]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("no suite.yaml"));
}

#[test]
fn scan_runs_user_policies_beside_built_in_rules() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "policies/template.yaml", TEMPLATE);
    write(d, "policies/constraint.yaml", CONSTRAINT);
    write(d, "policies/vap.yaml", VAP);
    write(d, "pod.yaml", POD);
    let out = palisade(
        d,
        &[
            "scan", "--policy", "policies", "--format", "json", "pod.yaml",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let by = |id: &str| {
        findings
            .iter()
            .find(|f| f["rule"] == id)
            .unwrap_or_else(|| panic!("no {id}: {findings:#?}"))
    };
    let g = by("k8snolatest/no-latest");
    assert_eq!(g["message"], "container app uses a latest tag");
    assert_eq!(g["file"], "pod.yaml");
    assert_eq!(g["line"], 1);
    let c = by("need-team/need-team");
    assert_eq!(c["message"], "pod web has no team label");
    assert!(
        findings.iter().any(|f| f["rule"] == "image-latest-tag"),
        "built-in rules still run"
    );

    // A policy without a binding loads, checks nothing, and says so.
    let unbound = VAP.replace("need-team", "unbound");
    write(
        d,
        "policies/unbound.yaml",
        unbound.split("---").next().unwrap(),
    );
    let out = palisade(
        d,
        &[
            "scan", "--policy", "policies", "--format", "json", "pod.yaml",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let warning = "warning: ValidatingAdmissionPolicy unbound has no binding; it checks nothing";
    assert!(out.stderr.contains(warning), "{}", out.stderr);

    // The same policies from palisade.yaml, relative to the config file.
    write(d, "conf/palisade.yaml", "policies: [../policies]\n");
    let out = palisade(
        d,
        &[
            "scan",
            "--config",
            "conf/palisade.yaml",
            "--format",
            "json",
            "pod.yaml",
        ],
    );
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        ids.contains(&"k8snolatest/no-latest") && ids.contains(&"need-team/need-team"),
        "{ids:?}"
    );
}

#[test]
fn bad_policies_are_errors_naming_file_and_policy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "pod.yaml", POD);
    write(
        d,
        "bad/vap.yaml",
        &VAP.replace("'team' in object.metadata.labels", "'team' in"),
    );
    write(d, "bad/constraint.yaml", CONSTRAINT);
    let out = palisade(d, &["scan", "--policy", "bad", "pod.yaml"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("2 invalid policies"), "{}", out.stderr);
    assert!(out.stderr.contains("bad/vap.yaml:8:5:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("ValidatingAdmissionPolicy need-team: spec.validations[0].expression"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "K8sNoLatest no-latest: kind: no ConstraintTemplate defines kind `K8sNoLatest`"
        ),
        "{}",
        out.stderr
    );
    let list = palisade(d, &["policy", "list", "bad"]);
    assert_eq!(list.code, 2);
}

#[test]
fn list_and_explain_name_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let lib = corpora().join("gatekeeper-library/library/pod-security-policy/host-namespaces");
    let lib = lib.to_str().unwrap();
    let rego = palisade(dir.path(), &["policy", "list", lib]);
    assert_eq!(rego.code, 0, "{}", rego.stderr);
    assert!(
        rego.stdout
            .contains("k8spsphostnamespace/psp-host-namespace")
            && rego.stdout.contains("Rego (regorus)"),
        "{}",
        rego.stdout
    );
    let cel = palisade(dir.path(), &["policy", "list", "--engine", "cel", lib]);
    assert!(
        cel.stdout.contains("CEL (K8sNativeValidation)"),
        "{}",
        cel.stdout
    );
    let ex = palisade(
        dir.path(),
        &[
            "explain",
            "k8spsphostnamespace/psp-host-namespace",
            "--policy",
            lib,
        ],
    );
    assert_eq!(ex.code, 0, "{}", ex.stderr);
    assert!(
        ex.stdout.contains("Engine: Rego (regorus)."),
        "{}",
        ex.stdout
    );
}

#[test]
fn policy_list_has_a_header_and_says_when_there_are_no_policies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "pols/vap.yaml", VAP);
    let out = palisade(d, &["policy", "list", "pols"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["RULE", "SEVERITY", "ENGINE"]
    );
    assert!(
        lines[1].starts_with("need-team/need-team  "),
        "{}",
        out.stdout
    );
    assert_eq!(
        lines[0].find("SEVERITY"),
        lines[1].find("high"),
        "{}",
        out.stdout
    );

    // Only non-policy objects: nothing to list, said on stderr, exit 2.
    write(d, "none/pod.yaml", POD);
    let out = palisade(d, &["policy", "list", "none"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("error: no policies found under none"),
        "{}",
        out.stderr
    );
}

#[test]
fn unreadable_policy_entries_are_errors_and_the_rest_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "pols/vap.yaml", VAP);
    std::os::unix::fs::symlink("/nonexistent", d.join("pols/gone.yaml")).unwrap();
    let out = palisade(d, &["policy", "list", "pols"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("need-team/need-team"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("error: pols/gone.yaml: cannot read: No such file or directory"),
        "{}",
        out.stderr
    );
    // the same for suites
    let out = palisade(d, &["policy", "test", "pols"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("pols/gone.yaml: cannot read"),
        "{}",
        out.stderr
    );
}

/// `--kubernetes-version` and the config's `kubernetesVersion` pin the CEL
/// environment: semver() arrived in 1.33, so a 1.32 API server refuses the
/// policy, and so does Palisade (exit 2, naming the policy).
#[test]
fn kubernetes_version_pins_the_cel_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers: [{name: c, image: nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000}]\n");
    write(d, "policies/semver.yaml", "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: uses-semver}\nspec:\n  matchConstraints:\n    resourceRules: [{apiGroups: [\"\"], apiVersions: [\"v1\"], operations: [\"CREATE\"], resources: [\"pods\"]}]\n  validations: [{expression: \"semver('1.2.3').major() == 1\"}]\n");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan", "pod.yaml", "--policy", "policies", "--format", "json",
        ];
        args.extend_from_slice(extra);
        palisade(d, &args)
    };
    let latest = scan(&[]);
    assert_ne!(latest.code, 2, "{}", latest.stderr);
    let old = scan(&["--kubernetes-version", "1.32"]);
    assert_eq!(old.code, 2, "{}", old.stdout);
    assert!(
        old.stderr.contains("uses-semver") && old.stderr.contains("declares it from 1.33"),
        "{}",
        old.stderr
    );
    write(d, "old.yaml", "kubernetesVersion: \"1.32\"\n");
    let by_config = scan(&["--config", "old.yaml"]);
    assert_eq!(by_config.code, 2);
    assert!(
        by_config.stderr.contains("declares it from 1.33"),
        "{}",
        by_config.stderr
    );
    // A YAML number would lose trailing zeros (1.30 is 1.3): refused, placed.
    write(d, "number.yaml", "kubernetesVersion: 1.30\n");
    let number = scan(&["--config", "number.yaml"]);
    assert_eq!(number.code, 2);
    assert!(
        number.stderr.contains("number.yaml:1") && number.stderr.contains("quote the version"),
        "{}",
        number.stderr
    );
    let bad = scan(&["--kubernetes-version", "2.0"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("invalid Kubernetes version `2.0`"),
        "{}",
        bad.stderr
    );
}
