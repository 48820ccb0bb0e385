//! The key space: string keys to string values with optional expiry, split into shards
//! each behind its own `std::sync::Mutex`.
//!
//! A shard lock is held only for one command's map operation (never across an `.await`:
//! nothing here is async), so a blocking mutex is the cheap choice; see the example's
//! module docs for the measurement. Expiry is lazy (an expired entry is dropped by the
//! access that finds it) plus active: [`Store::evict_expired`], called periodically,
//! pops due deadlines from each shard's heap, so keys nobody reads again do not pile up.

use std::cmp::Reverse;
use std::collections::hash_map::RandomState;
use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Shards: a power of two, enough that 2-16 workers rarely meet on one lock.
const SHARDS: usize = 64;

/// At most this many due deadlines are handled per shard per [`Store::evict_expired`]
/// call, so the sampler never holds a shard lock for long.
const EVICT_BATCH: usize = 256;

/// A stored value and its deadline.
#[derive(Debug)]
pub struct Value {
    /// The bytes.
    pub data: Vec<u8>,
    /// When the key disappears, if ever.
    pub expires_at: Option<Instant>,
}

impl Value {
    fn is_expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// One shard: the map plus a min-heap of deadlines for active expiry.
///
/// The heap may hold stale deadlines (the key was deleted, overwritten or given another
/// deadline); an entry is acted on only if the key's current deadline is due. `timed`
/// counts the keys that have a deadline; the heap is rebuilt from the map when stale
/// entries outnumber live ones, so it stays within about twice the live count.
#[derive(Debug, Default)]
pub struct Shard {
    map: HashMap<Box<[u8]>, Value>,
    deadlines: BinaryHeap<Reverse<(Instant, Box<[u8]>)>>,
    timed: usize,
}

impl Shard {
    /// The live value of `key`, dropping it first if it has expired. (The clock is read
    /// only for keys that have a deadline.)
    pub fn get(&mut self, key: &[u8]) -> Option<&mut Value> {
        let value = self.map.get(key)?;
        if value.expires_at.is_some() && value.is_expired(Instant::now()) {
            self.remove(key);
            return None;
        }
        self.map.get_mut(key)
    }

    /// Whether `key` is live.
    pub fn contains(&mut self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Stores `data` under `key` with deadline `expires_at`, reusing the key's existing
    /// allocations when it is already present.
    pub fn set(&mut self, key: &[u8], data: &[u8], expires_at: Option<Instant>) {
        match self.map.get_mut(key) {
            Some(value) => {
                value.data.clear();
                value.data.extend_from_slice(data);
                let old = std::mem::replace(&mut value.expires_at, expires_at);
                self.deadline_changed(key, old, expires_at);
            }
            None => {
                self.map.insert(
                    key.into(),
                    Value {
                        data: data.to_vec(),
                        expires_at,
                    },
                );
                self.deadline_changed(key, None, expires_at);
            }
        }
    }

    /// Gives a live `key` the deadline `expires_at`. The caller has checked that the key
    /// is live.
    pub fn set_deadline(&mut self, key: &[u8], expires_at: Option<Instant>) {
        if let Some(value) = self.map.get_mut(key) {
            let old = std::mem::replace(&mut value.expires_at, expires_at);
            self.deadline_changed(key, old, expires_at);
        }
    }

    /// Removes `key`; true if it was live.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        self.remove_at(key, Instant::now())
    }

    fn remove_at(&mut self, key: &[u8], now: Instant) -> bool {
        match self.map.remove(key) {
            Some(value) => {
                if value.expires_at.is_some() {
                    self.timed -= 1;
                }
                !value.is_expired(now)
            }
            None => false,
        }
    }

    fn deadline_changed(&mut self, key: &[u8], old: Option<Instant>, new: Option<Instant>) {
        match (old.is_some(), new.is_some()) {
            (false, true) => self.timed += 1,
            (true, false) => self.timed -= 1,
            _ => {}
        }
        if let Some(at) = new {
            if old != new {
                self.deadlines.push(Reverse((at, key.into())));
                if self.deadlines.len() > 2 * self.timed + 64 {
                    self.rebuild_deadlines();
                }
            }
        }
    }

