//! Packing an image as `packaging/build-image.sh` does, for the tests that
//! build one: `packaging/oci_layout.py` (the layout) and
//! `packaging/sbom.py` (the CycloneDX SBOM beside it).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Packs `binary` with the CA bundle `ca` into the OCI layout `out`, every
/// time `epoch` (SOURCE_DATE_EPOCH), as version 0.1.0; the manifest digest.
pub fn pack(binary: &Path, ca: &Path, out: &Path, epoch: &str) -> String {
    let o = Command::new("python3")
        .arg(root().join("packaging/oci_layout.py"))
        .arg("--binary")
        .arg(binary)
        .arg("--ca-certs")
        .arg(ca)
        .arg("--out")
        .arg(out)
        .args([
            "--version",
            "0.1.0",
            "--revision",
            "0123abc",
            "--licenses",
            "Apache-2.0",
        ])
        .args(["--source", "https://github.com/palisade-k8s/palisade"])
        .env("SOURCE_DATE_EPOCH", epoch)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// The CycloneDX SBOM of the workspace's Cargo.lock (version 0.1.0), as
/// build-image.sh writes it to `OUTDIR.sbom.cdx.json`.
pub fn sbom(epoch: &str) -> Vec<u8> {
    let o = Command::new("python3")
        .arg(root().join("packaging/sbom.py"))
        .args([
            "--lock",
            root().join("Cargo.lock").to_str().unwrap(),
            "--version",
            "0.1.0",
        ])
        .env("SOURCE_DATE_EPOCH", epoch)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}
