//! Redis's `dict` (src/dict.c, 7.0) over key ids: power-of-two bucket arrays, chaining with
//! insertion at the head, growth at load factor 1, incremental rehash one bucket per operation
//! (plus cron batches), and the shrink rule.
//!
//! It exists so that what depends on Redis's bucket order behaves as in Redis: the active expire
//! cycle's cursor sweep, eviction sampling, and the memory of bucket arrays (both tables while a
//! rehash is in progress). Membership itself is tracked by the caller; the dict only holds the
//! chains. Keys are hashed with a seeded mixer, as Redis hashes with a per-process SipHash key.

use crate::sim::keyspace::memory::BUCKET_BYTES;
use crate::sim::keyspace::prefetch;
use crate::sim::ledger::KeyId;
use crate::sim::random::rng::{mix64, Draw};

const NIL: u32 = u32::MAX;
/// `DICT_HT_INITIAL_SIZE`.
pub const INITIAL_SIZE: usize = 4;
/// `dict_force_resize_ratio`: while a fork child exists, grow only past this load.
const FORCE_RESIZE_RATIO: u64 = 5;
/// `HASHTABLE_MIN_FILL`: cron shrinks a table filled below this percentage.
const MIN_FILL_PERCENT: u64 = 10;
/// `HASHTABLE_MAX_LOAD_FACTOR`: above this load a table grows even past maxmemory.
const MAX_LOAD_FACTOR: f64 = 1.618;

/// What the server says about growing a keyspace table (`dictTypeExpandAllowed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpandGuard {
    /// False while a fork child (BGSAVE, AOF rewrite) exists.
    pub can_resize: bool,
    pub used_memory: u64,
    /// used_memory minus what does not count for eviction.
    pub used_memory_for_evict: u64,
    pub maxmemory: u64,
}

impl ExpandGuard {
    pub const UNLIMITED: ExpandGuard = ExpandGuard {
        can_resize: true,
        used_memory: 0,
        used_memory_for_evict: 0,
        maxmemory: 0,
    };

    /// `dictExpandAllowed` + `overMaxmemoryAfterAlloc` (src/server.c, src/evict.c).
    fn allows(&self, more_memory: u64, load: f64) -> bool {
        if load > MAX_LOAD_FACTOR || self.maxmemory == 0 {
            return true;
        }
        if self.used_memory + more_memory <= self.maxmemory {
            return true;
        }
        self.used_memory_for_evict + more_memory <= self.maxmemory
    }
}

/// Where a dict keeps its chain links, one per key id. The keyspace keeps each key's link in
/// the cache line of its slot (`db::Entries`): walking a chain, as eviction sampling and
/// removal do, then reads one line a key where a separate array of links made it two.
pub trait Links {
    fn link(&self, key: u32) -> u32;
    fn set_link(&mut self, key: u32, next: u32);
    /// Makes room for key ids below `capacity`, every link `NIL`, at the dict's first insert.
    fn ensure(&mut self, capacity: usize);
    /// Loads `key`'s link (a hint: see `keyspace::prefetch`).
    fn prefetch_link(&self, key: u32);
}

/// Links in an array of their own: the expires dict's, allocated at its first insert, so a
/// dict that never holds a key (that of a workload without TTLs) costs nothing per key.
impl Links for Vec<u32> {
    #[inline]
    fn link(&self, key: u32) -> u32 {
        self[key as usize]
    }

    #[inline]
    fn set_link(&mut self, key: u32, next: u32) {
        self[key as usize] = next;
    }

    fn ensure(&mut self, capacity: usize) {
        if self.is_empty() {
            *self = crate::sim::keyspace::filled_vec(NIL, capacity);
        }
    }