    fn rebuild_deadlines(&mut self) {
        self.deadlines = self
            .map
            .iter()
            .filter_map(|(k, v)| v.expires_at.map(|at| Reverse((at, k.clone()))))
            .collect();
    }

    /// Drops up to `limit` keys whose deadline has passed; returns how many it dropped.
    fn evict_expired(&mut self, now: Instant, limit: usize) -> usize {
        let mut evicted = 0;
        for _ in 0..limit {
            match self.deadlines.peek() {
                Some(Reverse((at, _))) if *at <= now => {}
                _ => break,
            }
            let Some(Reverse((at, key))) = self.deadlines.pop() else {
                break;
            };
            // Stale unless the key still carries exactly this deadline.
            if self.map.get(&key).is_some_and(|v| v.expires_at == Some(at)) {
                self.remove_at(&key, now);
                evicted += 1;
            }
        }
        evicted
    }

    /// Number of keys held, expired-but-not-yet-evicted ones included.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the shard holds no keys (expired ones count as held until evicted).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The sharded key space.
#[derive(Debug)]
pub struct Store {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
        }
    }

    /// Which shard holds `key`.
    pub fn shard_of(&self, key: &[u8]) -> usize {
        (self.hasher.hash_one(key) as usize) & (SHARDS - 1)
    }

    /// Locks shard `index`. A poisoned lock (a panic while it was held, which the store
    /// itself never does) is taken over: every shard operation leaves the map consistent.
    pub fn lock(&self, index: usize) -> MutexGuard<'_, Shard> {
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the shard holding `key`.
    pub fn lock_key(&self, key: &[u8]) -> MutexGuard<'_, Shard> {
        self.lock(self.shard_of(key))
    }

    /// Locks every shard holding one of `keys`, in ascending shard order (so two callers
    /// can never deadlock), for multi-key commands that must be atomic (MSET, MGET).
    /// Returns the guards indexed by shard number.
    pub fn lock_many<'a, K: AsRef<[u8]>>(
        &'a self,
        keys: impl Iterator<Item = K>,
    ) -> Vec<Option<MutexGuard<'a, Shard>>> {
        let mut wanted = [false; SHARDS];
        for key in keys {
            wanted[self.shard_of(key.as_ref())] = true;
        }
        wanted
            .iter()
            .enumerate()
            .map(|(i, &w)| w.then(|| self.lock(i)))
            .collect()
    }

    /// Active expiry: drops keys whose deadline has passed, a bounded batch per shard.
    /// Returns how many it dropped.
    pub fn evict_expired(&self) -> usize {
        let now = Instant::now();
        (0..SHARDS)
            .map(|i| self.lock(i).evict_expired(now, EVICT_BATCH))
            .sum()
    }

    /// Number of keys held, expired-but-not-yet-evicted ones included.
    pub fn len(&self) -> usize {
        (0..SHARDS).map(|i| self.lock(i).len()).sum()
    }

    /// Whether no shard holds a key (expired ones count as held until evicted).
    pub fn is_empty(&self) -> bool {
        (0..SHARDS).all(|i| self.lock(i).is_empty())
    }
}

/// How often the server runs [`Store::evict_expired`] (Redis's active expiry runs 10 times
/// a second).
pub const EVICT_PERIOD: Duration = Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_expiry_skips_stale_deadlines() {
        let store = Store::new();
        let past = Instant::now();
        let later = past + Duration::from_secs(60);
        store.lock_key(b"a").set(b"a", b"1", Some(past));
        // Overwritten with a later deadline: the first heap entry is stale.
        store.lock_key(b"b").set(b"b", b"1", Some(past));
        store.lock_key(b"b").set(b"b", b"2", Some(later));
        assert_eq!(store.evict_expired(), 1);
        assert_eq!(store.len(), 1);
    }
}
