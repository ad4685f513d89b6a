//! The keys of a mapping being read: duplicates are found by comparing
//! keys, through a hash index once a mapping is large.

use serde_json::Value;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Mappings with more keys than this find duplicates through a hash index.
pub(super) const LINEAR_KEYS: usize = 24;

/// Key hash to entry, for a large mapping.
pub(super) type KeyIndex = HashMap<u64, usize, BuildHasherDefault<IdHasher>>;

/// A mapping entry being read (`value` is `None` while pending, or for ever
/// when the value is not built).
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) line: u32,
    pub(super) value: Option<Value>,
}

/// The line of `key` among `entries`, if it is there.
pub(super) fn find_key(entries: &[Entry], index: Option<&KeyIndex>, key: &str) -> Option<u32> {
    if let Some(index) = index {
        let i = *index.get(&key_hash(key))?;
        if let Some(e) = entries.get(i).filter(|e| e.key == key) {
            return Some(e.line);
        }
        // two keys with one hash: look at every entry
    }
    entries.iter().find(|e| e.key == key).map(|e| e.line)
}

/// A fast hash of a key (FxHash over 8-byte words).
pub(super) fn key_hash(key: &str) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h = key.len() as u64;
    for chunk in key.as_bytes().chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    h
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
