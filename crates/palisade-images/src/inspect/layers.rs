//! One layer, read as a stream: the compressed bytes are counted and
//! hashed against the descriptor, decompressed (gzip, zstd or none, told
//! apart by their magic bytes), counted against the image's cap, and read
//! as tar entries one at a time. Only metadata is kept (see [`Tree`]).
//!
//! [`Tree`]: super::tree::Tree

use super::path::{base, entry_path, join, parent};
use super::tree::{LayerChanges, Node};
use super::InspectError;
use sha2::{Digest as _, Sha256};
use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};

/// Files whose content the report reads (kept when at most 1 MiB).
const KEPT: &[&str] = &["/etc/os-release", "/usr/lib/os-release", "/etc/passwd"];
const KEPT_MAX: u64 = 1 << 20;

/// A layer's descriptor: digest and claimed size.
#[derive(Debug, Clone)]
pub struct LayerDesc {
    /// `sha256:<hex>`.
    pub digest: String,
    /// The size the manifest claims.
    pub size: u64,
    /// Whether `digest` is a digest to check (a docker archive's
    /// `ID/layer.tar` names carry none).
    pub verify: bool,
}

/// Why reading stopped (the tar reader wraps I/O errors in its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Longer,
    Cap,
}

/// Counts and hashes the raw (compressed) bytes.
struct Raw<'a, R> {
    inner: R,
    hasher: Sha256,
    count: u64,
    claimed: u64,
    stop: &'a Cell<Option<Stop>>,
}

impl<R: Read> Read for Raw<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if self.count > self.claimed {
            self.stop.set(Some(Stop::Longer));
            return Err(io::Error::other("longer than its descriptor says"));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Counts decompressed bytes against what is left of the image's cap.
struct Capped<'a, R> {
    inner: R,
    left: &'a mut u64,
    stop: &'a Cell<Option<Stop>>,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > *self.left {
            self.stop.set(Some(Stop::Cap));
            return Err(io::Error::other("decompressed-bytes cap reached"));
        }
        *self.left -= n as u64;
        Ok(n)
    }
}

/// zstd frames one after another (skippable frames skipped).
struct Zstd<'a, B: BufRead> {
    src: Option<&'a mut B>,
    dec: Option<ruzstd::decoding::StreamingDecoder<&'a mut B, ruzstd::decoding::FrameDecoder>>,
}

impl<'a, B: BufRead> Zstd<'a, B> {
    /// Starts the next frame; `false` at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        let Some(src) = self.src.take() else {
            return Ok(false);
        };
        loop {
            let head = src.fill_buf()?;
            if head.is_empty() {
                return Ok(false);
            }
            if head.len() >= 4 && (head[0] & 0xf0) == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18] {
                let mut h = [0u8; 8];
                src.read_exact(&mut h)?;
                let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
                io::copy(&mut src.take(u64::from(len)), &mut io::sink())?;
                continue;
            }
            let dec = ruzstd::decoding::StreamingDecoder::new(src)
                .map_err(|e| io::Error::other(format!("zstd: {e}")))?;
            self.dec = Some(dec);
            return Ok(true);
        }
    }
}

impl<B: BufRead> Read for Zstd<'_, B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(dec) = self.dec.as_mut() {
                let n = dec.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                let dec = self.dec.take().map(|d| d.into_inner());
                self.src = dec;
            }
            if !self.next_frame()? {
                return Ok(0);
            }
        }
    }
}

