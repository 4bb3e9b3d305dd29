//! One simulated Redis server, the public face of `server`: its identity, configuration,
//! databases, clocks and memory accounting. The rest of its behaviour lives beside it, one job
//! per module: command execution (`exec/`), keys leaving the keyspace (`removal.rs`),
//! replication (`replica.rs`), the process's life (`lifecycle.rs`), counters (`stats.rs`),
//! eviction (`evict.rs`), expiry (`expire.rs`), cron (`cron.rs`) and INFO (`snapshot.rs`).

use std::sync::Arc;

use crate::sim::config::{MemoryModel, ServerConfig};
use crate::sim::keyspace::db::{Db, ValueKind, NO_EXPIRE};
use crate::sim::keyspace::dict::ExpandGuard;
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::keyspace::lru;
use crate::sim::keyspace::memory::{
    string_value_bytes, used_memory_startup, StringEncoding, BUCKET_BYTES, LATENCY_HISTOGRAM_BYTES,
};
use crate::sim::keyspace::value::EncodingLimits;
use crate::sim::ledger::{KeyId, Ledger, NodeId};
use crate::sim::random::rng::Stream;
use crate::sim::reference::exact::ReferenceCache;
use crate::sim::server::connections::Connections;
use crate::sim::server::durability::Durability;
use crate::sim::server::evict::{Clocks, EvictionHost, Evictor};
use crate::sim::server::exec::CallResult;
use crate::sim::server::process::Process;
use crate::sim::server::role::Role;
use crate::sim::server::stats::{CommandStats, NodeStats};

/// Unix time (ms) at virtual time zero: 2026-01-01T00:00:00Z, a minute boundary, so LFU minutes
/// and LRU seconds tick at round virtual times.
pub const EPOCH_UNIX_MS: u64 = 1_767_225_600_000;

/// State of the active expire cycle carried across calls (statics in Redis).
#[derive(Debug, Clone, Default)]
pub struct ExpireCycleState {
    pub current_db: u32,
    pub timelimit_exit: bool,
    pub last_fast_cycle_us: u64,
}

pub struct Node {
    pub id: NodeId,
    pub name: String,
    pub config: ServerConfig,
    /// The config as the scenario set it (INFO configured_hz).
    pub(super) configured_hz: u32,
    pub(super) dbs: Vec<Db>,
    /// Indices of the databases written so far (the others hold nothing).
    pub(super) allocated_dbs: Vec<u32>,
    pub keys: Arc<KeyTable>,
    pub stats: NodeStats,
    pub(super) commands: CommandStats,
    pub run_id: String,
    pub(super) replid: String,
    /// The clients' connections, their buffers over time (`client_io.rs`).
    pub(super) connections: Connections,
    pub(super) expire_cycle: ExpireCycleState,
    /// Virtual time of the command or cron tick being processed, µs since the start.
    pub(super) now_us: u64,
    /// Cached LRU clock, refreshed by cron.
    pub(super) lru_clock: u32,
    pub used_memory_peak: u64,
    /// Commands called at least once with latency tracking on: each holds a histogram.
    pub(super) latency_histograms: u64,
    /// Cron's round-robin cursors over databases.
    pub(super) resize_db: u32,
    pub(super) rehash_db: u32,
    hash_seed: u64,
    pub(super) lfu_stream: Stream,
    pub(super) evictor: Evictor,
    /// Primary or replica, and the replication state that goes with it.
    pub(super) role: Role,
    /// Running, paused, or down.
    pub(super) process: Process,
    /// Persistence, on the primary.
    pub durability: Option<Durability>,
    /// Whether the aggregate write just executed changed its key (for propagation).
    pub(super) write_modified: Option<bool>,
    /// What the earlier records of a call spread over several (SUNIONSTORE...) gathered.
    pub(super) call: CallResult,
    /// While this node still acts as a primary after another was promoted in its place: the
    /// client writes it acknowledged since, which its eventual resync will discard.
    pub divergent: Option<Vec<(u32, KeyId)>>,
    /// Acknowledged client writes lost to crashes.
    pub acknowledged_writes_lost: u64,
    pub(super) limits: EncodingLimits,
    /// Reused buffer for bucket walks.
    pub(super) scratch: Vec<KeyId>,
    /// The arguments of the command being decided on (`argv.rs`); 0 between commands.
    pub(super) argv_bytes: u64,
}

