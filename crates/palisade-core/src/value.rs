//! Field lookup in JSON objects tuned for Kubernetes objects, whose mappings
//! are small: up to [`SCAN_MAX`] keys are compared in order (a length check
//! and a short `memcmp` per key), which is several times cheaper than
//! hashing the key with the map's SipHash; larger mappings use the hash.

use serde_json::{Map, Value};

/// The largest mapping searched by comparing keys in order.
pub const SCAN_MAX: usize = 12;

/// `key` in `map`.
#[inline]
pub fn lookup<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if map.len() <= SCAN_MAX {
        map.iter().find_map(|(k, v)| (k == key).then_some(v))
    } else {
        map.get(key)
    }
}

/// [`lookup`] as a method of values and mappings: `v.field("spec")`.
pub trait Field {
    /// The field `key` when this is a mapping that has it.
    fn field(&self, key: &str) -> Option<&Value>;
}

impl Field for Value {
    #[inline]
    fn field(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => lookup(m, key),
            _ => None,
        }
    }
}

impl Field for Map<String, Value> {
    #[inline]
    fn field(&self, key: &str) -> Option<&Value> {
        lookup(self, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_what_get_finds_in_small_and_large_mappings() {
        let small = json!({"a": 1, "bb": 2, "b": 3});
        let large: Map<String, Value> = (0..40).map(|i| (format!("k{i}"), json!(i))).collect();
        let large = Value::Object(large);
        for (v, keys) in [
            (&small, vec!["a", "b", "bb", "c", ""]),
            (&large, vec!["k0", "k39", "k4", "k40", "k"]),
        ] {
            for k in keys {
                assert_eq!(v.field(k), v.get(k), "{k}");
            }
        }
        assert_eq!(json!([1, 2]).field("a"), None);
        assert_eq!(json!("a").field("a"), None);
    }
}
