//! Hostile image content: each gives an inspection error naming the
//! reason, never a panic, and a decompression bomb stops at the cap.

use crate::test_images as ti;
use palisade_images::inspect::{inspect, ImageSource, InspectError, InspectOptions};
use palisade_images::oci_layout::{media, Descriptor, OciLayout};
use palisade_images::{Registry, RegistryOptions};
use std::io::Write;

fn run(
    dir: &std::path::Path,
    opts: &InspectOptions,
) -> Result<palisade_images::inspect::ImageContent, InspectError> {
    let src = ImageSource::parse(&format!("oci:{}:t", dir.display())).unwrap();
    let reg = Registry::new(RegistryOptions::default());
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(inspect(&src, "t", &reg, opts, None))
}

/// An image of one layer blob with `bytes` (its descriptor as given by `fix`).
fn image_of(bytes: &[u8], fix: impl FnOnce(&mut Descriptor)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let l = OciLayout::create(dir.path()).unwrap();
    let mut layer = l.blob(bytes, media::LAYER_TAR).unwrap();
    fix(&mut layer);
    let config = l
        .blob(br#"{"config":{"User":"1000"}}"#, media::CONFIG)
        .unwrap();
    l.manifest(&config, &[layer], "t").unwrap();
    dir
}

/// A tar entry with a raw name (the tar crate refuses `..` when building).
fn raw_entry(name: &str, kind: tar::EntryType, link: &str) -> Vec<u8> {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    h.set_mode(0o755);
    h.set_size(0);
    h.set_entry_type(kind);
    h.set_cksum();
    h.as_bytes().to_vec()
}

fn tar_end(mut v: Vec<u8>) -> Vec<u8> {
    v.extend_from_slice(&[0u8; 1024]);
    v
}

#[test]
fn a_layer_that_is_not_a_tar() {
    let dir = image_of(&b"this is not a tar archive\n".repeat(40), |_| {});
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(matches!(e, InspectError::Layer { .. }), "{e:?}");
    assert!(e.to_string().contains("not a tar archive"), "{e}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&[7u8; 5000]).unwrap();
    let dir = image_of(&gz.finish().unwrap(), |_| {});
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not a tar archive"), "{e}");
    let mut broken = vec![0x1f, 0x8b, 8, 0];
    broken.extend_from_slice(&[0xff; 300]);
    let dir = image_of(&broken, |_| {});
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(
        matches!(e, InspectError::Layer { .. }),
        "corrupt gzip: {e:?}"
    );
}

#[test]
fn a_path_climbing_out_of_the_root() {
    let dir = image_of(
        &tar_end(raw_entry("../../etc/cron.d/x", tar::EntryType::Regular, "")),
        |_| {},
    );
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("climbs out of the image root"),
        "{e}"
    );
    let dir = image_of(
        &tar_end(raw_entry(
            "bin/x",
            tar::EntryType::Link,
            "../../../usr/bin/su",
        )),
        |_| {},
    );
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(e.to_string().contains("hard link"), "{e}");
}

#[test]
fn absolute_and_climbing_symlinks_resolve_inside_the_image() {
    let mut t = raw_entry("bin/", tar::EntryType::Directory, "");
    t.extend(raw_entry(
        "bin/sh",
        tar::EntryType::Symlink,
        "/../../../bin/dash",
    ));
    t.extend(raw_entry("bin/dash", tar::EntryType::Regular, ""));
    // Points at a host file the image does not hold: dangling, not followed.
    t.extend(raw_entry(
        "bin/bash",
        tar::EntryType::Symlink,
        "/etc/shadow",
    ));
    let dir = image_of(&tar_end(t), |_| {});
    let c = run(dir.path(), &InspectOptions::default()).unwrap();
    assert_eq!(c.shells, ["/bin/dash", "/bin/sh"]);
}

#[test]
fn a_layer_longer_or_shorter_than_its_descriptor() {
    let data = tar_end(raw_entry("a", tar::EntryType::Regular, ""));
    let dir = image_of(&data, |d| d.size -= 100);
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(matches!(e, InspectError::SizeMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("the blob is longer"), "{e}");
    let dir = image_of(&data, |d| d.size += 100);
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("the blob has {} bytes", data.len())),
        "{e}"
    );
}

