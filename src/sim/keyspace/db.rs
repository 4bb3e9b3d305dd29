//! One Redis database (`redisDb`): the main dict, the expires dict, and per key the value's
//! metadata in a dense slot indexed by key id.
//!
//! A slot is 32 bytes and holds no strings; aggregates (hash, list, set, zset) keep their element
//! model in a side table. The database keeps a running total of the bytes its entries cost in
//! `used_memory` (dict entries, key sds, values, expires entries); bucket arrays come from the
//! dicts. Slots are allocated on the database's first write, so unused databases cost nothing.

use std::collections::BTreeMap;

use crate::sim::keyspace::dict::{Dict, ExpandGuard, Links};
use crate::sim::keyspace::memory::{key_bytes, DICT_ENTRY_BYTES, ROBJ_BYTES};
use crate::sim::keyspace::value::Aggregate;
use crate::sim::ledger::{Actor, Cause, KeyId};

/// No TTL.
pub const NO_EXPIRE: u64 = u64::MAX;

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ValueKind {
    Absent = 0,
    Embstr,
    Raw,
    /// An integer in its own object; `Slot::value` is the integer.
    Int,
    /// A shared integer object (0..9999); `Slot::value` is the integer.
    SharedInt,
    Hash,
    List,
    Set,
    Zset,
}

impl ValueKind {
    const ALL: [ValueKind; 9] = [
        ValueKind::Absent,
        ValueKind::Embstr,
        ValueKind::Raw,
        ValueKind::Int,
        ValueKind::SharedInt,
        ValueKind::Hash,
        ValueKind::List,
        ValueKind::Set,
        ValueKind::Zset,
    ];

    /// The kind stored as `code` in a slot; only `set_kind` writes codes, so it is always one
    /// of `ALL`.
    fn from_code(code: u8) -> ValueKind {
        let index = usize::from(code);
        assert!(index < ValueKind::ALL.len(), "slot kind code {code}");
        ValueKind::ALL[index]
    }

    pub fn is_string(self) -> bool {
        matches!(
            self,
            ValueKind::Embstr | ValueKind::Raw | ValueKind::Int | ValueKind::SharedInt
        )
    }

    pub fn is_integer(self) -> bool {
        matches!(self, ValueKind::Int | ValueKind::SharedInt)
    }

    /// Redis's TYPE reply.
    pub fn type_name(self) -> &'static str {
        match self {
            ValueKind::Absent => "none",
            ValueKind::Embstr | ValueKind::Raw | ValueKind::Int | ValueKind::SharedInt => "string",
            ValueKind::Hash => "hash",
            ValueKind::List => "list",
            ValueKind::Set => "set",
            ValueKind::Zset => "zset",
        }
    }
}

/// Per-key state in one database: 24 bytes, with no strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Absolute deadline in Unix ms (`NO_EXPIRE` for none).
    pub expire_unix_ms: u64,
    /// Strings: the value's bytes; integers: the integer; aggregates: their bytes. Absent: the
    /// microseconds of the removal past `changed_since_start_ms` (see `removed_since_start_us`).
    pub value: u32,
    /// The value kind in the top 8 bits; the 24-bit LRU clock or LFU (minutes << 8 | counter)
    /// field in the low 24, as in Redis's `redisObject`.
    kind_lru: u32,
    /// Present: when the TTL was set; absent: when the key was removed (its microseconds in
    /// `value`). Virtual time, ms since the run began.
    pub changed_since_start_ms: u32,
    /// Present: the last writer. Absent: who removed it.
    pub actor: Actor,
    /// Present: who set the TTL (an actor id). Absent: the removal's `Cause` code, 0 if none.
    aux: u16,
}

impl Slot {
    pub const EMPTY: Slot = Slot {
        expire_unix_ms: NO_EXPIRE,
        value: 0,
        kind_lru: 0,
        changed_since_start_ms: 0,
        actor: Actor::SERVER,
        aux: 0,
    };

    /// An absent slot remembering why and when its key went.
    fn gone(cause: Cause, by: Actor, since_start_us: u64) -> Slot {
        Slot {
            changed_since_start_ms: (since_start_us / 1000).min(u64::from(u32::MAX)) as u32,
            value: (since_start_us % 1000) as u32,
            actor: by,
            aux: cause as u16,
            ..Slot::EMPTY
        }
    }

