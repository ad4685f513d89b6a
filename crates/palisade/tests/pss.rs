//! `palisade scan` with the Pod Security profiles, through the real binary:
//! `--profile pss-baseline|pss-restricted`, `--pss-version`, namespace
//! labels from the scanned input, the `pss` config section and its errors.

mod common;

use common::{palisade, Out};

fn scan(dir: &tempfile::TempDir, args: &[&str]) -> Out {
    palisade(dir.path(), &[&["scan"], args].concat())
}

fn findings(out: &Out) -> Vec<(String, String, String)> {
    let v = out.json();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (s("rule"), s("path"), s("message"))
        })
        .collect()
}

const POD: &str = "apiVersion: v1
kind: Pod
metadata: {name: web, namespace: team}
spec:
  securityContext:
    sysctls: [{name: net.ipv4.tcp_keepalive_time, value: '60'}]
  containers:
  - name: app
    image: app:1
";

#[test]
fn the_version_flag_selects_the_policy_version() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    let old = scan(
        &dir,
        &[
            "--profile",
            "pss-baseline",
            "--pss-version",
            "v1.28",
            "--format",
            "json",
            "pod.yaml",
        ],
    );
    assert_eq!(old.code, 1, "{}", old.stderr);
    let f = findings(&old);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "pss-sysctls");
    assert_eq!(f[0].1, "spec.securityContext.sysctls[0].name");
    assert!(f[0].2.contains(
        "violates PodSecurity \"baseline:v1.28\": forbidden sysctls (net.ipv4.tcp_keepalive_time)"
    ));
    let new = scan(
        &dir,
        &[
            "--profile",
            "pss-baseline",
            "--pss-version",
            "v1.29",
            "--format",
            "json",
            "pod.yaml",
        ],
    );
    assert_eq!((new.code, findings(&new).len()), (0, 0), "{}", new.stderr);
    let bad = scan(
        &dir,
        &[
            "--profile",
            "pss-baseline",
            "--pss-version",
            "1.29",
            "pod.yaml",
        ],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("invalid Pod Security version `1.29`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn namespace_labels_in_the_input_decide_the_level() {
    let dir = tempfile::tempdir().unwrap();
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels: {pod-security.kubernetes.io/enforce: privileged}\n---\n";
    std::fs::write(dir.path().join("all.yaml"), format!("{ns}{POD}")).unwrap();
    let out = scan(
        &dir,
        &[
            "--profile",
            "pss-restricted",
            "--format",
            "json",
            "all.yaml",
        ],
    );
    assert_eq!(
        (out.code, findings(&out).len()),
        (0, 0),
        "{}{}",
        out.stdout,
        out.stderr
    );
    std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    let alone = scan(
        &dir,
        &[
            "--profile",
            "pss-restricted",
            "--format",
            "json",
            "pod.yaml",
        ],
    );
    assert_eq!(alone.code, 1);
    assert!(findings(&alone)
        .iter()
        .any(|f| f.0 == "pss-run-as-non-root"));
}

#[test]
fn the_default_profile_includes_restricted_and_the_config_section_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    let out = scan(&dir, &["--format", "json", "pod.yaml"]);
    let f = findings(&out);
    assert!(
        f.iter().any(|f| f.0 == "pss-seccomp-profile-restricted"),
        "{f:?}"
    );
    std::fs::write(
        dir.path().join("palisade.yaml"),
        "pss:\n  exemptions:\n    namespaces: [team]\n",
    )
    .unwrap();
    let exempt = scan(&dir, &["--format", "json", "pod.yaml"]);
    assert!(
        !findings(&exempt).iter().any(|f| f.0.starts_with("pss-")),
        "{}",
        exempt.stdout
    );
    std::fs::write(
        dir.path().join("palisade.yaml"),
        "pss:\n  exemptions:\n    users: [me]\n",
    )
    .unwrap();
    let bad = scan(&dir, &["pod.yaml"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("palisade.yaml:3:") && bad.stderr.contains("users"),
        "{}",
        bad.stderr
    );
}
