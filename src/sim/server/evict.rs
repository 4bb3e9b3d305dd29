//! Eviction under `maxmemory` (src/evict.c, 7.0): `performEvictions` before every command, the
//! global 16-entry eviction pool with scores frozen at sampling time, `dictGetSomeKeys`
//! sampling per database, random policies rotating over databases, the tenacity time limit with
//! its continuation. The reference policies (exact LRU, OPT) instead make room for each write
//! exactly, as classic cache simulators do.
//!
//! The [`Evictor`] owns eviction's state (the pool, the random policies' cursor, the timer's
//! continuation, the over-limit episode, the reference policies' bookkeeping); the server it runs
//! in is reached only through [`EvictionHost`], so this module knows databases and the ledger,
//! not the node. Refusing a DENYOOM command with `-OOM` is the caller's business.
//!
//! Like the expire cycle, the time limit is charged with modelled costs (per sampled and per
//! evicted key) rather than measured time.

use crate::sim::config::{MaxmemoryPolicy, ServerConfig};
use crate::sim::keyspace::db::Db;
use crate::sim::keyspace::lru;
use crate::sim::ledger::watch::WatchEvent;
use crate::sim::ledger::{KeyId, Ledger};
use crate::sim::random::rng::{Lookahead, Stream};
use crate::sim::reference::exact::ReferenceCache;

/// Binds `$dict` to the dict a policy samples (the expires dict for volatile-*, the keyspace's
/// otherwise) and runs `$body` with it: the two are of different types, the keyspace keeping
/// its links beside its slots.
macro_rules! sampled_dict {
    ($volatile:expr, $expires:expr, $main:expr, |$dict:ident| $body:expr) => {
        if $volatile {
            let $dict = $expires;
            $body
        } else {
            let $dict = $main;
            $body
        }
    };
}

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

/// The clocks a node's eviction reads, fixed for the command being processed.
#[derive(Debug, Clone, Copy)]
pub struct Clocks {
    /// Virtual time since the start, µs.
    pub now_us: u64,
    pub unix_ms: u64,
    /// The cached 24-bit LRU clock.
    pub lru_clock: u32,
}

/// The settings sampling reads, copied out of the configuration.
#[derive(Debug, Clone, Copy)]
struct Sampling {
    policy: MaxmemoryPolicy,
    samples: usize,
    lfu_decay_time: u32,
}

impl Sampling {
    fn of(config: &ServerConfig) -> Sampling {
        Sampling {
            policy: config.maxmemory_policy,
            samples: config.maxmemory_samples as usize,
            lfu_decay_time: config.lfu_decay_time,
        }
    }
}

/// What eviction needs from the server it runs in.
pub trait EvictionHost {
    /// The evictor and the databases it samples, borrowed together.
    fn evictor_and_dbs(&mut self) -> (&mut Evictor, &mut [Db]);
    fn dbs(&self) -> &[Db];
    fn config(&self) -> &ServerConfig;
    fn clocks(&self) -> Clocks;
    /// INFO used_memory.
    fn used_memory(&self) -> u64;
    /// Bytes that do not count toward maxmemory.
    fn mem_not_counted_for_evict(&self) -> u64;
    /// Removes a victim as an eviction: the ledger row (with `score`), replication, stats.
    fn evict(&mut self, db: u32, key: KeyId, score: u64, ledger: &mut Ledger);
    /// An over-limit episode of `ms` just ended (INFO total_eviction_exceeded_time).
    fn add_eviction_exceeded_ms(&mut self, ms: u64);
}

/// A write a reference policy must make room for: its key and the bytes it brings.
#[derive(Debug, Clone, Copy)]
pub struct Incoming {
    pub db: u32,
    pub key: KeyId,
    /// A SET: a live key's old value is replaced, so only the difference is new.
    pub replaces_value: bool,
    pub value_bytes: u64,
    /// The entry's own bytes if the key is new.
    pub entry_bytes: u64,
}