#[test]
fn content_that_does_not_match_its_digest() {
    let data = tar_end(raw_entry("a", tar::EntryType::Regular, ""));
    let dir = image_of(&data, |d| {
        d.digest = format!("sha256:{}", "0".repeat(64));
    });
    let blob = dir.path().join("blobs/sha256").join("0".repeat(64));
    std::fs::write(blob, &data).unwrap();
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(matches!(e, InspectError::DigestMismatch(_)), "{e:?}");
}

#[test]
fn a_manifest_pointing_at_a_missing_blob() {
    let dir = image_of(b"x", |d| d.digest = format!("sha256:{}", "e".repeat(64)));
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("blob sha256:{} is missing", "e".repeat(64))
    );
}

#[test]
fn an_index_over_the_manifest_cap() {
    let dir = tempfile::tempdir().unwrap();
    OciLayout::create(dir.path()).unwrap();
    let big = format!(
        "{{\"schemaVersion\":2,\"manifests\":[],\"pad\":\"{}\"}}",
        "x".repeat(5 << 20)
    );
    std::fs::write(dir.path().join("index.json"), big).unwrap();
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("larger than the 4194304-byte cap"),
        "{e}"
    );
}

/// 10 GiB of zeros in one tar entry, gzip-compressed to about 10 MB: the
/// same 64 MiB member repeated (gzip members concatenate), written as a
/// stream, never held whole.
#[test]
fn a_ten_gib_decompression_bomb_stops_at_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let l = OciLayout::create(dir.path()).unwrap();
    let total: u64 = 10 << 30;
    let chunk: u64 = 64 << 20;
    let mut h = tar::Header::new_gnu();
    h.set_path("bomb").unwrap();
    h.set_size(total);
    h.set_mode(0o644);
    h.set_cksum();
    let gz = |data: &mut dyn std::io::Read| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::copy(data, &mut e).unwrap();
        e.finish().unwrap()
    };
    let head = gz(&mut &h.as_bytes()[..]);
    let member = gz(&mut std::io::Read::take(std::io::repeat(0), chunk));
    let tmp = dir.path().join("bomb.gz");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut size = 0u64;
    let mut put = |b: &[u8]| {
        f.write_all(b).unwrap();
        sha2::Digest::update(&mut hasher, b);
        size += b.len() as u64;
    };
    put(&head);
    for _ in 0..total / chunk {
        put(&member);
    }
    put(&gz(&mut &[0u8; 1024][..]));
    f.flush().unwrap();
    drop(f);
    let digest =
        palisade_images::inspect::layers::digest_string(sha2::Digest::finalize(hasher).as_slice());
    assert!(size < 20 << 20, "the bomb compresses to {size} bytes");
    std::fs::rename(&tmp, dir.path().join("blobs/sha256").join(&digest[7..])).unwrap();
    let layer = Descriptor {
        media_type: media::LAYER_GZIP.into(),
        digest,
        size,
    };
    let config = l.blob(b"{}", media::CONFIG).unwrap();
    l.manifest(&config, &[layer], "t").unwrap();
    let e = run(dir.path(), &InspectOptions::default()).unwrap_err();
    assert!(
        matches!(e, InspectError::TooLarge { cap, .. } if cap == 2 << 30),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("more than 2147483648 bytes of decompressed data"),
        "{e}"
    );
    let small = InspectOptions {
        max_decompressed: 1 << 20,
        ..Default::default()
    };
    assert!(matches!(
        run(dir.path(), &small),
        Err(InspectError::TooLarge { cap: 1048576, .. })
    ));
    let _ = ti::CREATED;
}