    #[inline]
    pub fn kind(&self) -> ValueKind {
        ValueKind::from_code((self.kind_lru >> 24) as u8)
    }

    #[inline]
    fn set_kind(&mut self, kind: ValueKind) {
        self.kind_lru = (self.kind_lru & LRU_MASK) | ((kind as u32) << 24);
    }

    /// The 24-bit LRU/LFU field.
    #[inline]
    pub fn lru(&self) -> u32 {
        self.kind_lru & LRU_MASK
    }

    #[inline]
    pub fn set_lru(&mut self, lru: u32) {
        self.kind_lru = (self.kind_lru & !LRU_MASK) | (lru & LRU_MASK);
    }

    #[inline]
    pub fn is_present(&self) -> bool {
        self.kind() != ValueKind::Absent
    }

    #[inline]
    pub fn is_volatile(&self) -> bool {
        self.expire_unix_ms != NO_EXPIRE
    }

    /// Who set the TTL of a present key.
    pub fn ttl_by(&self) -> Actor {
        Actor(self.aux)
    }

    /// Bytes of the value object.
    #[inline]
    pub fn value_bytes(&self) -> u64 {
        match self.kind() {
            ValueKind::Absent | ValueKind::SharedInt => 0,
            ValueKind::Int => ROBJ_BYTES,
            _ => u64::from(self.value),
        }
    }

    /// When an absent key was removed (or its write refused), in µs since the run began: the
    /// ledger row's own precision.
    pub fn removed_since_start_us(&self) -> u64 {
        debug_assert!(!self.is_present());
        u64::from(self.changed_since_start_ms) * 1000 + u64::from(self.value)
    }

    /// The cause of an absent key's last removal.
    pub fn gone_cause(&self) -> Option<Cause> {
        if self.is_present() {
            return None;
        }
        u8::try_from(self.aux).ok().and_then(Cause::from_code)
    }
}

const LRU_MASK: u32 = (1 << 24) - 1;

/// A key's slot, its link in the keyspace dict's chain and the length its last SET sent,
/// aligned to 32 bytes: they share one cache line and no entry straddles two. A command reads
/// the slot and a GET the length; eviction sampling and removal read the slot and the link: one
/// random line a key, where a 24-byte slot straddled two lines three times in eight and the link
/// and the length were lines of arrays of their own. Link and length sit outside the slot,
/// which callers replace whole.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
pub struct Entry {
    slot: Slot,
    link: u32,
    /// The length of the key's last string value as SET sent it (`NO_SENT_LEN`: none): the
    /// slot keeps the value's allocation, which jemalloc's classes round up by as much as a
    /// quarter, while a GET's reply carries the length.
    sent_len: u32,
}

/// In `Entry::sent_len`: no SET has sent this key a value here.
const NO_SENT_LEN: u32 = u32::MAX;

impl Entry {
    const EMPTY: Entry = Entry {
        slot: Slot::EMPTY,
        link: u32::MAX,
        sent_len: NO_SENT_LEN,
    };
}

/// The keyspace's entries, one per key id: the main dict's links (`dict::Links`) and the
/// slots beside them.
#[derive(Debug, Clone, Default)]
pub struct Entries(Vec<Entry>);

impl Links for Entries {
    #[inline]
    fn link(&self, key: u32) -> u32 {
        self.0[key as usize].link
    }

    #[inline]
    fn set_link(&mut self, key: u32, next: u32) {
        self.0[key as usize].link = next;
    }

    /// Allocated with the database (`Db::ensure_allocated`).
    fn ensure(&mut self, capacity: usize) {
        assert!(
            self.0.len() >= capacity,
            "entries allocated with the database"
        );
    }

    #[inline]
    fn prefetch_link(&self, key: u32) {
        if let Some(entry) = self.0.get(key as usize) {
            crate::sim::keyspace::prefetch(entry);
        }
    }
}

/// The bytes of one keyspace entry, excluding its value: dictEntry and key sds, plus the expires
/// dictEntry (the key sds is shared) when volatile.
#[inline]
pub fn entry_overhead_bytes(key_len: u64, volatile: bool) -> u64 {
    DICT_ENTRY_BYTES + key_bytes(key_len) + if volatile { DICT_ENTRY_BYTES } else { 0 }
}

