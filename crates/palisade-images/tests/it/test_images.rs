//! Test images from real Debian content, packed as OCI layouts by
//! palisade-images' own writer: busybox from `busybox-static` with its
//! applet links, a distroless-like image (a static binary, a non-root
//! user, CA certificates from `ca-certificates`), a Debian minbase rootfs
//! rebuilt from the file list debootstrap produced (testdata/images), and
//! an image whose later layer deletes busybox's shell with whiteouts.
// Each test binary that includes this file uses a part of it.
#![allow(dead_code)]

use palisade_images::oci_layout::{Data, Layer, LayerSpec, OciLayout};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Busybox of Debian's busybox-static.
pub const BUSYBOX: &str = "/bin/busybox";
/// A static binary of every Debian system (glibc's `ldconfig`, static-pie).
pub const STATIC_BINARY: &str = "/sbin/ldconfig";
/// Debian's CA bundle (package ca-certificates).
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// A recent creation date.
pub const CREATED: &str = "2026-11-30T12:00:00Z";

/// The repository's testdata/.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Busybox and its applet links (`busybox --list-full`), as symbolic links
/// to /bin/busybox.
pub fn busybox_layer() -> LayerSpec {
    let out = Command::new(BUSYBOX)
        .arg("--list-full")
        .output()
        .expect("busybox (Debian busybox-static; .ci/run installs it)");
    assert!(out.status.success());
    let mut spec = LayerSpec::new();
    for d in ["/bin", "/sbin", "/usr", "/usr/bin", "/usr/sbin", "/tmp"] {
        spec.dir(d, 0o755);
    }
    spec.file("/bin/busybox", 0o755, Data::File(BUSYBOX.into()));
    for applet in String::from_utf8_lossy(&out.stdout).lines() {
        let path = format!("/{}", applet.trim());
        if path != "/bin/busybox" && !applet.trim().is_empty() {
            spec.symlink(&path, "/bin/busybox");
        }
    }
    spec
}

/// A busybox image (user root).
pub fn busybox(layout: &OciLayout, tag: &str) -> Vec<Layer> {
    let layers = vec![layout.layer(&busybox_layer(), true).unwrap()];
    layout
        .image(&layers, json!({"Cmd": ["sh"]}), Some(CREATED), tag)
        .unwrap();
    layers
}

/// A distroless-like image: a static binary, passwd/group with
/// `nonroot` (65532), CA certificates, user 65532, the dpkg `status.d`
/// metadata distroless ships for scanners (no dpkg).
pub fn distroless(layout: &OciLayout, tag: &str, created: Option<&str>) {
    distroless_as(layout, tag, created, "65532");
}

/// [`distroless`] with the config's `User` set to `user` (`""`: root).
pub fn distroless_as(layout: &OciLayout, tag: &str, created: Option<&str>, user: &str) {
    let mut spec = LayerSpec::new();
    for d in [
        "/etc",
        "/etc/ssl",
        "/etc/ssl/certs",
        "/home",
        "/home/nonroot",
        "/tmp",
        "/var",
        "/var/lib",
        "/var/lib/dpkg",
        "/var/lib/dpkg/status.d",
    ] {
        spec.dir(d, 0o755);
    }
    spec.file("/app", 0o755, Data::File(STATIC_BINARY.into()))
        .file("/etc/passwd", 0o644, Data::Bytes(b"root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n".to_vec()))
        .file("/etc/group", 0o644, Data::Bytes(b"root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n".to_vec()))
        .file(CA_BUNDLE, 0o644, Data::File(CA_BUNDLE.into()))
        .file("/etc/os-release", 0o644, Data::Bytes(b"PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\n".to_vec()))
        .file("/var/lib/dpkg/status.d/ca-certificates", 0o644, Data::Bytes(b"Package: ca-certificates\nVersion: 20230311\nArchitecture: all\n".to_vec()));
    let layers = vec![layout.layer(&spec, true).unwrap()];
    layout
        .image(
            &layers,
            json!({"User": user, "Entrypoint": ["/app"]}),
            created,
            tag,
        )
        .unwrap();
}

/// The Debian bookworm minbase rootfs, rebuilt from the file list
/// debootstrap produced (testdata/images/SOURCES.md): every directory,
/// symbolic link and file with its mode and size; file bytes are zeros
/// except os-release and passwd, kept as they were.
pub fn debian_layer() -> LayerSpec {
    let dir = testdata().join("images");
    let list = std::fs::read_to_string(dir.join("debian-bookworm-minbase.files")).unwrap();
    let mut spec = LayerSpec::new();
    for line in list.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (kind, mode, size, path) = (
            f[0],
            u32::from_str_radix(f[1], 8).unwrap(),
            f[2].parse::<u64>().unwrap(),
            f[3],
        );
        match kind {
            "d" => {
                spec.dir(path, mode);
            }
            "l" => {
                spec.symlink(path, f[4]);
            }
            "f" => {
                let data = match path {
                    "/usr/lib/os-release" => {
                        Data::File(dir.join("debian-bookworm-minbase.os-release"))
                    }
                    "/etc/passwd" => Data::File(dir.join("debian-bookworm-minbase.passwd")),
                    _ => Data::Zeros(size),
                };
                spec.file(path, mode, data);
            }
            _ => {} // device nodes: not in images
        }
    }
    spec
}

/// The Debian minbase image.
pub fn debian(layout: &OciLayout, tag: &str, gzip: bool) {
    let layers = vec![layout.layer(&debian_layer(), gzip).unwrap()];
    layout
        .image(&layers, json!({"Cmd": ["bash"]}), Some(CREATED), tag)
        .unwrap();
}

/// Busybox, then a layer that empties every bin directory (opaque
/// whiteouts) and adds a static binary: no shell remains.
pub fn busybox_whited_out(layout: &OciLayout, tag: &str) {
    let mut top = LayerSpec::new();
    for d in ["/bin", "/sbin", "/usr/bin", "/usr/sbin"] {
        top.dir(d, 0o755).opaque(d);
    }
    top.file("/bin/app", 0o755, Data::File(STATIC_BINARY.into()));
    let layers = vec![
        layout.layer(&busybox_layer(), true).unwrap(),
        layout.layer(&top, true).unwrap(),
    ];
    layout
        .image(&layers, json!({"User": "65532"}), Some(CREATED), tag)
        .unwrap();
}

/// Busybox, then a layer deleting only `/bin/sh` and `/usr/bin/wget`
/// (`.wh.` files): busybox itself remains.
pub fn busybox_sh_deleted(layout: &OciLayout, tag: &str) {
    let mut top = LayerSpec::new();
    top.whiteout("/bin/sh").whiteout("/usr/bin/wget");
    let layers = vec![
        layout.layer(&busybox_layer(), true).unwrap(),
        layout.layer(&top, false).unwrap(),
    ];
    layout.image(&layers, json!({}), None, tag).unwrap();
}

/// A fresh layout in `dir`.
pub fn layout(dir: &Path) -> OciLayout {
    OciLayout::create(dir).unwrap()
}
