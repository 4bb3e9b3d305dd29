//! The kernel's keyspace: the one database the clients use, as one 12-byte entry per key id
//! (the trace's keys are already dense), and the reference order.
//!
//! A present key's entry holds its exact-LRU neighbours, its value's length, its name's length
//! (for the request's size) and its writer; an absent key's holds when it was last removed, as
//! the full engine's slot does, so that a miss names the eviction. Exact LRU is a list threaded
//! through the entries (any exact LRU evicts the same key); OPT keeps `ReferenceCache`, whose
//! heap decides ties as the full engine's does.

use crate::sim::config::MaxmemoryPolicy;
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, Ledger, LedgerEntry, NodeId};
use crate::sim::reference::exact::ReferenceCache;

/// No neighbour.
const NIL: u32 = u32::MAX;
/// The removal time of a key never removed.
const NEVER_REMOVED: u64 = u64::MAX;
/// An entry's third word: the value's length (10 bits; all ones for an absent key), the key
/// name's length (14 bits) and the writing client (8 bits). Eligible replies fit 1 KB and
/// requests 16 KB, and at most 256 clients replay (`eligible.rs`).
const VALUE_BITS: u32 = 10;
const KEY_LEN_BITS: u32 = 14;
const ABSENT: u32 = (1 << VALUE_BITS) - 1;
pub(super) const MAX_VALUE_LEN: u32 = ABSENT - 1;
pub(super) const MAX_CLIENTS: usize = 256;

/// 12 bytes a key: the entries of a million keys fill 12 MB of cache, not 16.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Entry {
    /// Present: the neighbours towards the LRU tail and head. Absent: the last removal's time,
    /// µs (low and high halves).
    older: u32,
    newer: u32,
    packed: u32,
}

impl Entry {
    fn removed_at_us(&self) -> u64 {
        u64::from(self.older) | (u64::from(self.newer) << 32)
    }

    fn set_removed_at_us(&mut self, at_us: u64) {
        self.older = at_us as u32;
        self.newer = (at_us >> 32) as u32;
    }

    #[inline]
    fn value_len(&self) -> u32 {
        self.packed & ABSENT
    }

    #[inline]
    fn key_len(&self) -> u16 {
        ((self.packed >> VALUE_BITS) & ((1 << KEY_LEN_BITS) - 1)) as u16
    }

    #[inline]
    fn writer(&self) -> Actor {
        Actor::client((self.packed >> (VALUE_BITS + KEY_LEN_BITS)) as usize)
    }

    /// Present with a value of `len` bytes written by `writer` (a client).
    fn fill(&mut self, len: u32, writer: Actor) {
        assert!(
            len <= MAX_VALUE_LEN,
            "an eligible value fits {VALUE_BITS} bits"
        );
        let client = writer.client_index().unwrap_or(MAX_CLIENTS) as u32;
        assert!(
            (client as usize) < MAX_CLIENTS,
            "an eligible writer is a client"
        );
        let key_len = self.packed & (((1 << KEY_LEN_BITS) - 1) << VALUE_BITS);
        self.packed = len | key_len | (client << (VALUE_BITS + KEY_LEN_BITS));
    }

    fn empty(&mut self) {
        self.packed |= ABSENT;
    }
}

/// What a ledger row needs besides its fields: the time, the ledger and the key groups.
pub(super) struct Rows<'l, 'k> {
    pub now_us: u64,
    pub ledger: &'l mut Ledger<'k>,
    pub keys: &'l KeyTable,
}

impl Rows<'_, '_> {
    pub(super) fn record(
        &mut self,
        db: u32,
        key: KeyId,
        kind: EntryKind,
        cause: Cause,
        actor: Actor,
        detail: Detail,
    ) {
        let entry = LedgerEntry {
            time_us: self.now_us,
            node: NodeId(0),
            db,
            key,
            kind,
            cause,
            actor,
            detail,
        };
        self.ledger.record(entry, self.keys.group_of(key));
    }
}

/// What a GET found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// A hit on a value of this length, written by this actor.
    Hit { value_len: u32, writer: Actor },
    /// A miss on a key never removed (never written), or removed at this time (evicted).
    Miss { removed_at_us: Option<u64> },
}

pub(super) struct Keyspace {
    pub db: u32,
    policy: MaxmemoryPolicy,
    maxmemory: u64,
    entries: Vec<Entry>,
    /// Exact LRU: most and least recently used.
    head: u32,
    tail: u32,
    /// OPT's order (None under exact LRU).
    opt: Option<ReferenceCache>,
    /// used_memory (the raw model: values' bytes), its peak, keys present, evictions.
    pub used: u64,
    pub peak: u64,
    pub live: u64,
    pub evicted: u64,
}