#[derive(Debug, Clone)]
pub struct Db {
    pub index: u32,
    /// Raw memory model: count value bytes only.
    raw: bool,
    /// The keyspace dict, whose links share their cache lines with the slots (`Entries`).
    pub main: Dict<Entries>,
    pub expires: Dict,
    aggregates: BTreeMap<u32, Aggregate>,
    /// Running total of entry and value bytes (not bucket arrays).
    entry_bytes: u64,
    /// INFO keyspace avg_ttl (ms), maintained by the active expire cycle.
    pub avg_ttl_ms: u64,
    /// The active expire cycle's persistent bucket cursor.
    pub expires_cursor: u64,
}

impl Db {
    pub fn new(index: u32, raw: bool) -> Db {
        Db {
            index,
            raw,
            main: Dict::with_links(Entries::default(), 0, 0),
            expires: Dict::new(0, 0),
            aggregates: BTreeMap::new(),
            entry_bytes: 0,
            avg_ttl_ms: 0,
            expires_cursor: 0,
        }
    }

    /// Allocates the slots on first use; `hash_seed` is the node's dict hash seed.
    pub fn ensure_allocated(&mut self, key_capacity: usize, hash_seed: u64) {
        if self.entries().len() < key_capacity {
            let entries = Entries(super::filled_vec(Entry::EMPTY, key_capacity));
            self.main = Dict::with_links(entries, key_capacity, hash_seed);
            self.expires = Dict::new(key_capacity, hash_seed);
        }
    }

    pub fn is_allocated(&self) -> bool {
        !self.entries().is_empty()
    }

    #[inline]
    fn entries(&self) -> &[Entry] {
        &self.main.links().0
    }

    #[inline]
    fn slot_entry_mut(&mut self, key: KeyId) -> &mut Slot {
        &mut self.main.links_mut().0[key.0 as usize].slot
    }

    #[inline]
    pub fn slot(&self, key: KeyId) -> &Slot {
        // A database never written has no slots: every key there is empty. An allocated one has
        // a slot for every key of the table.
        let entries = self.entries();
        if entries.is_empty() {
            return &Slot::EMPTY;
        }
        &entries[key.0 as usize].slot
    }

    /// Hints the CPU to load `key`'s slot, which every command on the key reads first (and
    /// eviction reads for the keys it sampled). See `keyspace::prefetch`; the dict is left
    /// alone: reads do not touch it, and each hint that misses the TLB costs a page walk.
    #[inline]
    pub fn prefetch_slot(&self, key: KeyId) {
        if let Some(entry) = self.entries().get(key.0 as usize) {
            crate::sim::keyspace::prefetch(entry);
        }
    }

    /// The length of `key`'s last string value as a SET sent it, if one did. Used only while
    /// the slot's allocation still matches it (`Node::hit_bytes`).
    #[inline]
    pub fn sent_len(&self, key: KeyId) -> Option<u32> {
        let len = self.entries().get(key.0 as usize)?.sent_len;
        (len != NO_SENT_LEN).then_some(len)
    }

    /// Records the length a SET sent for `key` (`u32::MAX` reads back as none; values stop at
    /// `proto-max-bulk-len`'s 512 MB); the database must be allocated.
    pub fn record_sent_len(&mut self, key: KeyId, len: u32) {
        self.main.links_mut().0[key.0 as usize].sent_len = len;
    }

    /// Mutable slot; the database must be allocated.
    #[inline]
    pub fn slot_mut(&mut self, key: KeyId) -> &mut Slot {
        self.slot_entry_mut(key)
    }

    #[inline]
    pub fn contains(&self, key: KeyId) -> bool {
        self.slot(key).is_present()
    }

    pub fn key_count(&self) -> u64 {
        self.main.len()
    }

    pub fn volatile_count(&self) -> u64 {
        self.expires.len()
    }

    /// Entry, value and bucket-array bytes of this database.
    #[inline]
    pub fn used_bytes(&self) -> u64 {
        if self.raw {
            return self.entry_bytes;
        }
        self.entry_bytes + self.main.bucket_bytes() + self.expires.bucket_bytes()
    }

