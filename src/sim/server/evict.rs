//! Eviction under `maxmemory` (src/evict.c, 7.0): `performEvictions` before every command, the
//! global 16-entry eviction pool with scores frozen at sampling time, `dictGetSomeKeys`
//! sampling per database, random policies rotating over databases, the tenacity time limit with
//! its continuation, and OOM rejection of DENYOOM commands. The reference policies (exact LRU,
//! OPT) instead make room for each write exactly, as classic cache simulators do.
//!
//! Like the expire cycle, the time limit is charged with modelled costs (per sampled and per
//! evicted key) rather than measured time.

use crate::sim::config::{CommandKind, MaxmemoryPolicy};
use crate::sim::keyspace::db::{entry_overhead_bytes, ValueKind};
use crate::sim::keyspace::lru;
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, LedgerEntry};
use crate::sim::reference::exact::NEVER;
use crate::sim::server::node::{Argument, ErrorReply, Ledger, Node, Reply, Request};

/// `EVPOOL_SIZE`.
pub const EVPOOL_SIZE: usize = 16;
/// Modelled cost of sampling one key, ns.
const SAMPLED_KEY_COST_NS: u64 = 100;
/// Modelled cost of deleting one evicted key and propagating it, ns.
const EVICTED_KEY_COST_NS: u64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolEntry {
    /// Higher is a better candidate (idle ms, 255 − LFU counter, or ULLONG_MAX − deadline).
    pub score: u64,
    pub key: KeyId,
    pub db: u32,
    pub used: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictResult {
    /// Under the limit (or freed enough).
    Ok,
    /// Stopped at the time limit; continues from beforeSleep. Not a failure.
    Running,
    /// Over the limit with nothing (allowed) to evict.
    Fail,
}

/// `evictionTimeLimitUs`.
fn eviction_time_limit_us(tenacity: u32) -> u64 {
    match tenacity {
        0..=10 => 50 * u64::from(tenacity),
        11..=99 => (500.0 * libm::pow(1.15, f64::from(tenacity - 10))) as u64,
        _ => u64::MAX,
    }
}

impl CommandKind {
    /// Commands with Redis's DENYOOM flag: refused under memory pressure.
    pub fn is_denyoom(self) -> bool {
        matches!(
            self,
            CommandKind::Set
                | CommandKind::Incr
                | CommandKind::Hset
                | CommandKind::Lpush
                | CommandKind::Sadd
                | CommandKind::Zadd
        )
    }
}

impl Node {
    /// `getMaxmemoryState`: the bytes to free, or None when within the limit.
    fn memory_to_free(&self) -> Option<u64> {
        let maxmemory = self.config.maxmemory_bytes;
        if maxmemory == 0 {
            return None;
        }
        let used = self.used_memory();
        if used <= maxmemory {
            return None;
        }
        let logical = used.saturating_sub(self.mem_not_counted_for_evict());
        (logical > maxmemory).then(|| logical - maxmemory)
    }

    /// Bytes that do not count toward maxmemory (replica buffers beyond the backlog, the AOF
    /// buffer): none are modelled yet.
    pub fn mem_not_counted_for_evict(&self) -> u64 {
        0
    }

    fn note_eviction_state(&mut self, result: EvictResult) {
        match result {
            EvictResult::Running | EvictResult::Fail => {
                if self.eviction_exceeded_since_us.is_none() {
                    self.eviction_exceeded_since_us = Some(self.now_us);
                }
            }
            EvictResult::Ok => {
                if let Some(since) = self.eviction_exceeded_since_us.take() {
                    self.stats.total_eviction_exceeded_time_ms += (self.now_us - since) / 1000;
                }
            }
        }
    }

    /// `performEvictions`.
    pub fn perform_evictions(&mut self, ledger: &mut Ledger) -> EvictResult {
        let result = self.evict_until_within_limit(ledger);
        self.note_eviction_state(result);
        result
    }

    fn evict_until_within_limit(&mut self, ledger: &mut Ledger) -> EvictResult {
        let Some(to_free) = self.memory_to_free() else {
            return EvictResult::Ok;
        };
        let policy = self.config.maxmemory_policy;
        if policy == MaxmemoryPolicy::NoEviction {
            return EvictResult::Fail;
        }
        if policy.is_reference() {
            // Reference caches evict at write time (`make_room`); over the limit here means
            // the limit was lowered: shed the reference order's victims.
            return self.shed_reference_victims(ledger);
        }
        let time_limit_us = eviction_time_limit_us(self.config.maxmemory_eviction_tenacity);
        let mut elapsed_ns = 0u64;
        let mut freed = 0i64;
        let mut keys_freed = 0u64;
        while freed < to_free as i64 {
            let choice = match policy {
                MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom => {
                    self.random_victim(policy == MaxmemoryPolicy::VolatileRandom)
                }
                _ => self.pool_victim(policy, &mut elapsed_ns),
            };
            let Some((db, key, score)) = choice else {
                return EvictResult::Fail;
            };
            let before = self.used_memory() as i64;
            self.evict_key(db, key, policy, score, ledger);
            freed += before - self.used_memory() as i64;
            keys_freed += 1;
            elapsed_ns += EVICTED_KEY_COST_NS;
            if keys_freed.is_multiple_of(16) && elapsed_ns / 1000 > time_limit_us {
                self.eviction_running = true;
                break;
            }
        }
        if self.eviction_running {
            EvictResult::Running
        } else {
            EvictResult::Ok
        }
    }

    /// The eviction timer's continuation (`evictionTimeProc`), run from beforeSleep.
    pub fn continue_evictions(&mut self, ledger: &mut Ledger) {
        if self.perform_evictions(ledger) != EvictResult::Running {
            self.eviction_running = false;
        }
    }

    fn evict_key(
        &mut self,
        db: u32,
        key: KeyId,
        policy: MaxmemoryPolicy,
        score: u64,
        ledger: &mut Ledger,
    ) {
        let detail = Detail::Eviction {
            policy,
            score,
            used_memory: self.used_memory(),
            maxmemory: self.config.maxmemory_bytes,
        };
        self.remove_key(db, key, Cause::Evicted, Actor::SERVER, detail, ledger);
        self.stats.evicted_keys += 1;
    }

    /// allkeys-random / volatile-random: the next non-empty database after the last one used
    /// (the static `next_db`, pre-incremented), and a `dictGetRandomKey` there.
    fn random_victim(&mut self, volatile: bool) -> Option<(u32, KeyId, u64)> {
        let dbnum = self.dbs.len() as u32;
        for _ in 0..dbnum {
            self.random_next_db = self.random_next_db.wrapping_add(1);
            let db = self.random_next_db % dbnum;
            let database = &mut self.dbs[db as usize];
            let dict = if volatile {
                &mut database.expires
            } else {
                &mut database.main
            };
            if let Some(key) = dict.get_random_key(&mut self.evict_stream) {
                return Some((db, key, 0));
            }
        }
        None
    }

    /// The score a sampled key enters the pool with (`evictionPoolPopulate`).
    fn pool_score(&self, policy: MaxmemoryPolicy, db: u32, key: KeyId) -> u64 {
        let slot = self.dbs[db as usize].slot(key);
        match policy {
            MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => {
                lru::estimate_idle_ms(self.lru_clock, slot.lru())
            }
            MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
                255 - u64::from(lru::lfu_decayed_counter(
                    self.unix_ms(),
                    slot.lru(),
                    self.config.lfu_decay_time,
                ))
            }
            _ => u64::MAX - slot.expire_ms,
        }
    }

    /// Samples `maxmemory-samples` keys of every non-empty database into the pool, then takes the
    /// best entry that still exists, skipping ghosts; samples again while the pool empties.
    fn pool_victim(
        &mut self,
        policy: MaxmemoryPolicy,
        elapsed_ns: &mut u64,
    ) -> Option<(u32, KeyId, u64)> {
        let volatile = policy.is_volatile();
        let samples = self.config.maxmemory_samples as usize;
        let mut sampled = std::mem::take(&mut self.scratch);
        loop {
            let mut total_keys = 0;
            for db in 0..self.dbs.len() as u32 {
                let database = &mut self.dbs[db as usize];
                let dict = if volatile {
                    &mut database.expires
                } else {
                    &mut database.main
                };
                if dict.is_empty() {
                    continue;
                }
                total_keys += dict.len();
                sampled.clear();
                dict.get_some_keys(samples, &mut self.evict_stream, &mut sampled);
                *elapsed_ns += sampled.len() as u64 * SAMPLED_KEY_COST_NS;
                for &key in &sampled {
                    if volatile && policy != MaxmemoryPolicy::VolatileTtl {
                        // The value lives in the main dict: a lookup there (one rehash step).
                        self.dbs[db as usize].main.on_lookup();
                    }
                    let score = self.pool_score(policy, db, key);
                    pool_insert(
                        &mut self.eviction_pool,
                        PoolEntry {
                            score,
                            key,
                            db,
                            used: true,
                        },
                    );
                }
            }
            if total_keys == 0 {
                self.scratch = sampled;
                return None;
            }
            for index in (0..EVPOOL_SIZE).rev() {
                let entry = self.eviction_pool[index];
                if !entry.used {
                    continue;
                }
                self.eviction_pool[index] = PoolEntry::default();
                let database = &mut self.dbs[entry.db as usize];
                let dict = if volatile {
                    &mut database.expires
                } else {
                    &mut database.main
                };
                dict.on_lookup();
                let slot = database.slot(entry.key);
                let exists = slot.is_present() && (!volatile || slot.is_volatile());
                if exists {
                    self.scratch = sampled;
                    return Some((entry.db, entry.key, self.ledger_score(policy, entry)));
                }
            }
        }
    }

    /// What the ledger says about a victim: idle ms, LFU counter, or TTL ms left.
    fn ledger_score(&self, policy: MaxmemoryPolicy, entry: PoolEntry) -> u64 {
        match policy {
            MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => 255 - entry.score,
            MaxmemoryPolicy::VolatileTtl => (u64::MAX - entry.score).saturating_sub(self.unix_ms()),
            _ => entry.score,
        }
    }

    /// Reference policies: evict in reference order until within the limit.
    pub(crate) fn shed_reference_victims(&mut self, ledger: &mut Ledger) -> EvictResult {
        while self.memory_to_free().is_some() {
            if !self.evict_reference_victim(ledger) {
                return EvictResult::Fail;
            }
        }
        EvictResult::Ok
    }

    fn evict_reference_victim(&mut self, ledger: &mut Ledger) -> bool {
        let dbs = &self.dbs;
        let Some(reference) = self.reference.as_mut() else {
            return false;
        };
        let Some((db, key)) = reference.victim(|db, key| dbs[db as usize].contains(key)) else {
            return false;
        };
        let score = reference.score(db, key);
        let policy = self.config.maxmemory_policy;
        self.evict_key(db, key, policy, score, ledger);
        true
    }

    /// Reference policies: before a write, evict until the new value fits. False if it cannot
    /// fit at all (larger than the whole cache, or nothing left to evict).
    pub(crate) fn make_room(&mut self, request: &Request, ledger: &mut Ledger) -> bool {
        let maxmemory = self.config.maxmemory_bytes;
        let new_bytes = match request.argument {
            Argument::Value { len, .. } => self.string_value(len).1 as u64,
            _ => 0,
        };
        let key_len = self.key_len_for_memory(request.key);
        loop {
            let slot = *self.dbs[request.db as usize].slot(request.key);
            let live =
                slot.is_present() && !(slot.is_volatile() && self.unix_ms() > slot.expire_ms);
            let incoming = if live && request.command == CommandKind::Set {
                new_bytes.saturating_sub(slot.value_bytes())
            } else if live {
                0
            } else {
                new_bytes + self.entry_overhead(key_len)
            };
            if incoming > maxmemory {
                return false;
            }
            // OPT inserts first and then evicts the key used furthest ahead, which may be the new
            // one (Belady with bypass); exact LRU makes room before inserting (libCacheSim).
            if self.used_memory() + incoming <= maxmemory
                || self.config.maxmemory_policy == MaxmemoryPolicy::Opt
            {
                return true;
            }
            if !self.evict_reference_victim(ledger) {
                return false;
            }
        }
    }

    /// An OOM rejection: counted as Redis counts it, reported in the ledger, and remembered on
    /// the key so that a later miss names it.
    pub(crate) fn reject_oom(&mut self, request: &Request, ledger: &mut Ledger) -> Reply {
        let index = request.command as usize;
        self.count_rejected(index, ErrorReply::Oom);
        let at_ms = (self.now_us / 1000).min(u64::from(u32::MAX)) as u32;
        let database = &mut self.dbs[request.db as usize];
        if database.is_allocated() && !database.contains(request.key) {
            database.mark_absent_cause(request.key, Cause::OomRejected, request.client, at_ms);
        }
        let entry = LedgerEntry {
            time_us: self.now_us,
            node: self.id,
            db: request.db,
            key: request.key,
            kind: EntryKind::Rejected,
            cause: Cause::OomRejected,
            actor: request.client,
            detail: Detail::Command {
                command: request.command,
                by: request.client,
            },
        };
        ledger.record(entry, self.keys.family_of(request.key));
        Reply::Error(ErrorReply::Oom)
    }

    /// The next-use hint of a request (OPT), or NEVER.
    pub(crate) fn next_use_of(request: &Request) -> u64 {
        if request.next_use == 0 {
            NEVER
        } else {
            request.next_use
        }
    }

    /// Bytes of a string value of `len` bytes under the memory model.
    pub(crate) fn string_value(&self, len: u32) -> (ValueKind, u32) {
        if self.raw_memory() {
            return (ValueKind::Raw, len);
        }
        let (encoding, bytes) = crate::sim::keyspace::memory::string_value_bytes(u64::from(len));
        let kind = match encoding {
            crate::sim::keyspace::memory::StringEncoding::Embstr => ValueKind::Embstr,
            _ => ValueKind::Raw,
        };
        (kind, bytes.min(u64::from(u32::MAX)) as u32)
    }

    /// Entry overhead of a new key under the memory model.
    pub(crate) fn entry_overhead(&self, key_len: u64) -> u64 {
        if self.raw_memory() {
            0
        } else {
            entry_overhead_bytes(key_len, false)
        }
    }
}