impl Keyspace {
    /// `databases` sizes OPT's tables as the node's are.
    pub(super) fn new(
        db: u32,
        policy: MaxmemoryPolicy,
        maxmemory: u64,
        databases: u32,
        keys: &KeyTable,
    ) -> Keyspace {
        let never = Entry {
            older: NEVER_REMOVED as u32,
            newer: (NEVER_REMOVED >> 32) as u32,
            packed: ABSENT,
        };
        let mut entries = crate::sim::keyspace::filled_vec(never, keys.len());
        for (key, entry) in entries.iter_mut().enumerate() {
            // Eligible names are shorter than a request's first read (16 KB).
            let key_len = keys.key_len(KeyId(key as u32));
            assert!(key_len < 1 << KEY_LEN_BITS, "an eligible name fits 14 bits");
            entry.packed |= (key_len as u32) << VALUE_BITS;
        }
        Keyspace {
            db,
            policy,
            maxmemory,
            entries,
            head: NIL,
            tail: NIL,
            opt: (policy == MaxmemoryPolicy::Opt)
                .then(|| ReferenceCache::new(policy, databases, keys.len())),
            used: 0,
            peak: 0,
            live: 0,
            evicted: 0,
        }
    }

    /// Loads the entries the next requests will touch (theirs, their LRU neighbours and the
    /// eviction end of the list) into the cache, all at once: the loads are independent, so
    /// the processor overlaps their misses, where the requests one by one wait for each.
    pub(super) fn warm(&self, upcoming: impl Iterator<Item = u32> + Clone) {
        let entries = &self.entries;
        let at = |key: u32| entries.get(key as usize).map_or(0, |e| e.older ^ e.newer);
        let mut sum = at(self.tail);
        for key in upcoming.clone() {
            sum ^= at(key);
        }
        let neighbours = |key: u32| {
            entries
                .get(key as usize)
                .map_or(0, |e| at(e.older) ^ at(e.newer))
        };
        sum ^= neighbours(self.tail);
        for key in upcoming {
            sum ^= neighbours(key);
        }
        std::hint::black_box(sum);
    }

    #[inline]
    pub(super) fn contains(&self, key: KeyId) -> bool {
        self.entries[key.0 as usize].value_len() != ABSENT
    }

    #[inline]
    pub(super) fn key_len(&self, key: KeyId) -> u16 {
        self.entries[key.0 as usize].key_len()
    }

    pub(super) fn writer(&self, key: KeyId) -> Actor {
        self.entries[key.0 as usize].writer()
    }

    pub(super) fn note_peak(&mut self) {
        self.peak = self.peak.max(self.used);
    }

    /// A GET's lookup: a hit moves the key in the reference order.
    #[inline]
    pub(super) fn get(&mut self, key: KeyId, next_use: u64) -> Found {
        let entry = self.entries[key.0 as usize];
        if entry.value_len() == ABSENT {
            let removed_at_us = entry.removed_at_us();
            return Found::Miss {
                removed_at_us: (removed_at_us != NEVER_REMOVED).then_some(removed_at_us),
            };
        }
        match self.opt.as_mut() {
            Some(opt) => opt.on_access(self.db, key, next_use),
            None => self.move_to_head(key.0),
        }
        Found::Hit {
            value_len: entry.value_len(),
            writer: entry.writer(),
        }
    }

    /// A write of `len` bytes to an absent key by `writer`: `make_room` first (exact LRU
    /// evicts before inserting), the insertion, then OPT's shedding (it evicts after, maybe
    /// the new key).
    pub(super) fn insert(
        &mut self,
        key: KeyId,
        len: u32,
        writer: Actor,
        next_use: u64,
        rows: &mut Rows,
    ) {
        if self.maxmemory != 0 && self.opt.is_none() {
            while self.used + u64::from(len) > self.maxmemory {
                let evicted = self.evict_one(rows);
                assert!(evicted, "an eligible write fits once the cache is empty");
            }
        }
        let entry = &mut self.entries[key.0 as usize];
        debug_assert!(entry.value_len() == ABSENT, "a refill follows a miss");
        entry.fill(len, writer);
        self.used += u64::from(len);
        self.live += 1;
        match self.opt.as_mut() {
            Some(opt) => opt.on_insert(self.db, key, next_use),
            None => self.push_head(key.0),
        }
        self.shed(rows);
    }