    fn overhead(&self, key_len: u64, volatile: bool) -> u64 {
        if self.raw {
            0
        } else {
            entry_overhead_bytes(key_len, volatile)
        }
    }

    fn expires_entry_bytes(&self) -> u64 {
        if self.raw {
            0
        } else {
            DICT_ENTRY_BYTES
        }
    }

    /// Adds an absent key with its value (no TTL). The caller sets lru and actor.
    pub fn add(
        &mut self,
        key: KeyId,
        key_len: u64,
        kind: ValueKind,
        value: u32,
        guard: &ExpandGuard,
    ) {
        debug_assert!(!self.contains(key));
        self.main.insert(key, guard);
        let slot = self.slot_entry_mut(key);
        *slot = Slot::EMPTY;
        slot.set_kind(kind);
        slot.value = value;
        let value_bytes = slot.value_bytes();
        self.entry_bytes += self.overhead(key_len, false) + value_bytes;
    }

    /// Replaces the value of a present key in place (keeps its TTL).
    pub fn replace_value(&mut self, key: KeyId, kind: ValueKind, value: u32) {
        let before = self.slot(key).value_bytes();
        let slot = self.slot_entry_mut(key);
        slot.set_kind(kind);
        slot.value = value;
        let after = slot.value_bytes();
        self.entry_bytes = self.entry_bytes - before + after;
    }

    /// Sets the absolute deadline of a present key, remembering who set it and when.
    pub fn set_expire(
        &mut self,
        key: KeyId,
        expire_unix_ms: u64,
        by: Actor,
        since_start_ms: u32,
        guard: &ExpandGuard,
    ) {
        debug_assert!(expire_unix_ms != NO_EXPIRE);
        let slot = self.slot_entry_mut(key);
        let was_volatile = slot.is_volatile();
        slot.expire_unix_ms = expire_unix_ms;
        slot.aux = by.0;
        slot.changed_since_start_ms = since_start_ms;
        if !was_volatile {
            self.entry_bytes += self.expires_entry_bytes();
            self.expires.insert(key, guard);
        }
    }

    /// Removes the TTL of a present key; false if it had none.
    pub fn persist(&mut self, key: KeyId) -> bool {
        let slot = self.slot_entry_mut(key);
        if !slot.is_volatile() {
            return false;
        }
        slot.expire_unix_ms = NO_EXPIRE;
        self.entry_bytes -= self.expires_entry_bytes();
        self.expires.remove(key);
        true
    }

    /// Removes a present key and records why. Returns the slot as it was.
    pub fn remove(
        &mut self,
        key: KeyId,
        key_len: u64,
        cause: Cause,
        by: Actor,
        since_start_us: u64,
    ) -> Slot {
        let slot = *self.slot(key);
        // Removing an absent key would take its entry's bytes off the total a second time.
        assert!(
            slot.is_present(),
            "db{}: removing absent key {}",
            self.index,
            key.0
        );
        self.main.remove(key);
        if slot.is_volatile() {
            self.expires.remove(key);
        }
        if matches!(
            slot.kind(),
            ValueKind::Hash | ValueKind::List | ValueKind::Set | ValueKind::Zset
        ) {
            self.aggregates.remove(&key.0);
        }
        self.entry_bytes -= self.overhead(key_len, slot.is_volatile()) + slot.value_bytes();
        *self.slot_entry_mut(key) = Slot::gone(cause, by, since_start_us);
        slot
    }

    /// Marks an absent key with a cause without a removal (a refused write).
    pub fn mark_absent_cause(&mut self, key: KeyId, cause: Cause, by: Actor, since_start_us: u64) {
        if let Some(entry) = self.main.links_mut().0.get_mut(key.0 as usize) {
            if !entry.slot.is_present() {
                entry.slot = Slot::gone(cause, by, since_start_us);
            }
        }
    }

    pub fn aggregate(&self, key: KeyId) -> Option<&Aggregate> {
        self.aggregates.get(&key.0)
    }

    pub fn aggregate_mut(&mut self, key: KeyId) -> Option<&mut Aggregate> {
        self.aggregates.get_mut(&key.0)
    }