/// Reads one layer: its changes to the tree. `left` is what remains of the
/// image's decompressed-bytes cap (`cap` for the message); `room` is how
/// many entries may still be added.
pub fn read_layer<R: Read>(
    raw: R,
    desc: &LayerDesc,
    left: &mut u64,
    cap: u64,
    room: usize,
) -> Result<LayerChanges, InspectError> {
    let stop = Cell::new(None);
    let mut raw = BufReader::with_capacity(
        64 << 10,
        Raw {
            inner: raw,
            hasher: Sha256::new(),
            count: 0,
            claimed: desc.size,
            stop: &stop,
        },
    );
    let layer_err = |message: String| InspectError::Layer {
        digest: desc.digest.clone(),
        message,
    };
    let result = {
        let head = raw.fill_buf().map(<[u8]>::to_vec);
        match head {
            Err(e) => Err(Failure::Io(format!("cannot read: {e}"))),
            Ok(head) if head.starts_with(&[0x1f, 0x8b]) => {
                let gz = flate2::bufread::MultiGzDecoder::new(&mut raw);
                entries(gz, left, &stop, room)
            }
            Ok(head) if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) => {
                let z = Zstd {
                    src: Some(&mut raw),
                    dec: None,
                };
                entries(z, left, &stop, room)
            }
            Ok(_) => entries(&mut raw, left, &stop, room),
        }
    };
    let changes = match (result, stop.get()) {
        (_, Some(Stop::Cap)) => {
            return Err(InspectError::TooLarge {
                digest: desc.digest.clone(),
                cap,
            })
        }
        (_, Some(Stop::Longer)) => {
            return Err(InspectError::SizeMismatch {
                digest: desc.digest.clone(),
                claimed: desc.size,
                actual: "the blob is longer".into(),
            })
        }
        (Err(Failure::Io(e)), None) => return Err(layer_err(e)),
        (Err(Failure::Entries(n)), None) => return Err(InspectError::TooManyEntries(n)),
        (Ok(c), None) => c,
    };
    let raw = raw.into_inner();
    if raw.count != desc.size {
        return Err(InspectError::SizeMismatch {
            digest: desc.digest.clone(),
            claimed: desc.size,
            actual: format!("the blob has {} bytes", raw.count),
        });
    }
    let digest = digest_string(raw.hasher.finalize().as_slice());
    if desc.verify && digest != desc.digest {
        return Err(InspectError::DigestMismatch(desc.digest.clone()));
    }
    Ok(changes)
}

enum Failure {
    Io(String),
    Entries(usize),
}

/// The tar entries of the decompressed stream, then the rest of the stream
/// (drained so that the blob's digest and size can be checked).
fn entries<R: Read>(
    decompressed: R,
    left: &mut u64,
    stop: &Cell<Option<Stop>>,
    room: usize,
) -> Result<LayerChanges, Failure> {
    let capped = Capped {
        inner: decompressed,
        left,
        stop,
    };
    let mut archive = tar::Archive::new(capped);
    let mut changes = LayerChanges::default();
    let not_tar = |e: io::Error| Failure::Io(format!("not a tar archive: {e}"));
    for entry in archive.entries().map_err(not_tar)? {
        let mut entry = entry.map_err(not_tar)?;
        entry_change(&mut entry, &mut changes).map_err(Failure::Io)?;
        if changes.added.len() > room {
            return Err(Failure::Entries(room));
        }
    }
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink())
        .map_err(|e| Failure::Io(format!("after the tar archive: {e}")))?;
    Ok(changes)
}

/// Records one tar entry in `changes`.
fn entry_change<R: Read>(
    entry: &mut tar::Entry<R>,
    changes: &mut LayerChanges,
) -> Result<(), String> {
    let path = entry_path(&entry.path_bytes())?;
    if path == "/" {
        return Ok(());
    }
    let name = base(&path);
    if let Some(hidden) = name.strip_prefix(".wh.") {
        let dir = parent(&path).to_string();
        if hidden == ".wh..opq" {
            changes.opaques.push(dir);
        } else if !hidden.is_empty() {
            let mut parts: Vec<&str> = super::path::components(&dir).collect();
            parts.push(hidden);
            changes.whiteouts.push(join(&parts));
        }
        return Ok(());
    }
    let header = entry.header();
    let mode = header
        .mode()
        .map_err(|e| format!("{path}: bad mode: {e}"))?
        & 0o7777;
    let link = || {
        entry
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .ok_or_else(|| format!("{path}: link without a target"))
    };
    use tar::EntryType as T;
    let node = match header.entry_type() {
        T::Directory => Node::Dir { mode },
        T::Symlink => Node::Symlink(link()?),
        T::Link => {
            let target =
                entry_path(link()?.as_bytes()).map_err(|e| format!("{path}: hard link: {e}"))?;
            Node::Hardlink(target)
        }
        T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => return Ok(()),
        _ => {
            let size = entry.size();
            let content = if KEPT.contains(&path.as_str()) && size <= KEPT_MAX {
                let mut buf = Vec::with_capacity(size as usize);
                entry
                    .read_to_end(&mut buf)
                    .map_err(|e| format!("{path}: {e}"))?;
                Some(buf)
            } else {
                None
            };
            Node::File {
                size,
                mode,
                content,
            }
        }
    };
    changes.added.push((path, node));
    Ok(())
}

/// `sha256:<hex>` of a finished SHA-256.
pub fn digest_string(sum: &[u8]) -> String {
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in sum {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