/// Eviction's state on one node.
#[derive(Debug, Clone)]
pub struct Evictor {
    /// Read ahead: the next sampling's buckets load while commands run (`Lookahead`).
    stream: Lookahead,
    /// The global eviction pool (`EvictionPoolLRU`).
    pool: [PoolEntry; EVPOOL_SIZE],
    /// The random policies' `next_db`.
    random_next_db: u32,
    /// The eviction timer proc is active (the last call stopped at its time limit).
    running: bool,
    /// Start of the current over-maxmemory episode.
    exceeded_since_us: Option<u64>,
    /// Exact LRU or OPT bookkeeping, when the policy is a reference policy.
    reference: Option<ReferenceCache>,
    /// Reused buffer for sampled keys.
    sampled: Vec<KeyId>,
}

impl Evictor {
    pub fn new(stream: Stream, reference: Option<ReferenceCache>) -> Evictor {
        Evictor {
            stream: Lookahead::new(stream),
            pool: [PoolEntry::default(); EVPOOL_SIZE],
            random_next_db: 0,
            running: false,
            exceeded_since_us: None,
            reference,
            sampled: Vec::new(),
        }
    }

    /// Whether the eviction timer's continuation is due in beforeSleep.
    #[inline]
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// ms of the over-limit episode under way at `now_us` (0 when within the limit).
    pub fn current_exceeded_ms(&self, now_us: u64) -> u64 {
        self.exceeded_since_us
            .map_or(0, |since| now_us.saturating_sub(since) / 1000)
    }

    /// A key was read or written: the reference policy's order moves.
    #[inline]
    pub fn on_access(&mut self, db: u32, key: KeyId, next_use: u64) {
        if let Some(reference) = self.reference.as_mut() {
            reference.on_access(db, key, next_use);
        }
    }

    /// A key was added: the reference policy starts tracking it.
    #[inline]
    pub fn on_insert(&mut self, db: u32, key: KeyId, next_use: u64) {
        if let Some(reference) = self.reference.as_mut() {
            reference.on_insert(db, key, next_use);
        }
    }

    /// The keyspace was replaced wholesale: the reference order starts again from what is
    /// present, in bucket order.
    pub fn rebuild_reference(&mut self, dbs: &[Db]) {
        if let Some(reference) = self.reference.as_mut() {
            reference.rebuild(dbs.iter().flat_map(|database| {
                let keys = if database.is_allocated() {
                    database.keys_in_bucket_order()
                } else {
                    Vec::new()
                };
                keys.into_iter().map(move |key| (database.index, key))
            }));
        }
    }

    /// Keys a reference policy tracks (None for Redis's own policies).
    pub fn reference_live(&self) -> Option<u64> {
        self.reference.as_ref().map(ReferenceCache::live)
    }

    /// A key left the keyspace.
    #[inline]
    pub fn on_remove(&mut self, db: u32, key: KeyId) {
        if let Some(reference) = self.reference.as_mut() {
            reference.on_remove(db, key);
        }
    }

    /// allkeys-random / volatile-random: the next non-empty database after the last one used
    /// (the static `next_db`, pre-incremented), and a `dictGetRandomKey` there.
    fn random_victim(&mut self, dbs: &mut [Db], volatile: bool) -> Option<(u32, KeyId, u64)> {
        let dbnum = dbs.len() as u32;
        for _ in 0..dbnum {
            self.random_next_db = self.random_next_db.wrapping_add(1);
            let db = self.random_next_db % dbnum;
            let database = &mut dbs[db as usize];
            let stream = &mut self.stream;
            let random = sampled_dict!(
                volatile,
                &mut database.expires,
                &mut database.main,
                |dict| dict.get_random_key(stream)
            );
            if let Some(key) = random {
                return Some((db, key, 0));
            }
        }
        None
    }

