//! Image content inspection of images made from real Debian content,
//! read from OCI layouts and from a real registry (docker-registry on
//! 127.0.0.1, images pushed with skopeo).

use crate::registry_server::TestRegistry;
use crate::test_images as ti;
use palisade_images::inspect::{inspect, ImageContent, ImageSource, InspectCache, InspectOptions};
use palisade_images::{ImageRef, Registry, RegistryOptions};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn local(dir: &std::path::Path, tag: &str, cache: Option<&InspectCache>) -> ImageContent {
    let src = ImageSource::parse(&format!("oci:{}:{tag}", dir.display())).unwrap();
    let reg = Registry::new(RegistryOptions::default());
    rt().block_on(inspect(&src, tag, &reg, &InspectOptions::default(), cache))
        .unwrap_or_else(|e| panic!("{tag}: {e}"))
}

#[test]
fn busybox_is_a_shell_with_applets_and_tools() {
    let dir = tempfile::tempdir().unwrap();
    ti::busybox(&ti::layout(dir.path()), "busybox");
    let c = local(dir.path(), "busybox", None);
    assert!(!c.minimal);
    for p in ["/bin/busybox", "/bin/sh", "/bin/ash"] {
        assert!(c.shells.contains(&p.to_string()), "{p} in {:?}", c.shells);
    }
    assert!(
        c.tools.contains(&"/usr/bin/wget".to_string()),
        "{:?}",
        c.tools
    );
    assert!(
        c.tools.contains(&"/usr/bin/nc".to_string()),
        "{:?}",
        c.tools
    );
    assert!(
        c.package_managers.contains(&"/usr/bin/dpkg".to_string()),
        "busybox's dpkg applet"
    );
    assert!(c.runs_as_root);
    assert_eq!(c.user, "");
    assert_eq!(c.created.as_deref(), Some(ti::CREATED));
    let busybox_size = std::fs::metadata(ti::BUSYBOX).unwrap().len();
    assert_eq!(c.size_bytes, busybox_size);
}

#[test]
fn distroless_like_is_minimal_and_non_root() {
    let dir = tempfile::tempdir().unwrap();
    ti::distroless(&ti::layout(dir.path()), "app", Some(ti::CREATED));
    let c = local(dir.path(), "app", None);
    assert!(c.minimal, "{c:?}");
    assert!(c.shells.is_empty() && c.package_managers.is_empty() && c.tools.is_empty());
    assert!(!c.runs_as_root);
    assert_eq!(c.user, "65532");
    assert_eq!(c.os.as_deref(), Some("Distroless"));
}

#[test]
fn whiteouts_delete_the_shell_of_a_lower_layer() {
    let dir = tempfile::tempdir().unwrap();
    let l = ti::layout(dir.path());
    ti::busybox_whited_out(&l, "opaque");
    ti::busybox_sh_deleted(&l, "wh");
    let c = local(dir.path(), "opaque", None);
    assert!(c.minimal, "opaque directories hide busybox: {c:?}");
    assert!(!c.runs_as_root);
    let c = local(dir.path(), "wh", None);
    assert!(!c.shells.contains(&"/bin/sh".to_string()), "{:?}", c.shells);
    assert!(c.shells.contains(&"/bin/busybox".to_string()));
    assert!(!c.tools.contains(&"/usr/bin/wget".to_string()));
    assert!(c.created.is_none());
}

