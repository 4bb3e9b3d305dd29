//! The reference policies that are not Redis's: exact LRU and Belady's optimal (OPT).
//!
//! They exist to measure how far Redis's sampled approximations are from ideal, and to
//! reproduce classic cache-simulator results exactly. Both act as a classic cache: before a write
//! they evict until the new value fits, and a value larger than the whole cache is not stored.
//! Entries are (database, key id) pairs packed into a u64.

use std::collections::BinaryHeap;

use crate::sim::config::MaxmemoryPolicy;
use crate::sim::ledger::KeyId;

const NONE: u64 = u64::MAX;

/// "Never used again" for OPT.
pub const NEVER: u64 = u64::MAX;

fn pack(db: u32, key: KeyId) -> u64 {
    (u64::from(db) << 32) | u64::from(key.0)
}

fn unpack(id: u64) -> (u32, KeyId) {
    ((id >> 32) as u32, KeyId(id as u32))
}

#[derive(Debug, Clone)]
pub struct ReferenceCache {
    policy: MaxmemoryPolicy,
    key_capacity: usize,
    /// LRU: per database, per key: [previous, next] towards the head (most recent).
    links: Vec<Vec<[u64; 2]>>,
    head: u64,
    tail: u64,
    /// OPT: per database, per key: the time of the next use.
    next_use: Vec<Vec<u64>>,
    /// OPT: (next use, entry), lazily invalidated.
    heap: BinaryHeap<(u64, u64)>,
    live: u64,
}

impl ReferenceCache {
    pub fn new(policy: MaxmemoryPolicy, databases: u32, key_capacity: usize) -> ReferenceCache {
        ReferenceCache {
            policy,
            key_capacity,
            links: vec![Vec::new(); databases as usize],
            head: NONE,
            tail: NONE,
            next_use: vec![Vec::new(); databases as usize],
            heap: BinaryHeap::new(),
            live: 0,
        }
    }

    pub fn policy(&self) -> MaxmemoryPolicy {
        self.policy
    }

    /// Keys tracked: every key present in the keyspace, no other.
    pub fn live(&self) -> u64 {
        self.live
    }

    fn link_mut(&mut self, id: u64) -> &mut [u64; 2] {
        let (db, key) = unpack(id);
        let table = &mut self.links[db as usize];
        if table.is_empty() {
            *table = vec![[NONE, NONE]; self.key_capacity];
        }
        &mut table[key.0 as usize]
    }

    fn unlink(&mut self, id: u64) {
        let [previous, next] = *self.link_mut(id);
        if previous == NONE {
            self.tail = next;
        } else {
            self.link_mut(previous)[1] = next;
        }
        if next == NONE {
            self.head = previous;
        } else {
            self.link_mut(next)[0] = previous;
        }
        *self.link_mut(id) = [NONE, NONE];
    }

    fn push_head(&mut self, id: u64) {
        let old_head = self.head;
        *self.link_mut(id) = [old_head, NONE];
        if old_head == NONE {
            self.tail = id;
        } else {
            self.link_mut(old_head)[1] = id;
        }
        self.head = id;
    }

    fn set_next_use(&mut self, id: u64, next_use: u64) {
        let (db, key) = unpack(id);
        let table = &mut self.next_use[db as usize];
        if table.is_empty() {
            *table = crate::sim::keyspace::filled_vec(NEVER, self.key_capacity);
        }
        table[key.0 as usize] = next_use;
        self.heap.push((next_use, id));
    }

    /// Starts the order again from `present` (a restart's rollback or a full resync replaced
    /// the keyspace wholesale), in the order given, no next use known: the old order would
    /// name keys that are gone and miss keys that came back.
    pub fn rebuild(&mut self, present: impl IntoIterator<Item = (u32, KeyId)>) {
        let databases = self.links.len() as u32;
        *self = ReferenceCache::new(self.policy, databases, self.key_capacity);
        for (db, key) in present {
            self.on_insert(db, key, NEVER);
        }
    }

