//! A small TTL cache with a bound on its entries: verdicts by digest, and
//! tag-to-digest resolutions for a shorter time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries expire after `ttl`; past `max` entries the expired ones go, then
/// the oldest.
pub struct TtlCache<V> {
    map: Mutex<HashMap<String, (Instant, V)>>,
    ttl: Duration,
    max: usize,
}

impl<V: Clone> TtlCache<V> {
    /// An empty cache.
    pub fn new(ttl: Duration, max: usize) -> Self {
        TtlCache {
            map: Mutex::new(HashMap::new()),
            ttl,
            max: max.max(1),
        }
    }

    /// The live value for `key`.
    pub fn get(&self, key: &str) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// Stores `value` for `key`.
    pub fn put(&self, key: String, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.max && !map.contains_key(&key) {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= self.max {
                if let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
                {
                    map.remove(&oldest);
                }
            }
        }
        map.insert(key, (Instant::now(), value));
    }

    /// Number of entries (live or not).
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_expiring() {
        let c = TtlCache::new(Duration::from_secs(60), 2);
        c.put("a".into(), 1);
        c.put("b".into(), 2);
        c.put("c".into(), 3);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get("a"), None, "the oldest went");
        assert_eq!(c.get("c"), Some(3));
        let z = TtlCache::new(Duration::ZERO, 2);
        z.put("a".into(), 1);
        assert_eq!(z.get("a"), None);
    }
}