    pub fn insert_aggregate(&mut self, key: KeyId, aggregate: Aggregate) {
        self.aggregates.insert(key.0, aggregate);
    }

    pub fn remove_aggregate(&mut self, key: KeyId) {
        self.aggregates.remove(&key.0);
    }

    /// Every present key, in dict bucket order (as SCAN/KEYS would visit them).
    pub fn keys_in_bucket_order(&self) -> Vec<KeyId> {
        let mut keys = Vec::with_capacity(self.main.len() as usize);
        for table in 0..2 {
            for bucket in 0..self.main.table_size(table) as u64 {
                self.main.bucket_keys(table, bucket, &mut keys);
            }
        }
        keys
    }

    /// Empties the database (FLUSHDB), marking every removed key. Returns the removed keys.
    pub fn flush(&mut self, cause: Cause, by: Actor, since_start_us: u64) -> Vec<KeyId> {
        let keys = self.keys_in_bucket_order();
        for &key in &keys {
            *self.slot_entry_mut(key) = Slot::gone(cause, by, since_start_us);
        }
        self.main.clear();
        self.expires.clear();
        self.aggregates.clear();
        self.entry_bytes = 0;
        self.avg_ttl_ms = 0;
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_24_bytes_and_an_entry_one_aligned_half_line() {
        assert_eq!(std::mem::size_of::<Slot>(), 24);
        assert_eq!(std::mem::size_of::<Entry>(), 32);
        assert_eq!(std::mem::align_of::<Entry>(), 32);
    }

    #[test]
    fn replacing_a_slot_whole_keeps_the_chain() {
        let mut db = Db::new(0, false);
        db.ensure_allocated(64, 9);
        for id in 0..64 {
            db.add(KeyId(id), 4, ValueKind::Embstr, 10, &ExpandGuard::UNLIMITED);
        }
        for id in (0..64).step_by(3) {
            *db.slot_mut(KeyId(id)) = Slot::EMPTY;
            db.slot_mut(KeyId(id)).set_kind(ValueKind::Int);
        }
        let mut keys: Vec<u32> = db.keys_in_bucket_order().iter().map(|k| k.0).collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..64).collect::<Vec<u32>>());
        db.remove(KeyId(5), 4, Cause::Deleted, Actor::OPERATOR, 0);
        assert_eq!(db.keys_in_bucket_order().len(), 63);
    }

    #[test]
    fn sent_lengths_are_kept_per_key_beside_the_slot() {
        let mut db = Db::new(0, false);
        assert_eq!(
            db.sent_len(KeyId(3)),
            None,
            "an unallocated database has none"
        );
        db.ensure_allocated(8, 1);
        assert_eq!(db.sent_len(KeyId(3)), None);
        db.record_sent_len(KeyId(3), 100);
        db.record_sent_len(KeyId(5), 70_000);
        *db.slot_mut(KeyId(3)) = Slot::EMPTY;
        assert_eq!(db.sent_len(KeyId(3)), Some(100));
        assert_eq!(db.sent_len(KeyId(5)), Some(70_000));
        assert_eq!(db.sent_len(KeyId(4)), None);
        assert_eq!(db.sent_len(KeyId(99)), None, "past the key table");
    }

    #[test]
    fn kind_and_lru_share_a_word_without_clobbering() {
        let mut slot = Slot::EMPTY;
        slot.set_kind(ValueKind::Zset);
        slot.set_lru(0xFF_FFFF);
        assert_eq!(slot.kind(), ValueKind::Zset);
        assert_eq!(slot.lru(), 0xFF_FFFF);
        slot.set_kind(ValueKind::Embstr);
        assert_eq!(slot.lru(), 0xFF_FFFF);
        let gone = Slot::gone(Cause::Flushed, Actor::OPERATOR, 7_123_456);
        assert_eq!(gone.gone_cause(), Some(Cause::Flushed));
        assert_eq!(gone.changed_since_start_ms, 7_123);
        assert_eq!(
            gone.removed_since_start_us(),
            7_123_456,
            "to the microsecond"
        );
        assert_eq!(gone.value_bytes(), 0);
        assert_eq!(Slot::EMPTY.gone_cause(), None);
    }
}