#[test]
fn debian_minbase_from_its_debootstrap_file_list() {
    let dir = tempfile::tempdir().unwrap();
    ti::debian(&ti::layout(dir.path()), "bookworm", false);
    let c = local(dir.path(), "bookworm", None);
    assert!(!c.minimal);
    for p in ["/usr/bin/bash", "/usr/bin/dash", "/usr/bin/sh"] {
        assert!(c.shells.contains(&p.to_string()), "{p} in {:?}", c.shells);
    }
    for p in [
        "/usr/bin/apt",
        "/usr/bin/apt-get",
        "/usr/bin/dpkg",
        "/var/lib/dpkg/status",
    ] {
        assert!(
            c.package_managers.contains(&p.to_string()),
            "{p} in {:?}",
            c.package_managers
        );
    }
    assert!(
        c.tools.is_empty(),
        "minbase has no curl/wget: {:?}",
        c.tools
    );
    assert!(c.setuid.contains(&"/usr/bin/su".to_string()));
    assert_eq!(c.setuid.len(), 11, "{:?}", c.setuid);
    assert_eq!(c.os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
    assert!(c.size_bytes > 150 << 20, "{}", c.size_bytes);
}

#[test]
fn zstd_layers_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let l = ti::layout(dir.path());
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = ti::layout(plain_dir.path());
    let layer = plain.layer(&ti::busybox_layer(), false).unwrap();
    let tar = std::fs::read(
        plain_dir
            .path()
            .join("blobs/sha256")
            .join(&layer.blob.digest[7..]),
    )
    .unwrap();
    let out = std::process::Command::new("zstd")
        .args(["-q", "-c", "-3"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&tar)?;
            c.wait_with_output()
        })
        .expect("zstd (Debian package zstd)");
    let mut blob = l
        .blob(&out.stdout, palisade_images::oci_layout::media::LAYER_ZSTD)
        .unwrap();
    blob.media_type = palisade_images::oci_layout::media::LAYER_ZSTD.into();
    let config = l
        .blob(
            br#"{"config":{}}"#,
            palisade_images::oci_layout::media::CONFIG,
        )
        .unwrap();
    l.manifest(&config, &[blob], "z").unwrap();
    let c = local(dir.path(), "z", None);
    assert!(c.shells.contains(&"/bin/sh".to_string()));
}

#[test]
fn results_are_cached_by_digest_in_memory_and_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    ti::busybox(&ti::layout(dir.path()), "b");
    let cache = InspectCache::with_dir(8, cache_dir.path().to_path_buf());
    let first = local(dir.path(), "b", Some(&cache));
    // The layers are gone: only the cache can answer now.
    for layer in std::fs::read_dir(dir.path().join("blobs/sha256")).unwrap() {
        let p = layer.unwrap().path();
        if std::fs::metadata(&p).unwrap().len() > 100_000 {
            std::fs::remove_file(p).unwrap();
        }
    }
    assert_eq!(local(dir.path(), "b", Some(&cache)), first);
    let from_disk = InspectCache::with_dir(8, cache_dir.path().to_path_buf());
    assert_eq!(local(dir.path(), "b", Some(&from_disk)), first);
    let err = rt()
        .block_on(inspect(
            &ImageSource::parse(&format!("oci:{}:b", dir.path().display())).unwrap(),
            "b",
            &Registry::new(RegistryOptions::default()),
            &InspectOptions::default(),
            None,
        ))
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn registry_images_and_docker_archives() {
    let reg = TestRegistry::plain();
    let dir = tempfile::tempdir().unwrap();
    let l = ti::layout(dir.path());
    ti::busybox(&l, "busybox");
    ti::distroless(&l, "app", Some(ti::CREATED));
    ti::debian(&l, "bookworm", true);
    ti::busybox_whited_out(&l, "opaque");
    let registry = Registry::new(RegistryOptions {
        insecure: vec![reg.host.clone()],
        ..Default::default()
    });
    let rt = rt();
    for (tag, minimal, root) in [
        ("busybox", false, true),
        ("app", true, false),
        ("bookworm", false, true),
        ("opaque", true, false),
    ] {
        reg.push_layout(dir.path(), tag, &format!("test/{tag}:1"), None);
        let name = format!("{}/test/{tag}:1", reg.host);
        let src = ImageSource::Registry(ImageRef::parse(&name).unwrap());
        let remote = rt
            .block_on(inspect(
                &src,
                &name,
                &registry,
                &InspectOptions::default(),
                None,
            ))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (remote.minimal, remote.runs_as_root),
            (minimal, root),
            "{name}"
        );
        assert!(remote.digest.starts_with("sha256:"));
        let mut from_layout = local(dir.path(), tag, None);
        from_layout.image = name.clone();
        assert_eq!(remote, from_layout, "registry and layout agree on {tag}");
    }
    // docker-archive: skopeo converts the layout into a `docker save` archive.
    let archive = dir.path().join("busybox.tar");
    let out = std::process::Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("oci:{}:busybox", dir.path().display()))
        .arg(format!(
            "docker-archive:{}:test/busybox:1",
            archive.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let src = ImageSource::parse(&format!("docker-archive:{}", archive.display())).unwrap();
    let c = rt
        .block_on(inspect(
            &src,
            "a",
            &registry,
            &InspectOptions::default(),
            None,
        ))
        .unwrap();
    assert!(c.shells.contains(&"/bin/sh".to_string()));
}