    /// Samples `maxmemory-samples` keys of every non-empty database into the pool, then takes the
    /// best entry that still exists, skipping ghosts; samples again while the pool empties.
    fn pool_victim(
        &mut self,
        dbs: &mut [Db],
        sampling: Sampling,
        clocks: Clocks,
        elapsed_ns: &mut u64,
    ) -> Option<(u32, KeyId, u64)> {
        let policy = sampling.policy;
        loop {
            if self.sample_into_pool(dbs, sampling, clocks, elapsed_ns) == 0 {
                return None;
            }
            if let Some(entry) = self.take_best_existing(dbs, policy.is_volatile()) {
                return Some((entry.db, entry.key, ledger_score(policy, entry, clocks)));
            }
        }
    }

    /// One round of `evictionPoolPopulate` over every database; returns the keys the sampled
    /// dicts hold in all.
    fn sample_into_pool(
        &mut self,
        dbs: &mut [Db],
        sampling: Sampling,
        clocks: Clocks,
        elapsed_ns: &mut u64,
    ) -> u64 {
        let policy = sampling.policy;
        let volatile = policy.is_volatile();
        let samples = sampling.samples;
        let mut total_keys = 0;
        for db in 0..dbs.len() as u32 {
            let database = &mut dbs[db as usize];
            let held = sampled_dict!(volatile, &database.expires, &database.main, |dict| dict
                .len());
            if held == 0 {
                continue;
            }
            total_keys += held;
            self.sampled.clear();
            let (stream, sampled) = (&mut self.stream, &mut self.sampled);
            sampled_dict!(
                volatile,
                &mut database.expires,
                &mut database.main,
                |dict| dict.get_some_keys(samples, stream, sampled)
            );
            *elapsed_ns += self.sampled.len() as u64 * SAMPLED_KEY_COST_NS;
            // Their slots load together rather than one after another.
            for &key in &self.sampled {
                database.prefetch_slot(key);
            }
            let ahead = (self.stream.peek(0), self.stream.peek(1));
            for &key in &self.sampled {
                if volatile && policy != MaxmemoryPolicy::VolatileTtl {
                    // The value lives in the main dict: a lookup there (one rehash step).
                    database.main.on_lookup();
                }
                let score = pool_score(database, key, sampling, clocks);
                pool_insert(
                    &mut self.pool,
                    PoolEntry {
                        score,
                        key,
                        db,
                        used: true,
                    },
                );
            }
            // Hints for the next samplings: the keys heading the next one's buckets (whose
            // heads the previous round loaded) and their slots, and the heads of the one after.
            let database = &dbs[db as usize];
            // At 0.76 keys a bucket (47 % empty) five keys take 6.6 buckets on average: seven
            // cover most samplings. Ten loaded lines the sampling mostly never read, and the
            // core has few fill buffers to spare (allkeys-lru: 7 buckets ≥ 8 ≥ 10 by 1–2 %).
            sampled_dict!(volatile, &database.expires, &database.main, |dict| {
                // The keyspace dict's links share their lines with the slots: loaded already.
                dict.prefetch_sample(ahead.0, samples + 2, |key| {
                    if volatile {
                        database.prefetch_slot(key)
                    }
                });
                dict.prefetch_sample_start(ahead.1);
            });
        }
        total_keys
    }

    /// A hint: loads what evicting the pool's best remaining entry would read (its slot and its
    /// place in the dict), as it is likely the next victim.
    fn prefetch_next_best(&self, dbs: &[Db]) {
        if let Some(entry) = self.pool.iter().rev().find(|entry| entry.used) {
            let database = &dbs[entry.db as usize];
            database.prefetch_slot(entry.key);
            database.main.prefetch_bucket_of(entry.key);
        }
    }

    /// Takes pool entries from the best down until one still exists; None if all were ghosts.
    fn take_best_existing(&mut self, dbs: &mut [Db], volatile: bool) -> Option<PoolEntry> {
        for index in (0..EVPOOL_SIZE).rev() {
            let entry = self.pool[index];
            if !entry.used {
                continue;
            }
            self.pool[index] = PoolEntry::default();
            let database = &mut dbs[entry.db as usize];
            sampled_dict!(
                volatile,
                &mut database.expires,
                &mut database.main,
                |dict| dict.on_lookup()
            );
            let slot = database.slot(entry.key);
            if slot.is_present() && (!volatile || slot.is_volatile()) {
                self.prefetch_next_best(dbs);
                return Some(entry);
            }
        }
        None
    }