impl Node {
    pub fn new(
        id: NodeId,
        name: &str,
        config: ServerConfig,
        keys: Arc<KeyTable>,
        seed: u64,
    ) -> Node {
        let mut identity = Stream::new(seed, &format!("node:{name}:identity"));
        let hash_seed = identity.next_u64();
        let run_id = identity.hex_id();
        let replid = identity.hex_id();
        let raw = config.memory_model == MemoryModel::Raw;
        let dbs = (0..config.databases)
            .map(|index| Db::new(index, raw))
            .collect();
        let reference = config
            .maxmemory_policy
            .is_reference()
            .then(|| ReferenceCache::new(config.maxmemory_policy, config.databases, keys.len()));
        let evictor = Evictor::new(Stream::new(seed, &format!("node:{name}:evict")), reference);
        let limits = EncodingLimits::from_config(&config);
        let mut node = Node {
            id,
            name: name.to_string(),
            configured_hz: config.hz,
            config,
            dbs,
            allocated_dbs: Vec::new(),
            keys,
            stats: NodeStats::default(),
            commands: CommandStats::default(),
            run_id,
            replid,
            connections: Connections::default(),
            expire_cycle: ExpireCycleState::default(),
            now_us: 0,
            lru_clock: lru::lru_clock(EPOCH_UNIX_MS),
            used_memory_peak: 0,
            latency_histograms: 0,
            resize_db: 0,
            rehash_db: 0,
            hash_seed,
            lfu_stream: Stream::new(seed, &format!("node:{name}:lfu")),
            evictor,
            role: Role::Standalone,
            process: Process::Running,
            durability: None,
            write_modified: None,
            call: CallResult::default(),
            divergent: None,
            acknowledged_writes_lost: 0,
            limits,
            scratch: Vec::new(),
            argv_bytes: 0,
        };
        node.used_memory_peak = node.used_memory();
        node
    }

    /// Unix ms of the current time snapshot.
    #[inline]
    /// The node's virtual time, µs.
    pub fn now_us(&self) -> u64 {
        self.now_us
    }

    pub fn unix_ms(&self) -> u64 {
        EPOCH_UNIX_MS + self.now_us / 1000
    }

    /// The current time snapshot in ms since the start, as slots store it.
    #[inline]
    pub(super) fn now_since_start_ms(&self) -> u32 {
        (self.now_us / 1000).min(u64::from(u32::MAX)) as u32
    }

    /// Fixes the command time snapshot (`call()`'s cached mstime).
    #[inline]
    pub fn set_time(&mut self, now_us: u64) {
        self.now_us = now_us;
    }

    /// A database of this node.
    pub fn db(&self, index: u32) -> &Db {
        &self.dbs[index as usize]
    }

    /// Hints the CPU to load what a command on `key` in `db` reads first (its slot, its place
    /// in the dict, its string length, its name's length), a command or more ahead: a hint,
    /// never a change.
    #[inline]
    pub fn prefetch(&self, db: u32, key: KeyId) {
        self.prefetch_read(db, key);
        if let Some(database) = self.dbs.get(db as usize) {
            // Where a miss's refill inserts it.
            database.main.prefetch_bucket_of(key);
        }
    }

    /// The part of `prefetch` a read uses: the key's entry (its slot and sent length) and its
    /// name's length.
    #[inline]
    pub fn prefetch_read(&self, db: u32, key: KeyId) {
        if let Some(database) = self.dbs.get(db as usize) {
            database.prefetch_slot(key);
        }
        self.keys.prefetch_key_len(key);
    }

    /// The cached LRU clock (`server.lruclock`).
    pub fn lru_clock(&self) -> u32 {
        self.lru_clock
    }

    /// A key's name length as the memory model needs it (the raw model counts no key bytes, so
    /// it skips the lookup, which costs a cache miss on large key tables).
    #[inline]
    pub(super) fn key_len_for_memory(&self, key: KeyId) -> u64 {
        if self.raw_memory() {
            0
        } else {
            self.keys.key_len(key)
        }
    }

    pub fn raw_memory(&self) -> bool {
        self.config.memory_model == MemoryModel::Raw
    }

    /// INFO used_memory: startup, clients, and every database's entries and bucket arrays (in the
    /// raw model, value bytes only). Asked several times a command (eviction, the peak, the
    /// dict's growth guard): inlined.
    #[inline]
    pub fn used_memory(&self) -> u64 {
        let dataset: u64 = self
            .allocated_dbs
            .iter()
            .map(|&db| self.dbs[db as usize].used_bytes())
            .sum();
        if self.raw_memory() {
            return dataset;
        }
        self.used_memory_startup()
            + self.connections.allocated_bytes()
            + self.latency_histograms * LATENCY_HISTOGRAM_BYTES
            + self.replication_backlog_bytes()
            + self.argv_bytes
            + dataset
    }

    /// INFO used_memory_overhead, as `getMemoryOverheadData` computes it in 7.0.
    pub fn used_memory_overhead(&self) -> u64 {
        if self.raw_memory() {
            return 0;
        }
        let keyspace: u64 = self
            .dbs
            .iter()
            .map(|db| {
                db.key_count() * (24 + 16)
                    + db.main.slots() * BUCKET_BYTES
                    + db.volatile_count() * 24
                    + db.expires.slots() * BUCKET_BYTES
            })
            .sum();
        self.used_memory_startup() + self.mem_clients_normal() + keyspace
    }

    /// INFO used_memory_startup: what an empty server holds with its `maxclients`.
    pub fn used_memory_startup(&self) -> u64 {
        used_memory_startup(self.config.maxclients)
    }

