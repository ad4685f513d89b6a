//! packaging/oci_layout.py (the packing of `packaging/build-image.sh`) run
//! on a small given binary: two builds give the same digest, the layer
//! holds only the listed entries with fixed times, the config runs as
//! 65532; skopeo reads and pushes it to a real registry (Debian's
//! docker-registry on 127.0.0.1) with its digest unchanged, `palisade image
//! sign`/`attest --legacy` sign it with the CycloneDX SBOM of packaging/sbom.py,
//! and `install --print` with that image passes `scan --verify-images` under
//! a policy requiring both. (The full script, with the release build, is run
//! by hand; see README, "Container image".)

mod common;
#[path = "../../palisade-images/tests/it/registry_server.rs"]
mod registry_server;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::oci::{pack, root};

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    std::fs::read(
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .unwrap()
}

fn json_blob(layout: &Path, digest: &str) -> Value {
    serde_json::from_slice(&blob(layout, digest)).unwrap()
}

/// Every file of a directory tree with its bytes, by relative path.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            for (n, b) in tree(&p) {
                out.push((
                    format!("{}/{n}", p.file_name().unwrap().to_string_lossy()),
                    b,
                ));
            }
        } else {
            out.push((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

struct Inputs {
    dir: tempfile::TempDir,
    binary: PathBuf,
    ca: PathBuf,
}

fn inputs() -> Inputs {
    let dir = tempfile::tempdir().unwrap();
    let binary = common::write(
        dir.path(),
        "in/palisade",
        "#!/bin/sh\necho palisade 0.1.0\n",
    );
    let ca = common::write(
        dir.path(),
        "in/ca.crt",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    );
    Inputs { dir, binary, ca }
}

#[test]
fn two_builds_of_the_same_inputs_are_identical_and_the_time_is_the_epoch() {
    let i = inputs();
    let a = pack(&i.binary, &i.ca, &i.dir.path().join("a"), "1700000000");
    // Wall-clock time passes between the two builds; nothing of it is kept.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = pack(&i.binary, &i.ca, &i.dir.path().join("b"), "1700000000");
    assert_eq!(a, b);
    assert!(a.starts_with("sha256:") && a.len() == 71, "{a}");
    assert_eq!(tree(&i.dir.path().join("a")), tree(&i.dir.path().join("b")));
    let c = pack(&i.binary, &i.ca, &i.dir.path().join("c"), "1700000001");
    assert_ne!(a, c, "SOURCE_DATE_EPOCH is the image's time");
    // Another binary, another image.
    let other = common::write(i.dir.path(), "in/other", "#!/bin/sh\necho other\n");
    assert_ne!(
        a,
        pack(&other, &i.ca, &i.dir.path().join("d"), "1700000000")
    );
    // A directory already holding a layout is refused, not mixed.
    let o = Command::new("python3")
        .arg(root().join("packaging/oci_layout.py"))
        .args([
            "--binary",
            i.binary.to_str().unwrap(),
            "--ca-certs",
            i.ca.to_str().unwrap(),
        ])
        .args(["--out", i.dir.path().join("a").to_str().unwrap()])
        .args([
            "--version",
            "0.1.0",
            "--revision",
            "x",
            "--source",
            "s",
            "--licenses",
            "l",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already holds a layout"));
}

#[test]
fn one_layer_with_only_the_binary_ca_certificates_and_the_non_root_user() {
    let i = inputs();
    let out = i.dir.path().join("img");
    let digest = pack(&i.binary, &i.ca, &out, "1700000000");
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], json!(digest));
    let manifest = json_blob(&out, &digest);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    for key in ["source", "revision", "version", "licenses", "created"] {
        let k = format!("org.opencontainers.image.{key}");
        assert!(manifest["annotations"][&k].is_string(), "{k}");
    }
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.licenses"],
        "Apache-2.0"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    let config = json_blob(&out, manifest["config"]["digest"].as_str().unwrap());
    assert_eq!(config["config"]["User"], "65532");
    assert_eq!(
        config["config"]["Entrypoint"],
        json!(["/usr/local/bin/palisade"])
    );
    // The layer, listed by GNU tar: names, modes, owners, times.
    let layer = i.dir.path().join("layer.tar.gz");
    std::fs::write(&layer, blob(&out, layers[0]["digest"].as_str().unwrap())).unwrap();
    let o = Command::new("tar")
        .args([
            "--list",
            "--verbose",
            "--numeric-owner",
            "--full-time",
            "-zf",
        ])
        .arg(&layer)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(o.status.success());
    let listing = String::from_utf8(o.stdout).unwrap();
    let rows: Vec<(String, String, String)> = listing
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(format!("{} {}", f[3], f[4]), "2023-11-14 22:13:20", "{l}");
            (f[0].to_string(), f[1].to_string(), f[5].to_string())
        })
        .collect();
    let want = [
        ("drwxr-xr-x", "0/0", "etc/"),
        ("-rw-r--r--", "0/0", "etc/group"),
        ("-rw-r--r--", "0/0", "etc/passwd"),
        ("drwxr-xr-x", "0/0", "etc/ssl/"),
        ("drwxr-xr-x", "0/0", "etc/ssl/certs/"),
        ("-rw-r--r--", "0/0", "etc/ssl/certs/ca-certificates.crt"),
        ("drwxr-xr-x", "0/0", "home/"),
        ("drwxr-xr-x", "65532/65532", "home/nonroot/"),
        ("drwxr-xr-x", "0/0", "usr/"),
        ("drwxr-xr-x", "0/0", "usr/local/"),
        ("drwxr-xr-x", "0/0", "usr/local/bin/"),
        ("-rwxr-xr-x", "0/0", "usr/local/bin/palisade"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(rows, want, "{listing}");
    let o = Command::new("tar")
        .args(["-xzOf"])
        .arg(&layer)
        .arg("etc/passwd")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
    );
    // The config's diff_id is the uncompressed layer's digest.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -dc {} | sha256sum", layer.display()))
        .output()
        .unwrap();
    let sum = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        json!(format!("sha256:{}", &sum[..64]))
    );
}

fn palisade(dir: &Path, args: &[&str]) -> common::Out {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("PALISADE_PASSWORD", "release-secret")
        .current_dir(dir)
        .output()
        .unwrap();
    common::Out::lossy(out)
}

#[test]
fn pushed_signed_and_attested_the_install_passes_verify_images() {
    let i = inputs();
    let d = i.dir.path();
    let out = d.join("img");
    let digest = pack(&i.binary, &i.ca, &out, "1700000000");
    let reg = registry_server::TestRegistry::plain();
    reg.push_layout(&out, "0.1.0", "palisade/palisade:0.1.0", None);
    let image = format!("{}/palisade/palisade:0.1.0@{digest}", reg.host);
    // skopeo kept the blobs: the registry serves the layout's digest.
    let o = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
        .arg(format!("docker://{}/palisade/palisade:0.1.0", reg.host))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        digest,
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let sbom = common::oci::sbom("1700000000");
    let bom: Value = serde_json::from_slice(&sbom).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert!(bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "serde_json"));
    std::fs::write(d.join("sbom.json"), &sbom).unwrap();
    let insecure = ["--insecure-registry", reg.host.as_str()];
    for n in ["release", "sbom"] {
        let o = palisade(d, &["image", "keygen", "--output-key-prefix", n]);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    let sign = palisade(
        d,
        &[
            &["image", "sign", &image, "--key", "release.key", "--legacy"][..],
            &insecure,
        ]
        .concat(),
    );
    assert_eq!(sign.code, 0, "{}", sign.stderr);
    let policy = format!(
        "images:\n- name: palisade\n  match: [\"{host}/palisade/*\"]\n  require: all\n  attestors:\n  \
         - name: release\n    key: release.pub\n  - name: sbom\n    key: sbom.pub\n    attestation:\n      \
         predicateType: https://cyclonedx.org/bom\nregistries:\n  \"{host}\": {{insecure: true}}\n",
        host = reg.host
    );
    common::write(d, "palisade.yaml", &policy);
    let manifests = palisade(d, &["install", "--print", "--image", &image]);
    assert_eq!(manifests.code, 0, "{}", manifests.stderr);
    common::write(d, "install.json", &manifests.stdout);
    // Signed but not attested: the missing SBOM is found.
    let scan = palisade(
        d,
        &[
            "scan",
            "install.json",
            "--verify-images",
            "--format",
            "json",
        ],
    );
    assert_eq!(scan.code, 1, "{}{}", scan.stdout, scan.stderr);
    assert!(
        scan.stdout.contains("image-attestation-missing"),
        "{}",
        scan.stdout
    );
    let attest = palisade(
        d,
        &[
            &[
                "image",
                "attest",
                &image,
                "--key",
                "sbom.key",
                "--legacy",
                "--predicate",
                "sbom.json",
                "--type",
                "https://cyclonedx.org/bom",
            ][..],
            &insecure,
        ]
        .concat(),
    );
    assert_eq!(attest.code, 0, "{}", attest.stderr);
    let scan = palisade(
        d,
        &[
            "scan",
            "install.json",
            "--verify-images",
            "--format",
            "json",
        ],
    );
    let doc = scan.json();
    assert_eq!(
        (scan.code, &doc["findings"]),
        (0, &json!([])),
        "{}{}",
        scan.stdout,
        scan.stderr
    );
    let verify = palisade(d, &["image", "verify", &image, "--format", "json"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
}