    #[inline]
    fn prefetch_link(&self, key: u32) {
        if let Some(link) = self.get(key as usize) {
            prefetch(link);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Dict<L = Vec<u32>> {
    heads: [Vec<u32>; 2],
    used: [u64; 2],
    /// Next bucket of table 0 to move while rehashing.
    rehash_index: Option<usize>,
    /// Chain links, indexed by key id.
    next: L,
    key_capacity: usize,
    seed: u64,
}

impl Dict {
    /// A dict able to hold key ids below `key_capacity`, its links in an array of their own.
    pub fn new(key_capacity: usize, seed: u64) -> Dict {
        Dict::with_links(Vec::new(), key_capacity, seed)
    }
}

impl<L: Links> Dict<L> {
    /// A dict able to hold key ids below `key_capacity`, its links kept in `links`.
    pub fn with_links(links: L, key_capacity: usize, seed: u64) -> Dict<L> {
        Dict {
            heads: [Vec::new(), Vec::new()],
            used: [0, 0],
            rehash_index: None,
            next: links,
            key_capacity,
            seed,
        }
    }

    /// Where the links are kept (for the keyspace, its slots too).
    #[inline]
    pub fn links(&self) -> &L {
        &self.next
    }

    /// The links' storage, mutable; a caller changes what it keeps there beside the links,
    /// never a link.
    #[inline]
    pub fn links_mut(&mut self) -> &mut L {
        &mut self.next
    }

    #[inline]
    fn hash(&self, key: KeyId) -> u64 {
        mix64(u64::from(key.0) ^ self.seed)
    }

    #[inline]
    pub fn len(&self) -> u64 {
        self.used[0] + self.used[1]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `dictSlots`: buckets of both tables.
    pub fn slots(&self) -> u64 {
        (self.heads[0].len() + self.heads[1].len()) as u64
    }

    /// Bytes of the bucket arrays.
    pub fn bucket_bytes(&self) -> u64 {
        self.slots() * BUCKET_BYTES
    }

    pub fn is_rehashing(&self) -> bool {
        self.rehash_index.is_some()
    }

    /// Size of table 0 or 1 (0 when absent).
    pub fn table_size(&self, table: usize) -> usize {
        self.heads[table].len()
    }

    /// A lookup (`dictFind`): on a non-empty rehashing dict it moves one bucket.
    #[inline]
    pub fn on_lookup(&mut self) {
        if self.rehash_index.is_some() && !self.is_empty() {
            self.rehash(1);
        }
    }

    /// `dictAdd` of a key known to be absent.
    pub fn insert(&mut self, key: KeyId, guard: &ExpandGuard) {
        self.next.ensure(self.key_capacity);
        if self.rehash_index.is_some() {
            self.rehash(1);
        }
        self.expand_if_needed(guard);
        let table = usize::from(self.rehash_index.is_some());
        let mask = self.heads[table].len() as u64 - 1;
        let bucket = (self.hash(key) & mask) as usize;
        self.next.set_link(key.0, self.heads[table][bucket]);
        self.heads[table][bucket] = key.0;
        self.used[table] += 1;
    }

    /// `dictDelete`: unlinks the key; false if it was not there.
    pub fn remove(&mut self, key: KeyId) -> bool {
        if self.is_empty() {
            return false;
        }
        if self.rehash_index.is_some() {
            self.rehash(1);
        }
        let hash = self.hash(key);
        for table in 0..2 {
            if self.heads[table].is_empty() {
                break;
            }
            let bucket = (hash & (self.heads[table].len() as u64 - 1)) as usize;
            let mut previous = NIL;
            let mut current = self.heads[table][bucket];
            while current != NIL {
                if current == key.0 {
                    let after = self.next.link(current);
                    if previous == NIL {
                        self.heads[table][bucket] = after;
                    } else {
                        self.next.set_link(previous, after);
                    }
                    self.next.set_link(current, NIL);
                    self.used[table] -= 1;
                    return true;
                }
                previous = current;
                current = self.next.link(current);
            }
            if self.rehash_index.is_none() {
                break;
            }
        }
        false
    }

    /// Drops every key and both tables (`dictEmpty`): the next insert starts from 4 buckets.
    pub fn clear(&mut self) {
        for table in 0..2 {
            for &head in &self.heads[table] {
                let mut current = head;
                while current != NIL {
                    let after = self.next.link(current);
                    self.next.set_link(current, NIL);
                    current = after;
                }
            }
            self.heads[table] = Vec::new();
            self.used[table] = 0;
        }
        self.rehash_index = None;
    }

    /// `_dictExpandIfNeeded`.
    fn expand_if_needed(&mut self, guard: &ExpandGuard) {
        if self.rehash_index.is_some() {
            return;
        }
        let size = self.heads[0].len() as u64;
        if size == 0 {
            self.expand(INITIAL_SIZE as u64);
            return;
        }
        let used = self.used[0];
        if used >= size && (guard.can_resize || used / size > FORCE_RESIZE_RATIO) {
            let more_memory = (used + 1).next_power_of_two() * BUCKET_BYTES;
            if guard.allows(more_memory, used as f64 / size as f64) {
                self.expand(used + 1);
            }
        }
    }

    /// `_dictExpand`: a new table of the next power of two ≥ `size`.
    fn expand(&mut self, size: u64) -> bool {
        if self.rehash_index.is_some() || self.used[0] > size {
            return false;
        }
        let real_size = size.max(INITIAL_SIZE as u64).next_power_of_two() as usize;
        if real_size == self.heads[0].len() {
            return false;
        }
        if self.heads[0].is_empty() {
            self.heads[0] = vec![NIL; real_size];
        } else {
            self.heads[1] = vec![NIL; real_size];
            self.rehash_index = Some(0);
        }
        true
    }

    /// `dictRehash(d, n)`: moves up to `steps` non-empty buckets, visiting at most 10 × steps
    /// empty ones. Returns true while more work remains.
    pub fn rehash(&mut self, steps: usize) -> bool {
        let Some(mut index) = self.rehash_index else {
            return false;
        };
        let mut empty_visits = steps * 10;
        let mask = self.heads[1].len() as u64 - 1;
        let mut steps = steps;
        while steps > 0 && self.used[0] != 0 {
            steps -= 1;
            while self.heads[0][index] == NIL {
                index += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_index = Some(index);
                    return true;
                }
            }
            let mut current = self.heads[0][index];
            while current != NIL {
                let after = self.next.link(current);
                let bucket = (self.hash(KeyId(current)) & mask) as usize;
                self.next.set_link(current, self.heads[1][bucket]);
                self.heads[1][bucket] = current;
                self.used[0] -= 1;
                self.used[1] += 1;
                current = after;
            }
            self.heads[0][index] = NIL;
            index += 1;
        }
        if self.used[0] == 0 {
            self.heads[0] = std::mem::take(&mut self.heads[1]);
            self.used = [self.used[1], 0];
            self.rehash_index = None;
            return false;
        }
        self.rehash_index = Some(index);
        true
    }

    /// `htNeedsResize` then `dictResize` (cron's `tryResizeHashTables`).
    pub fn shrink_if_sparse(&mut self, can_resize: bool) {
        let size = self.slots();
        let used = self.len();
        if size > INITIAL_SIZE as u64
            && used * 100 / size < MIN_FILL_PERCENT
            && can_resize
            && self.rehash_index.is_none()
        {
            self.expand(self.used[0].max(INITIAL_SIZE as u64));
        }
    }

    /// `dictGetSomeKeys` (7.0): up to `count` keys from consecutive buckets starting at a random
    /// index, jumping elsewhere after a run of empty buckets; appended to `out`.
    pub fn get_some_keys(&mut self, count: usize, stream: &mut impl Draw, out: &mut Vec<KeyId>) {
        let count = count.min(self.len() as usize);
        if count == 0 {
            return;
        }
        let mut max_steps = count * 10;
        for _ in 0..count {
            if self.rehash_index.is_none() {
                break;
            }
            self.rehash(1);
        }
        // While rehashing, both tables hold keys and buckets of table 0 below the index are empty.
        let rehashed_below = self.rehash_index;
        let tables = if rehashed_below.is_some() { 2 } else { 1 };
        let mut max_mask = self.heads[0].len() as u64 - 1;
        if tables > 1 {
            max_mask = max_mask.max(self.heads[1].len() as u64 - 1);
        }
        let mut index = stream.next_u64() & max_mask;
        let mut empty_run = 0usize;
        let mut stored = 0usize;
        while stored < count && max_steps > 0 {
            max_steps -= 1;
            for table in 0..tables {
                if let (0, Some(rehash_index)) = (table, rehashed_below) {
                    let rehash_index = rehash_index as u64;
                    if index < rehash_index {
                        // Buckets below the rehash index of table 0 are empty.
                        if index >= self.heads[1].len() as u64 {
                            index = rehash_index;
                        } else {
                            continue;
                        }
                    }
                }
                if index >= self.heads[table].len() as u64 {
                    continue;
                }
                let mut current = self.heads[table][index as usize];
                if current == NIL {
                    empty_run += 1;
                    if empty_run >= 5 && empty_run > count {
                        index = stream.next_u64() & max_mask;
                        empty_run = 0;
                    }
                } else {
                    empty_run = 0;
                    while current != NIL {
                        out.push(KeyId(current));
                        stored += 1;
                        if stored == count {
                            return;
                        }
                        current = self.next.link(current);
                    }
                }
            }
            index = (index + 1) & max_mask;
        }
    }

    /// `dictGetRandomKey`: a random non-empty bucket, then a random element of its chain.
    pub fn get_random_key(&mut self, stream: &mut impl Draw) -> Option<KeyId> {
        if self.is_empty() {
            return None;
        }
        if self.rehash_index.is_some() {
            self.rehash(1);
        }
        let head = match self.rehash_index {
            Some(rehash_index) => {
                let size0 = self.heads[0].len() as u64;
                let span = self.slots() - rehash_index as u64;
                loop {
                    let bucket = rehash_index as u64 + stream.below(span);
                    let head = if bucket >= size0 {
                        self.heads[1][(bucket - size0) as usize]
                    } else {
                        self.heads[0][bucket as usize]
                    };
                    if head != NIL {
                        break head;
                    }
                }
            }
            None => {
                let mask = self.heads[0].len() as u64 - 1;
                loop {
                    let head = self.heads[0][(stream.next_u64() & mask) as usize];
                    if head != NIL {
                        break head;
                    }
                }
            }
        };
        let mut length = 0u64;
        let mut current = head;
        while current != NIL {
            length += 1;
            current = self.next.link(current);
        }
        let mut pick = stream.below(length);
        let mut current = head;
        while pick > 0 {
            current = self.next.link(current);
            pick -= 1;
        }
        Some(KeyId(current))
    }

    /// Loads the bucket heads a `get_some_keys` whose first draw is `draw` starts from. A hint
    /// (`keyspace::prefetch`), given a sampling ahead so that the heads are cached by the time
    /// `prefetch_sample` reads them.
    pub fn prefetch_sample_start(&self, draw: u64) {
        let Some(start) = self.sample_start(draw) else {
            return;
        };
        for heads in &self.heads {
            if let Some(head) = heads.get(start) {
                prefetch(head);
            }
        }
    }

    /// Hands `found` the keys heading the first `count` buckets a `get_some_keys` whose first
    /// draw is `draw` visits, and loads their chain links. A hint: the keys may have changed by
    /// the time it samples.
    pub fn prefetch_sample(&self, draw: u64, count: usize, mut found: impl FnMut(KeyId)) {
        let Some(start) = self.sample_start(draw) else {
            return;
        };
        for heads in &self.heads {
            for &head in heads.iter().skip(start).take(count) {
                if head != NIL {
                    self.next.prefetch_link(head);
                    found(KeyId(head));
                }
            }
        }
    }

    /// Loads what inserting or removing `key` reads first: the head of its bucket. Its own link
    /// is the caller's to load (the keyspace's sits in the key's entry, beside its slot).
    pub fn prefetch_bucket_of(&self, key: KeyId) {
        let hash = self.hash(key);
        for heads in &self.heads {
            if !heads.is_empty() {
                prefetch(&heads[(hash & (heads.len() as u64 - 1)) as usize]);
            }
        }
    }

    /// The bucket `get_some_keys` starts from for a first draw `draw` (None for no table).
    fn sample_start(&self, draw: u64) -> Option<usize> {
        let size = self.heads[0].len().max(self.heads[1].len());
        (size > 0).then(|| (draw & (size as u64 - 1)) as usize)
    }

    /// Appends the keys chained in `bucket` of `table` (masked to the table size) to `out`, in
    /// chain order.
    pub fn bucket_keys(&self, table: usize, bucket: u64, out: &mut Vec<KeyId>) {
        let size = self.heads[table].len() as u64;
        if size == 0 {
            return;
        }
        let mut current = self.heads[table][(bucket & (size - 1)) as usize];
        while current != NIL {
            out.push(KeyId(current));
            current = self.next.link(current);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::random::rng::Stream;

    fn keys_in(dict: &Dict) -> Vec<u32> {
        let mut out = Vec::new();
        for table in 0..2 {
            for bucket in 0..dict.table_size(table) as u64 {
                dict.bucket_keys(table, bucket, &mut out);
            }
        }
        let mut ids: Vec<u32> = out.into_iter().map(|k| k.0).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn grows_when_inserting_key_number_two_to_the_k_plus_one() {
        let mut dict = Dict::new(100, 1);
        for id in 0..4 {
            dict.insert(KeyId(id), &ExpandGuard::UNLIMITED);
        }
        assert_eq!(dict.slots(), 4);
        assert!(!dict.is_rehashing());
        dict.insert(KeyId(4), &ExpandGuard::UNLIMITED);
        // The fifth key starts a rehash into 8 buckets: both tables are allocated.
        assert!(dict.is_rehashing());
        assert_eq!(dict.slots(), 12);
        while dict.rehash(1) {}
        assert_eq!(dict.slots(), 8);
        assert_eq!(keys_in(&dict), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn incremental_rehash_keeps_every_key_findable() {
        let mut dict = Dict::new(10_000, 7);
        for id in 0..5000 {
            dict.insert(KeyId(id), &ExpandGuard::UNLIMITED);
            if id % 3 == 0 {
                assert!(dict.remove(KeyId(id)));
            }
        }
        let expected: Vec<u32> = (0..5000).filter(|id| id % 3 != 0).collect();
        assert_eq!(keys_in(&dict), expected);
        assert_eq!(dict.len(), expected.len() as u64);
        assert!(!dict.remove(KeyId(0)));
    }

    #[test]
    fn shrinks_below_ten_percent_fill() {
        let mut dict = Dict::new(1000, 3);
        for id in 0..1000 {
            dict.insert(KeyId(id), &ExpandGuard::UNLIMITED);
        }
        while dict.rehash(100) {}
        assert_eq!(dict.slots(), 1024);
        for id in 0..950 {
            dict.remove(KeyId(id));
        }
        dict.shrink_if_sparse(true);
        while dict.rehash(100) {}
        assert_eq!(dict.slots(), 64);
        assert_eq!(keys_in(&dict), (950..1000).collect::<Vec<u32>>());
    }

    #[test]
    fn clear_frees_the_tables() {
        let mut dict = Dict::new(10, 3);
        for id in 0..10 {
            dict.insert(KeyId(id), &ExpandGuard::UNLIMITED);
        }
        dict.clear();
        assert_eq!(dict.slots(), 0);
        assert_eq!(dict.len(), 0);
        dict.insert(KeyId(3), &ExpandGuard::UNLIMITED);
        assert_eq!(keys_in(&dict), vec![3]);
        assert_eq!(dict.slots(), 4);
    }

    #[test]
    fn maxmemory_guard_refuses_growth_until_load_1_618() {
        // redis-fidelity 3.5 / maxmemory.tcl "Don't rehash if used memory exceeds maxmemory".
        let guard = ExpandGuard {
            can_resize: true,
            used_memory: 1_000_000,
            used_memory_for_evict: 1_000_000,
            maxmemory: 1_000_010,
        };
        let mut dict = Dict::new(100, 5);
        for id in 0..4 {
            dict.insert(KeyId(id), &ExpandGuard::UNLIMITED);
        }
        for id in 4..7 {
            dict.insert(KeyId(id), &guard);
        }
        assert_eq!(dict.slots(), 4, "loads 4/4 to 6/4 are ≤ 1.618: no growth");
        dict.insert(KeyId(7), &guard);
        assert!(
            dict.is_rehashing(),
            "load 7/4 = 1.75 > 1.618: grows regardless"
        );
    }

    #[test]
    fn some_keys_come_from_consecutive_buckets_and_are_distinct() {
        let mut dict = Dict::new(10_000, 11);
        for id in 0..10_000 {
            dict.insert(KeyId(id), &ExpandGuard::UNLIMITED);
        }
        let mut stream = Stream::new(1, "sample");
        let mut out = Vec::new();
        dict.get_some_keys(5, &mut stream, &mut out);
        assert_eq!(out.len(), 5);
        let mut unique = out.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 5);
        // A small dict gives at most its size.
        let mut small = Dict::new(10, 3);
        small.insert(KeyId(2), &ExpandGuard::UNLIMITED);
        out.clear();
        small.get_some_keys(5, &mut stream, &mut out);
        assert_eq!(out, vec![KeyId(2)]);
    }

    #[test]
    fn random_keys_cover_the_dict_even_while_rehashing() {
        let mut dict = Dict::new(100, 13);
        for id in 0..65 {
            dict.insert(KeyId(id), &ExpandGuard::UNLIMITED);
        }
        assert!(dict.is_rehashing());
        let mut stream = Stream::new(2, "random");
        let mut seen = [false; 65];
        for _ in 0..5000 {
            let key = dict.get_random_key(&mut stream).unwrap();
            seen[key.0 as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(Dict::new(4, 1).get_random_key(&mut stream), None);
    }

    #[test]
    fn fork_child_defers_growth_to_load_five() {
        let guard = ExpandGuard {
            can_resize: false,
            ..ExpandGuard::UNLIMITED
        };
        let mut dict = Dict::new(100, 5);
        for id in 0..24 {
            dict.insert(KeyId(id), &guard);
        }
        assert_eq!(dict.slots(), 4);
        dict.insert(KeyId(24), &guard);
        assert!(dict.is_rehashing());
    }
}
