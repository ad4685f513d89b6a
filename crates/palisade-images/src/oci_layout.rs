//! A small, reproducible OCI image layout writer: layers are tar streams
//! with sorted entries, a fixed mtime and owner 0:0, gzip-compressed or
//! plain; config, manifest and `index.json` written by digest. Used to
//! build test images from real content and by packaging.

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// OCI media types.
pub mod media {
    /// Image manifest.
    pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// Image config.
    pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Gzip-compressed tar layer.
    pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// Uncompressed tar layer.
    pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
    /// zstd-compressed tar layer.
    pub const LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
}

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
}

impl Descriptor {
    /// The descriptor as OCI JSON.
    pub fn to_json(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

/// A written layer: its blob and its `diff_id` (digest of the tar).
#[derive(Debug, Clone)]
pub struct Layer {
    /// The blob.
    pub blob: Descriptor,
    /// Digest of the uncompressed tar.
    pub diff_id: String,
}

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
pub enum Data {
    /// These bytes.
    Bytes(Vec<u8>),
    /// A file on disk (read when the layer is written).
    File(PathBuf),
    /// This many zero bytes.
    Zeros(u64),
}

#[derive(Debug, Clone)]
enum Kind {
    Dir,
    File(Data),
    Symlink(String),
    Hardlink(String),
}

/// The entries of one layer; written sorted by path.
#[derive(Debug, Default, Clone)]
pub struct LayerSpec {
    entries: Vec<(String, u32, Kind)>,
}

impl LayerSpec {
    /// An empty layer.
    pub fn new() -> Self {
        Self::default()
    }
    /// A directory.
    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        self.push(path, mode, Kind::Dir)
    }
    /// A regular file.
    pub fn file(&mut self, path: &str, mode: u32, data: Data) -> &mut Self {
        self.push(path, mode, Kind::File(data))
    }
    /// A symbolic link.
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.push(path, 0o777, Kind::Symlink(target.into()))
    }
    /// A hard link to `target` (a path of this layer).
    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.push(
            path,
            0o755,
            Kind::Hardlink(target.trim_start_matches('/').into()),
        )
    }
    /// A whiteout deleting `path` of the layers below.
    pub fn whiteout(&mut self, path: &str) -> &mut Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        self.file(&format!("{dir}/.wh.{name}"), 0o644, Data::Bytes(Vec::new()))
    }
    /// An opaque-directory marker: `dir`'s content below is hidden.
    pub fn opaque(&mut self, dir: &str) -> &mut Self {
        self.file(
            &format!("{dir}/.wh..wh..opq"),
            0o644,
            Data::Bytes(Vec::new()),
        )
    }

    /// Every entry of the directory `root` (not following links), as `prefix/...`.
    pub fn tree(&mut self, root: &Path, prefix: &str) -> io::Result<&mut Self> {
        let mut stack = vec![(root.to_path_buf(), prefix.trim_end_matches('/').to_string())];
        while let Some((dir, at)) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let path = format!("{at}/{name}");
                let meta = std::fs::symlink_metadata(entry.path())?;
                let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
                let ft = meta.file_type();
                if ft.is_symlink() {
                    let t = std::fs::read_link(entry.path())?;
                    self.symlink(&path, &t.to_string_lossy());
                } else if ft.is_dir() {
                    self.dir(&path, mode);
                    stack.push((entry.path(), path));
                } else if ft.is_file() {
                    self.file(&path, mode, Data::File(entry.path()));
                }
            }
        }
        Ok(self)
    }

    fn push(&mut self, path: &str, mode: u32, kind: Kind) -> &mut Self {
        self.entries
            .push((path.trim_start_matches('/').to_string(), mode, kind));
        self
    }
}

/// Hashes and counts what goes through.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hex_digest(h: Sha256) -> String {
    crate::inspect::layers::digest_string(h.finalize().as_slice())
}

/// An OCI layout directory being written.
pub struct OciLayout {
    dir: PathBuf,
    /// The mtime of every entry (seconds since the epoch).
    pub mtime: u64,
}