    /// The reference order's next victim still present, with its score.
    fn reference_victim(&mut self, dbs: &[Db]) -> Option<(u32, KeyId, u64)> {
        let reference = self.reference.as_mut()?;
        let (db, key) = reference.victim(|db, key| dbs[db as usize].contains(key))?;
        Some((db, key, reference.score(db, key)))
    }
}

/// The score a sampled key enters the pool with (`evictionPoolPopulate`).
fn pool_score(database: &Db, key: KeyId, sampling: Sampling, clocks: Clocks) -> u64 {
    let slot = database.slot(key);
    match sampling.policy {
        MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => {
            lru::estimate_idle_ms(clocks.lru_clock, slot.lru())
        }
        MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
            255 - u64::from(lru::lfu_decayed_counter(
                clocks.unix_ms,
                slot.lru(),
                sampling.lfu_decay_time,
            ))
        }
        _ => u64::MAX - slot.expire_unix_ms,
    }
}

/// What the ledger says about a victim: idle ms, LFU counter, or TTL ms left.
fn ledger_score(policy: MaxmemoryPolicy, entry: PoolEntry, clocks: Clocks) -> u64 {
    match policy {
        MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => 255 - entry.score,
        MaxmemoryPolicy::VolatileTtl => (u64::MAX - entry.score).saturating_sub(clocks.unix_ms),
        _ => entry.score,
    }
}

/// `getMaxmemoryState`: the bytes to free, or None when within the limit.
fn memory_to_free(host: &impl EvictionHost) -> Option<u64> {
    let maxmemory = host.config().maxmemory_bytes;
    if maxmemory == 0 {
        return None;
    }
    let used = host.used_memory();
    if used <= maxmemory {
        return None;
    }
    let logical = used.saturating_sub(host.mem_not_counted_for_evict());
    (logical > maxmemory).then(|| logical - maxmemory)
}

/// `performEvictions`.
pub fn perform_evictions(host: &mut impl EvictionHost, ledger: &mut Ledger) -> EvictResult {
    let result = evict_until_within_limit(host, ledger);
    let now_us = host.clocks().now_us;
    let (evictor, _) = host.evictor_and_dbs();
    let ended_ms = match result {
        EvictResult::Running | EvictResult::Fail => {
            evictor.exceeded_since_us.get_or_insert(now_us);
            None
        }
        EvictResult::Ok => evictor
            .exceeded_since_us
            .take()
            .map(|since| (now_us - since) / 1000),
    };
    if let Some(ms) = ended_ms {
        host.add_eviction_exceeded_ms(ms);
    }
    result
}

fn evict_until_within_limit(host: &mut impl EvictionHost, ledger: &mut Ledger) -> EvictResult {
    let Some(to_free) = memory_to_free(host) else {
        return EvictResult::Ok;
    };
    let policy = host.config().maxmemory_policy;
    if policy == MaxmemoryPolicy::NoEviction {
        return EvictResult::Fail;
    }
    if policy.is_reference() {
        // Reference caches evict at write time (`make_room`); over the limit here means
        // the limit was lowered: shed the reference order's victims.
        return shed_reference_victims(host, ledger);
    }
    let time_limit_us = eviction_time_limit_us(host.config().maxmemory_eviction_tenacity);
    let mut elapsed_ns = 0u64;
    let mut freed = 0i64;
    let mut keys_freed = 0u64;
    while freed < to_free as i64 {
        let Some((db, key, score)) = next_victim(host, &mut elapsed_ns) else {
            return EvictResult::Fail;
        };
        if ledger.watches(key) {
            note_pool(host, ledger);
        }
        let before = host.used_memory() as i64;
        host.evict(db, key, score, ledger);
        freed += before - host.used_memory() as i64;
        keys_freed += 1;
        elapsed_ns += EVICTED_KEY_COST_NS;
        if keys_freed.is_multiple_of(16) && elapsed_ns / 1000 > time_limit_us {
            host.evictor_and_dbs().0.running = true;
            break;
        }
    }
    if host.evictor_and_dbs().0.running {
        EvictResult::Running
    } else {
        EvictResult::Ok
    }
}