    /// Bytes that do not count toward maxmemory: the replication buffer held for replicas
    /// beyond the backlog (the AOF buffer is not modelled).
    pub fn mem_not_counted_for_evict(&self) -> u64 {
        if self.raw_memory() {
            return 0;
        }
        self.replication_not_counted_bytes()
    }

    pub fn note_memory_peak(&mut self) {
        let used = self.used_memory();
        if used > self.used_memory_peak {
            self.used_memory_peak = used;
        }
    }

    /// The keyspace dicts' growth guard (maxmemory may refuse a table doubling).
    pub fn expand_guard(&self) -> ExpandGuard {
        if self.config.maxmemory_bytes == 0 {
            return ExpandGuard::UNLIMITED;
        }
        let used = self.used_memory();
        ExpandGuard {
            can_resize: true,
            used_memory: used,
            used_memory_for_evict: used.saturating_sub(self.mem_not_counted_for_evict()),
            maxmemory: self.config.maxmemory_bytes,
        }
    }

    /// Bytes of a string value of `len` bytes under the memory model, with the slot kind its
    /// encoding gives.
    pub(super) fn string_value(&self, len: u32) -> (ValueKind, u32) {
        if self.raw_memory() {
            return (ValueKind::Raw, len);
        }
        let (encoding, bytes) = string_value_bytes(u64::from(len));
        let kind = match encoding {
            StringEncoding::Embstr => ValueKind::Embstr,
            _ => ValueKind::Raw,
        };
        (kind, bytes.min(u64::from(u32::MAX)) as u32)
    }

    /// Entry overhead of a new key under the memory model.
    pub(super) fn entry_overhead(&self, key_len: u64) -> u64 {
        if self.raw_memory() {
            0
        } else {
            crate::sim::keyspace::db::entry_overhead_bytes(key_len, false)
        }
    }

    /// A database, allocated on its first write.
    pub(super) fn db_mut(&mut self, db: u32) -> &mut Db {
        if !self.dbs[db as usize].is_allocated() {
            self.dbs[db as usize].ensure_allocated(self.keys.len(), self.hash_seed);
            if self.dbs[db as usize].is_allocated() {
                self.allocated_dbs.push(db);
            }
        }
        &mut self.dbs[db as usize]
    }

    /// Whether the key is present and not logically expired (what a client reading here now
    /// would find).
    pub fn is_alive(&self, db: u32, key: KeyId) -> bool {
        let slot = self.dbs[db as usize].slot(key);
        slot.is_present() && !(slot.is_volatile() && self.unix_ms() > slot.expire_unix_ms)
    }

    /// Keys of `db` in bucket order (for pattern deletes).
    pub fn keys_of(&self, db: u32) -> Vec<KeyId> {
        self.dbs[db as usize].keys_in_bucket_order()
    }

    /// Whether a key is present (not necessarily logically alive) in a database.
    pub fn contains(&self, db: u32, key: KeyId) -> bool {
        self.dbs[db as usize].contains(key)
    }

    /// Keys the reference policy's order tracks (exact LRU, OPT), for the invariant checker.
    pub fn reference_tracked_keys(&self) -> Option<u64> {
        self.evictor.reference_live()
    }

    pub fn total_keys(&self) -> u64 {
        self.dbs.iter().map(Db::key_count).sum()
    }

    pub fn total_volatile(&self) -> u64 {
        self.dbs.iter().map(Db::volatile_count).sum()
    }

    /// A key's absolute deadline in Unix ms, if it has one.
    pub fn expire_unix_ms(&self, db: u32, key: KeyId) -> Option<u64> {
        let slot = self.dbs[db as usize].slot(key);
        (slot.is_present() && slot.expire_unix_ms != NO_EXPIRE).then_some(slot.expire_unix_ms)
    }
}

/// Eviction reaches the node only through this: its databases, clocks and memory, and the
/// removal of a victim.
impl EvictionHost for Node {
    #[inline]
    fn evictor_and_dbs(&mut self) -> (&mut Evictor, &mut [Db]) {
        (&mut self.evictor, &mut self.dbs)
    }

    fn dbs(&self) -> &[Db] {
        &self.dbs
    }

    fn config(&self) -> &ServerConfig {
        &self.config
    }

    fn clocks(&self) -> Clocks {
        Clocks {
            now_us: self.now_us,
            unix_ms: self.unix_ms(),
            lru_clock: self.lru_clock,
        }
    }

    fn used_memory(&self) -> u64 {
        Node::used_memory(self)
    }

    fn mem_not_counted_for_evict(&self) -> u64 {
        Node::mem_not_counted_for_evict(self)
    }

    fn evict(&mut self, db: u32, key: KeyId, score: u64, ledger: &mut Ledger) {
        self.evict_key(db, key, score, ledger);
    }

    fn add_eviction_exceeded_ms(&mut self, ms: u64) {
        self.stats.total_eviction_exceeded_time_ms += ms;
    }
}