impl OciLayout {
    /// Creates (or opens) the layout at `dir`.
    pub fn create(dir: &Path) -> io::Result<OciLayout> {
        std::fs::create_dir_all(dir.join("blobs/sha256"))?;
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        if !dir.join("index.json").exists() {
            std::fs::write(
                dir.join("index.json"),
                br#"{"schemaVersion":2,"manifests":[]}"#,
            )?;
        }
        Ok(OciLayout {
            dir: dir.to_path_buf(),
            mtime: 0,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores `data` as a blob.
    pub fn blob(&self, data: &[u8], media_type: &str) -> io::Result<Descriptor> {
        let digest = crate::registry::sha256_digest(data);
        std::fs::write(self.blob_path(&digest), data)?;
        Ok(Descriptor {
            media_type: media_type.into(),
            digest,
            size: data.len() as u64,
        })
    }

    fn blob_path(&self, digest: &str) -> PathBuf {
        self.dir
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    }

    /// Writes a layer (entries sorted by path), gzip-compressed or plain.
    pub fn layer(&self, spec: &LayerSpec, gzip: bool) -> io::Result<Layer> {
        let tmp = self.dir.join("blobs/sha256/.layer.tmp");
        let file = Hashing {
            inner: io::BufWriter::new(std::fs::File::create(&tmp)?),
            hasher: Sha256::new(),
            count: 0,
        };
        let (blob, diff_id) = if gzip {
            let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
            let tar = self.write_tar(spec, gz)?;
            let file = tar.inner.finish()?;
            (file, hex_digest(tar.hasher))
        } else {
            let tar = self.write_tar(spec, file)?;
            (tar.inner, hex_digest(tar.hasher))
        };
        let (count, digest) = (blob.count, hex_digest(blob.hasher));
        blob.inner
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        std::fs::rename(&tmp, self.blob_path(&digest))?;
        let media_type = if gzip {
            media::LAYER_GZIP
        } else {
            media::LAYER_TAR
        };
        Ok(Layer {
            blob: Descriptor {
                media_type: media_type.into(),
                digest,
                size: count,
            },
            diff_id,
        })
    }

    fn write_tar<W: Write>(&self, spec: &LayerSpec, out: W) -> io::Result<Hashing<W>> {
        let mut entries: Vec<&(String, u32, Kind)> = spec.entries.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut b = tar::Builder::new(Hashing {
            inner: out,
            hasher: Sha256::new(),
            count: 0,
        });
        for (path, mode, kind) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(*mode);
            h.set_mtime(self.mtime);
            h.set_uid(0);
            h.set_gid(0);
            match kind {
                Kind::Dir => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    b.append_data(&mut h, format!("{path}/"), io::empty())?;
                }
                Kind::Symlink(t) | Kind::Hardlink(t) => {
                    h.set_entry_type(if matches!(kind, Kind::Symlink(_)) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    });
                    h.set_size(0);
                    b.append_link(&mut h, path, t)?;
                }
                Kind::File(data) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    match data {
                        Data::Bytes(v) => {
                            h.set_size(v.len() as u64);
                            b.append_data(&mut h, path, v.as_slice())?;
                        }
                        Data::Zeros(n) => {
                            h.set_size(*n);
                            b.append_data(&mut h, path, io::repeat(0).take(*n))?;
                        }
                        Data::File(p) => {
                            let f = std::fs::File::open(p)?;
                            h.set_size(f.metadata()?.len());
                            b.append_data(&mut h, path, io::BufReader::new(f))?;
                        }
                    }
                }
            }
        }
        b.into_inner()
    }

    /// Writes a config (`config` fields such as `User`; `created` when
    /// given), the manifest and an `index.json` entry tagged `tag`.
    pub fn image(
        &self,
        layers: &[Layer],
        config: Value,
        created: Option<&str>,
        tag: &str,
    ) -> io::Result<Descriptor> {
        let mut doc = json!({"architecture": "amd64", "os": "linux"});
        if let Some(c) = created {
            doc["created"] = json!(c);
        }
        doc["config"] = config;
        doc["rootfs"] = json!({"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()});
        let config = self.blob(&serde_json::to_vec(&doc)?, media::CONFIG)?;
        let blobs: Vec<Descriptor> = layers.iter().map(|l| l.blob.clone()).collect();
        self.manifest(&config, &blobs, tag)
    }

    /// Writes a manifest of `config` and `layers` as given (tests may
    /// give descriptors that lie) and tags it in `index.json`.
    pub fn manifest(
        &self,
        config: &Descriptor,
        layers: &[Descriptor],
        tag: &str,
    ) -> io::Result<Descriptor> {
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media::MANIFEST,
            "config": config.to_json(),
            "layers": layers.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
        });
        let desc = self.blob(&serde_json::to_vec(&manifest)?, media::MANIFEST)?;
        let path = self.dir.join("index.json");
        let mut index: Value = serde_json::from_slice(&std::fs::read(&path)?)?;
        let mut entry = desc.to_json();
        entry["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        let list = index["manifests"]
            .as_array_mut()
            .ok_or_else(|| io::Error::other("index.json without manifests"))?;
        list.retain(|m| {
            m.pointer("/annotations/org.opencontainers.image.ref.name")
                .and_then(Value::as_str)
                != Some(tag)
        });
        list.push(entry);
        std::fs::write(&path, serde_json::to_vec(&index)?)?;
        Ok(desc)
    }
}