    /// A key entered the keyspace.
    pub fn on_insert(&mut self, db: u32, key: KeyId, next_use: u64) {
        let id = pack(db, key);
        self.live += 1;
        match self.policy {
            MaxmemoryPolicy::Opt => self.set_next_use(id, next_use),
            _ => self.push_head(id),
        }
    }

    /// A present key was read or written.
    pub fn on_access(&mut self, db: u32, key: KeyId, next_use: u64) {
        let id = pack(db, key);
        match self.policy {
            MaxmemoryPolicy::Opt => self.set_next_use(id, next_use),
            _ => {
                if self.head != id {
                    self.unlink(id);
                    self.push_head(id);
                }
            }
        }
    }

    /// A key left the keyspace.
    pub fn on_remove(&mut self, db: u32, key: KeyId) {
        let id = pack(db, key);
        self.live = self.live.saturating_sub(1);
        if self.policy != MaxmemoryPolicy::Opt {
            self.unlink(id);
        }
    }

    /// The entry to evict: the least recently used, or the one used furthest in the future.
    /// `present` says whether an entry is still in the keyspace (OPT's heap is lazy).
    pub fn victim(&mut self, present: impl Fn(u32, KeyId) -> bool) -> Option<(u32, KeyId)> {
        if self.policy != MaxmemoryPolicy::Opt {
            return (self.tail != NONE).then(|| unpack(self.tail));
        }
        if self.heap.len() as u64 > 4 * self.live + 1024 {
            let next_use = &self.next_use;
            self.heap.retain(|&(when, id)| {
                let (db, key) = unpack(id);
                present(db, key) && next_use[db as usize][key.0 as usize] == when
            });
        }
        while let Some(&(when, id)) = self.heap.peek() {
            let (db, key) = unpack(id);
            if present(db, key) && self.next_use[db as usize][key.0 as usize] == when {
                return Some((db, key));
            }
            self.heap.pop();
        }
        None
    }

    /// The victim's score for the ledger: its next use (OPT) or 0 (LRU order has no score).
    pub fn score(&self, db: u32, key: KeyId) -> u64 {
        match self.policy {
            MaxmemoryPolicy::Opt => self
                .next_use
                .get(db as usize)
                .and_then(|table| table.get(key.0 as usize))
                .copied()
                .unwrap_or(NEVER),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut cache = ReferenceCache::new(MaxmemoryPolicy::LruExact, 2, 10);
        for key in 0..4 {
            cache.on_insert(0, KeyId(key), NEVER);
        }
        cache.on_insert(1, KeyId(0), NEVER);
        cache.on_access(0, KeyId(0), NEVER);
        assert_eq!(cache.victim(|_, _| true), Some((0, KeyId(1))));
        cache.on_remove(0, KeyId(1));
        assert_eq!(cache.victim(|_, _| true), Some((0, KeyId(2))));
        cache.on_remove(0, KeyId(2));
        cache.on_remove(0, KeyId(3));
        assert_eq!(cache.victim(|_, _| true), Some((1, KeyId(0))));
        cache.on_remove(1, KeyId(0));
        assert_eq!(cache.victim(|_, _| true), Some((0, KeyId(0))));
        cache.on_remove(0, KeyId(0));
        assert_eq!(cache.victim(|_, _| true), None);
    }

    #[test]
    fn opt_evicts_the_key_used_furthest_ahead() {
        let mut cache = ReferenceCache::new(MaxmemoryPolicy::Opt, 1, 10);
        cache.on_insert(0, KeyId(0), 5);
        cache.on_insert(0, KeyId(1), 9);
        cache.on_insert(0, KeyId(2), 7);
        assert_eq!(cache.victim(|_, _| true), Some((0, KeyId(1))));
        cache.on_access(0, KeyId(1), 3);
        assert_eq!(cache.victim(|_, _| true), Some((0, KeyId(2))));
        cache.on_insert(0, KeyId(3), NEVER);
        assert_eq!(cache.victim(|_, _| true), Some((0, KeyId(3))));
        assert_eq!(cache.score(0, KeyId(3)), NEVER);
    }
}
