//! `kubectl palisade`: the real kubectl (Debian's kubectl 1.32 on this
//! machine) finds `kubectl-palisade` on PATH, a link to the binary, and
//! runs it; and the repository's `.pre-commit-hooks.yaml` runs `palisade
//! scan` on the files pre-commit hands it (when `pre-commit` is installed,
//! as .ci/run does in its virtual environment).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn kubectl() -> &'static str {
    // The plugin mechanism is kubectl's own; no other kubectl is tried.
    "/usr/bin/kubectl"
}

/// A directory holding `kubectl-palisade` -> the binary, and a PATH of it
/// plus the system's.
fn plugin_path(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_palisade"), bin.join("kubectl-palisade"))
        .unwrap();
    format!("{}:/usr/bin:/bin", bin.display())
}

fn run(dir: &Path, path: &str, args: &[&str]) -> common::Out {
    let out = Command::new(kubectl())
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("KUBECONFIG", dir.join("no-kubeconfig"))
        .env("HOME", dir)
        .output()
        .expect("kubectl (Debian package kubectl) is needed for the plugin test");
    common::Out::lossy(out)
}

#[test]
fn kubectl_runs_the_plugin_with_its_arguments_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = plugin_path(d);
    let list = run(d, &path, &["plugin", "list"]);
    assert!(
        list.stdout.contains("kubectl-palisade"),
        "{}{}",
        list.stdout,
        list.stderr
    );
    let v = run(d, &path, &["palisade", "version"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    assert_eq!(
        v.stdout.trim(),
        format!("palisade {}", env!("CARGO_PKG_VERSION"))
    );
    common::write(
        d,
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: app}\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: nginx}]\n",
    );
    let scan = run(
        d,
        &path,
        &["palisade", "scan", "pod.yaml", "--format", "json"],
    );
    assert_eq!(
        scan.code, 1,
        "findings exit 1 through kubectl: {}",
        scan.stderr
    );
    assert!(scan.stdout.contains("host-network"), "{}", scan.stdout);
    let help = run(d, &path, &["palisade", "scan", "--no-such-flag"]);
    assert_eq!(help.code, 2);
    assert!(
        help.stderr.contains("Usage: kubectl palisade scan"),
        "{}",
        help.stderr
    );
}

/// `pre-commit` from PATH or the venv .ci/run makes.
fn pre_commit() -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../ci-tools/venv/bin/pre-commit");
    if venv.is_file() {
        return Some(venv);
    }
    let on_path = Command::new("pre-commit").arg("--version").output().ok()?;
    on_path
        .status
        .success()
        .then(|| PathBuf::from("pre-commit"))
}

#[test]
fn the_pre_commit_hook_scans_changed_manifests() {
    let Some(pre_commit) = pre_commit() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide pre-commit (.ci/run installs it)"
        );
        eprintln!("skipped: pre-commit is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // palisade on PATH under its own name, as the hook's `entry` runs it.
    let bin = d.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_palisade"), bin.join("palisade")).unwrap();
    let repo = d.join("work");
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    std::fs::create_dir_all(&repo).unwrap();
    git(&["init", "-q"]);
    common::write(&repo, "deploy/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: app}\nspec:\n  hostPID: true\n  containers: [{name: c, image: nginx}]\n");
    common::write(&repo, ".github/ci.yaml", "name: ci\non: [push]\n");
    git(&["add", "."]);
    // The repository's hook file, in a small repository of its own (pre-commit
    // clones the hook repository; cloning this one would take long).
    let hooks = d.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../.pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let commit = [
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "hooks",
    ];
    for args in [&["init", "-q"][..], &["add", "."], &commit] {
        let o = Command::new("git")
            .args(args)
            .current_dir(&hooks)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new(&pre_commit)
        .args([
            "try-repo",
            hooks.to_str().unwrap(),
            "palisade-scan",
            "--all-files",
            "--verbose",
        ])
        .current_dir(&repo)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", d.join("cache"))
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "the hook fails on host-pid: {out}"
    );
    assert!(
        out.contains("host-pid") && out.contains("deploy/pod.yaml"),
        "{out}"
    );
}