    /// OPT's `shed_reference_victims` after every command.
    #[inline]
    pub(super) fn shed(&mut self, rows: &mut Rows) {
        if self.opt.is_none() || self.maxmemory == 0 {
            return;
        }
        while self.used > self.maxmemory && self.evict_one(rows) {}
    }

    /// `evict_key` of the reference order's victim, with its ledger row.
    fn evict_one(&mut self, rows: &mut Rows) -> bool {
        let Some((key, score)) = self.victim() else {
            return false;
        };
        let detail = Detail::Eviction {
            policy: self.policy,
            score,
            used_memory: self.used,
            maxmemory: self.maxmemory,
        };
        match self.opt.as_mut() {
            Some(opt) => opt.on_remove(self.db, key),
            None => self.unlink(key.0),
        }
        let entry = &mut self.entries[key.0 as usize];
        self.used -= u64::from(entry.value_len());
        self.live -= 1;
        entry.empty();
        entry.set_removed_at_us(rows.now_us);
        rows.record(
            self.db,
            key,
            EntryKind::Removal,
            Cause::Evicted,
            Actor::SERVER,
            detail,
        );
        self.evicted += 1;
        true
    }

    /// The next victim and its score (next use for OPT, 0 for exact LRU).
    fn victim(&mut self) -> Option<(KeyId, u64)> {
        let Some(opt) = self.opt.as_mut() else {
            return (self.tail != NIL).then_some((KeyId(self.tail), 0));
        };
        let entries = &self.entries;
        let (db, key) = opt.victim(|_, key| entries[key.0 as usize].value_len() != ABSENT)?;
        Some((key, opt.score(db, key)))
    }

    #[inline]
    fn move_to_head(&mut self, key: u32) {
        if self.head != key {
            self.unlink(key);
            self.push_head(key);
        }
    }

    #[inline]
    fn unlink(&mut self, key: u32) {
        let Entry { older, newer, .. } = self.entries[key as usize];
        match older {
            NIL => self.tail = newer,
            _ => self.entries[older as usize].newer = newer,
        }
        match newer {
            NIL => self.head = older,
            _ => self.entries[newer as usize].older = older,
        }
    }

    #[inline]
    fn push_head(&mut self, key: u32) {
        let old_head = self.head;
        let entry = &mut self.entries[key as usize];
        entry.older = old_head;
        entry.newer = NIL;
        match old_head {
            NIL => self.tail = key,
            _ => self.entries[old_head as usize].newer = key,
        }
        self.head = key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ledger::DiscardLedger;

    fn table(keys: u64) -> KeyTable {
        use crate::sim::config::*;
        let mut names = KeyNames::new();
        (0..keys).for_each(|id| names.push_number(id));
        let trace = Trace {
            source: "test".into(),
            key_names: names,
            records: TraceRecords::new(),
            read_through: true,
            per_record_db: false,
            notes: Default::default(),
            prefix_separator: ":".into(),
        };
        let client = ClientConfig::new(
            "c",
            Workload::Trace(TraceWorkload {
                trace: std::sync::Arc::new(trace),
                rate: None,
            }),
        );
        KeyTable::from_clients(&[client]).0
    }

    #[test]
    fn exact_lru_evicts_the_least_recently_used_and_remembers_when() {
        let keys = table(4);
        let mut keyspace = Keyspace::new(0, MaxmemoryPolicy::LruExact, 30, 16, &keys);
        let mut sink = DiscardLedger;
        let mut ledger = Ledger::new(&mut sink, keys.groups().len());
        let mut rows = Rows {
            now_us: 7,
            ledger: &mut ledger,
            keys: &keys,
        };
        for key in 0..3 {
            keyspace.insert(KeyId(key), 10, Actor::client(0), NEVER_REMOVED, &mut rows);
        }
        assert!(matches!(keyspace.get(KeyId(0), 0), Found::Hit { .. }));
        rows.now_us = 9;
        keyspace.insert(KeyId(3), 10, Actor::client(0), NEVER_REMOVED, &mut rows);
        assert_eq!(
            keyspace.get(KeyId(1), 0),
            Found::Miss {
                removed_at_us: Some(9)
            }
        );
        assert!(keyspace.contains(KeyId(0)) && keyspace.contains(KeyId(2)));
        assert_eq!((keyspace.used, keyspace.live, keyspace.evicted), (30, 3, 1));
        assert_eq!(keyspace.key_len(KeyId(3)), 1);
    }
}