/// Inserts a sample into the pool as `evictionPoolPopulate` does: ascending scores, best on the
/// right; a sample worse than everything in a full pool is dropped; equal scores land left of
/// existing ones; no duplicate check.
pub fn pool_insert(pool: &mut [PoolEntry; EVPOOL_SIZE], sample: PoolEntry) {
    let mut k = 0;
    while k < EVPOOL_SIZE && pool[k].used && pool[k].score < sample.score {
        k += 1;
    }
    if k == 0 && pool[EVPOOL_SIZE - 1].used {
        return;
    }
    if k < EVPOOL_SIZE && !pool[k].used {
        // An empty slot: insert as is.
    } else if !pool[EVPOOL_SIZE - 1].used {
        pool.copy_within(k..EVPOOL_SIZE - 1, k + 1);
    } else {
        k -= 1;
        pool.copy_within(1..=k, 0);
    }
    pool[k] = sample;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(score: u64) -> PoolEntry {
        PoolEntry {
            score,
            key: KeyId(score as u32),
            db: 0,
            used: true,
        }
    }

    #[test]
    fn the_pool_keeps_the_sixteen_best_in_ascending_order() {
        let mut pool = [PoolEntry::default(); EVPOOL_SIZE];
        for score in [50, 10, 30, 20, 40] {
            pool_insert(&mut pool, entry(score));
        }
        let scores: Vec<u64> = pool.iter().filter(|e| e.used).map(|e| e.score).collect();
        assert_eq!(scores, vec![10, 20, 30, 40, 50]);
        for score in 100..120 {
            pool_insert(&mut pool, entry(score));
        }
        let scores: Vec<u64> = pool.iter().map(|e| e.score).collect();
        assert_eq!(
            scores,
            (104..120).collect::<Vec<u64>>(),
            "the worst are dropped"
        );
        pool_insert(&mut pool, entry(1));
        assert_eq!(
            pool[0].score, 104,
            "worse than everything in a full pool: dropped"
        );
        pool_insert(&mut pool, entry(110));
        assert_eq!(
            pool.iter().filter(|e| e.score == 110).count(),
            2,
            "no duplicate check"
        );
    }

    #[test]
    fn tenacity_time_limits() {
        assert_eq!(eviction_time_limit_us(10), 500);
        assert_eq!(eviction_time_limit_us(0), 0);
        assert_eq!(eviction_time_limit_us(20), 2022);
        assert_eq!(eviction_time_limit_us(100), u64::MAX);
    }
}