/// `vanish explain`: the pool's other candidates when the watched key is the victim.
#[cold]
fn note_pool(host: &mut impl EvictionHost, ledger: &mut Ledger) {
    let (policy, clocks) = (host.config().maxmemory_policy, host.clocks());
    let pool = host.evictor_and_dbs().0.pool;
    let candidates = pool
        .iter()
        .filter(|entry| entry.used)
        .map(|entry| (entry.db, entry.key, ledger_score(policy, *entry, clocks)))
        .collect();
    ledger.note(WatchEvent::Pool { candidates });
}

/// The sampled policies' next victim: (db, key, the score the ledger reports).
fn next_victim(host: &mut impl EvictionHost, elapsed_ns: &mut u64) -> Option<(u32, KeyId, u64)> {
    let sampling = Sampling::of(host.config());
    let clocks = host.clocks();
    let (evictor, dbs) = host.evictor_and_dbs();
    match sampling.policy {
        MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom => {
            let volatile = sampling.policy == MaxmemoryPolicy::VolatileRandom;
            evictor.random_victim(dbs, volatile)
        }
        _ => evictor.pool_victim(dbs, sampling, clocks, elapsed_ns),
    }
}

/// The eviction timer's continuation (`evictionTimeProc`), run from beforeSleep.
pub fn continue_evictions(host: &mut impl EvictionHost, ledger: &mut Ledger) {
    if perform_evictions(host, ledger) != EvictResult::Running {
        host.evictor_and_dbs().0.running = false;
    }
}

/// `updateMaxmemory`: a limit lowered below used memory starts the timer's continuation at
/// once.
pub fn start_evicting(host: &mut impl EvictionHost, ledger: &mut Ledger) {
    host.evictor_and_dbs().0.running = true;
    continue_evictions(host, ledger);
}

/// Reference policies: evict in reference order until within the limit.
pub fn shed_reference_victims(host: &mut impl EvictionHost, ledger: &mut Ledger) -> EvictResult {
    while memory_to_free(host).is_some() {
        if !evict_reference_victim(host, ledger) {
            return EvictResult::Fail;
        }
    }
    EvictResult::Ok
}

fn evict_reference_victim(host: &mut impl EvictionHost, ledger: &mut Ledger) -> bool {
    let (evictor, dbs) = host.evictor_and_dbs();
    let Some((db, key, score)) = evictor.reference_victim(dbs) else {
        return false;
    };
    host.evict(db, key, score, ledger);
    true
}

/// Reference policies: before a write, evict until the new value fits. False if it cannot
/// fit at all (larger than the whole cache, or nothing left to evict).
pub fn make_room(host: &mut impl EvictionHost, write: Incoming, ledger: &mut Ledger) -> bool {
    let maxmemory = host.config().maxmemory_bytes;
    loop {
        let slot = host.dbs()[write.db as usize].slot(write.key);
        let unix_ms = host.clocks().unix_ms;
        let live = slot.is_present() && !(slot.is_volatile() && unix_ms > slot.expire_unix_ms);
        let incoming = if live && write.replaces_value {
            write.value_bytes.saturating_sub(slot.value_bytes())
        } else if live {
            0
        } else {
            write.value_bytes + write.entry_bytes
        };
        if incoming > maxmemory {
            return false;
        }
        // OPT inserts first and then evicts the key used furthest ahead, which may be the new
        // one (Belady with bypass); exact LRU makes room before inserting (libCacheSim).
        if host.used_memory() + incoming <= maxmemory
            || host.config().maxmemory_policy == MaxmemoryPolicy::Opt
        {
            return true;
        }
        if !evict_reference_victim(host, ledger) {
            return false;
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
