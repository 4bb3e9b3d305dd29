//! One simulated Redis server: its databases, configuration, clocks and statistics, and the
//! execution of commands against them.
//!
//! A command runs the way `processCommand` + `call()` run it: the time snapshot is fixed, every
//! key lookup lazily expires the key, reads count keyspace hits and misses and touch LRU/LFU
//! metadata, writes maintain memory accounting. Every removal and every read outcome is reported
//! to the [`Ledger`]. The active expire cycle lives in `expire.rs`, cron in `cron.rs`.

use crate::sim::ledger::PerCause;
use std::sync::Arc;

use crate::sim::cluster::replication::{
    snapshot, write_bytes, PrimaryStream, ReplOp, ReplicaState,
};
use crate::sim::config::{CommandKind, ConfigChange, MemoryModel, ServerConfig};
use crate::sim::keyspace::db::{Db, Slot, ValueKind, NO_EXPIRE};
use crate::sim::keyspace::dict::ExpandGuard;
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::keyspace::lru;
use crate::sim::keyspace::memory::{
    int_value_bytes, StringEncoding, BUCKET_BYTES, CLIENT_CONNECTION_BYTES,
    LATENCY_HISTOGRAM_BYTES, USED_MEMORY_STARTUP,
};
use crate::sim::keyspace::value::{
    Aggregate, EncodingLimits, HashValue, ListValue, SetValue, ZsetValue,
};
use crate::sim::ledger::{
    Actor, Cause, Detail, EntryKind, KeyId, LedgerEntry, LedgerSink, LedgerTotals, NodeId,
};
use crate::sim::random::rng::Stream;
use crate::sim::reference::exact::ReferenceCache;
use crate::sim::server::durability::Durability;
use crate::sim::server::evict::{EvictResult, PoolEntry, EVPOOL_SIZE};

/// Unix time (ms) at virtual time zero: 2026-01-01T00:00:00Z, a minute boundary, so LFU minutes
/// and LRU seconds tick at round virtual times.
pub const EPOCH_UNIX_MS: u64 = 1_767_225_600_000;

/// What a client asks of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub client: Actor,
    pub db: u32,
    pub command: CommandKind,
    pub key: KeyId,
    pub argument: Argument,
    /// The client wrote this key before (for the `overwritten` classification of hits).
    pub client_wrote_key: bool,
    /// When the key is next used (trace replay, for OPT); 0 when unknown.
    pub next_use: u64,
    /// A read sent to a replica: whether the primary holds the key now (a miss is then
    /// replication lag).
    pub primary_has_key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Argument {
    None,
    /// SET's value length and optional PX TTL, LPUSH's element length.
    Value {
        len: u32,
        ttl_ms: Option<u64>,
    },
    /// SET of a canonical integer value (stored with the int encoding).
    Integer {
        value: u32,
        ttl_ms: Option<u64>,
    },
    /// EXPIRE's TTL in ms (may be zero: a delete).
    Ttl {
        ms: u64,
    },
    /// A hash field and the value length for HSET.
    Field {
        id: u32,
        len: u32,
    },
    /// A set or sorted-set member and, for ZADD, its score.
    Member {
        id: u32,
        score: i64,
    },
}

/// Error replies, by Redis's error prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorReply {
    WrongType,
    NotAnInteger,
    Oom,
    /// The node is down: the client's connection was refused (not a Redis reply).
    ConnectionRefused,
    /// The node did not answer in time: stopped, or on the other side of a partition (not a
    /// Redis reply).
    Timeout,
    /// `min-replicas-to-write` not met.
    NoReplicas,
    /// A write sent to a read-only replica.
    ReadOnly,
    /// A read on a replica without its master while `replica-serve-stale-data no`.
    MasterDown,
}

impl ErrorReply {
    pub fn prefix(self) -> &'static str {
        match self {
            ErrorReply::WrongType => "WRONGTYPE",
            ErrorReply::NotAnInteger => "ERR",
            ErrorReply::Oom => "OOM",
            ErrorReply::ConnectionRefused => "ECONNREFUSED",
            ErrorReply::Timeout => "ETIMEDOUT",
            ErrorReply::NoReplicas => "NOREPLICAS",
            ErrorReply::ReadOnly => "READONLY",
            ErrorReply::MasterDown => "MASTERDOWN",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A write that succeeded.
    Ok,
    /// A read that found the key.
    Hit,
    /// A read that did not.
    Miss,
    /// An integer reply to a write (DEL count, EXPIRE 0/1...).
    Integer(i64),
    Error(ErrorReply),
}

/// Commands counted in Commandstats beyond the workload's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminCommand {
    FlushDb,
    FlushAll,
    ConfigSet,
    Select,
}

const ADMIN_COMMANDS: [(AdminCommand, &str); 4] = [
    (AdminCommand::FlushDb, "flushdb"),
    (AdminCommand::FlushAll, "flushall"),
    (AdminCommand::ConfigSet, "config|set"),
    (AdminCommand::Select, "select"),
];
const STAT_SLOTS: usize = CommandKind::ALL.len() + ADMIN_COMMANDS.len();

/// Modelled execution time of one command, for Commandstats `usec` (vanish does not measure
/// CPU; this keeps usec_per_call meaningful relative to work done).
const COMMAND_COST_US: u64 = 1;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// Counters INFO Stats reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeStats {
    pub total_commands_processed: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    /// EMA of the expired share of active-expire samples, as a fraction.
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub expire_cycle_cpu_us: u64,
    pub total_error_replies: u64,
    pub total_eviction_exceeded_time_ms: u64,
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
}

/// Records ledger rows: totals per cause and per key family, and the user's sink.
pub struct Ledger<'a> {
    sink: &'a mut dyn LedgerSink,
    pub totals: LedgerTotals,
    /// Removals by cause for each key family (prefix).
    pub family_removals: Vec<PerCause<u64>>,
    /// Misses by cause for each key family.
    pub family_misses: Vec<PerCause<u64>>,
}

impl<'a> Ledger<'a> {
    pub fn new(sink: &'a mut dyn LedgerSink, families: usize) -> Ledger<'a> {
        Ledger {
            sink,
            totals: LedgerTotals::default(),
            family_removals: vec![PerCause::default(); families],
            family_misses: vec![PerCause::default(); families],
        }
    }

    pub fn record(&mut self, entry: LedgerEntry, family: usize) {
        self.totals.add(&entry);
        match entry.kind {
            EntryKind::Removal => self.family_removals[family][entry.cause] += 1,
            EntryKind::Miss => self.family_misses[family][entry.cause] += 1,
            EntryKind::OverwrittenHit | EntryKind::Rejected | EntryKind::LostWrite => {}
        }
        self.sink.record(&entry);
    }
}

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
    pub configured_hz: u32,
    pub dbs: Vec<Db>,
    /// Indices of the databases written so far (the others hold nothing).
    allocated_dbs: Vec<u32>,
    pub keys: Arc<KeyTable>,
    pub stats: NodeStats,
    pub commandstats: [CommandStat; STAT_SLOTS],
    pub errorstats: Vec<(&'static str, u64)>,
    pub run_id: String,
    pub replid: String,
    pub connected_clients: u64,
    pub expire_cycle: ExpireCycleState,
    /// Virtual time of the command or cron tick being processed, µs.
    pub now_us: u64,
    /// Cached LRU clock, refreshed by cron.
    pub lru_clock: u32,
    pub used_memory_peak: u64,
    /// Commands called at least once with latency tracking on: each holds a histogram.
    latency_histograms: u64,
    /// Cron's round-robin cursors over databases.
    pub resize_db: u32,
    pub rehash_db: u32,
    hash_seed: u64,
    lfu_stream: Stream,
    pub(crate) evict_stream: Stream,
    /// The global eviction pool (`EvictionPoolLRU`).
    pub(crate) eviction_pool: [PoolEntry; EVPOOL_SIZE],
    /// The random policies' `next_db`.
    pub(crate) random_next_db: u32,
    /// The eviction timer proc is active (the last call stopped at its time limit).
    pub(crate) eviction_running: bool,
    pub(crate) eviction_exceeded_since_us: Option<u64>,
    /// Exact LRU or OPT bookkeeping, when the policy is a reference policy.
    pub(crate) reference: Option<ReferenceCache>,
    /// The replication stream, on a primary with replicas.
    pub stream: Option<PrimaryStream>,
    /// Replication state, on a replica.
    pub replica: Option<ReplicaState>,
    /// Persistence, on the primary.
    pub durability: Option<Durability>,
    /// Whether the aggregate write just executed changed its key (for propagation).
    write_modified: Option<bool>,
    /// The process is down (crashed or killed, not restarted yet).
    pub down: bool,
    /// The machine is down too (a crash, not a kill): nothing answers, not even with a refusal,
    /// and a Sentinel running beside it is gone.
    pub machine_down: bool,
    /// The process is stopped (SIGSTOP): it answers nothing until resumed.
    pub paused: bool,
    /// While this node still acts as a primary after another was promoted in its place: the
    /// client writes it acknowledged since, which its eventual resync will discard.
    pub divergent: Option<Vec<(u32, KeyId)>>,
    /// Acknowledged client writes lost to crashes.
    pub acknowledged_writes_lost: u64,
    limits: EncodingLimits,
    /// Reused buffer for bucket walks.
    pub(crate) scratch: Vec<KeyId>,
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
            commandstats: [CommandStat::default(); STAT_SLOTS],
            errorstats: Vec::new(),
            run_id,
            replid,
            connected_clients: 0,
            expire_cycle: ExpireCycleState::default(),
            now_us: 0,
            lru_clock: lru::lru_clock(EPOCH_UNIX_MS),
            used_memory_peak: 0,
            latency_histograms: 0,
            resize_db: 0,
            rehash_db: 0,
            hash_seed,
            lfu_stream: Stream::new(seed, &format!("node:{name}:lfu")),
            evict_stream: Stream::new(seed, &format!("node:{name}:evict")),
            eviction_pool: [PoolEntry::default(); EVPOOL_SIZE],
            random_next_db: 0,
            eviction_running: false,
            eviction_exceeded_since_us: None,
            reference,
            stream: None,
            replica: None,
            durability: None,
            write_modified: None,
            down: false,
            machine_down: false,
            paused: false,
            divergent: None,
            acknowledged_writes_lost: 0,
            limits,
            scratch: Vec::new(),
        };
        node.used_memory_peak = node.used_memory();
        node
    }

    /// Unix ms of the current time snapshot.
    #[inline]
    pub fn unix_ms(&self) -> u64 {
        EPOCH_UNIX_MS + self.now_us / 1000
    }

    #[inline]
    fn now_ms_since_start(&self) -> u32 {
        (self.now_us / 1000).min(u64::from(u32::MAX)) as u32
    }

    /// Fixes the command time snapshot (`call()`'s cached mstime).
    #[inline]
    pub fn set_time(&mut self, now_us: u64) {
        self.now_us = now_us;
    }

    pub fn connect_client(&mut self) {
        self.connected_clients += 1;
    }

    /// A key's name length as the memory model needs it (the raw model counts no key bytes, so
    /// it skips the lookup, which costs a cache miss on large key tables).
    #[inline]
    pub(crate) fn key_len_for_memory(&self, key: KeyId) -> u64 {
        if self.raw_memory() {
            0
        } else {
            self.keys.key_len(key)
        }
    }

    /// The replication backlog's memory, which counts toward maxmemory: since 7.0 it is a list of
    /// blocks of 16 KB of stream (20,480-byte allocations holding 20,440 bytes), up to
    /// `repl-backlog-size` of history plus the block being filled. Primaries with replicas and
    /// replicas both keep one.
    pub fn replication_backlog_bytes(&self) -> u64 {
        const BLOCK_ALLOCATION: u64 = 20_480;
        const BLOCK_PAYLOAD: u64 = 20_440;
        let offset = match (&self.stream, &self.replica) {
            (Some(stream), _) => stream.offset,
            (None, Some(replica)) => replica.processed_offset,
            (None, None) => return 0,
        };
        let held = offset.min(self.config.repl_backlog_size + BLOCK_PAYLOAD);
        held.div_ceil(BLOCK_PAYLOAD) * BLOCK_ALLOCATION
    }

    pub fn raw_memory(&self) -> bool {
        self.config.memory_model == MemoryModel::Raw
    }

    /// INFO used_memory: startup, clients, and every database's entries and bucket arrays (in the
    /// raw model, value bytes only).
    pub fn used_memory(&self) -> u64 {
        let dataset: u64 = self
            .allocated_dbs
            .iter()
            .map(|&db| self.dbs[db as usize].used_bytes())
            .sum();
        if self.raw_memory() {
            return dataset;
        }
        USED_MEMORY_STARTUP
            + self.connected_clients * CLIENT_CONNECTION_BYTES
            + self.latency_histograms * LATENCY_HISTOGRAM_BYTES
            + self.replication_backlog_bytes()
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
        USED_MEMORY_STARTUP + self.connected_clients * CLIENT_CONNECTION_BYTES + keyspace
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

    /// Whether small integers may be shared objects (redis-fidelity 1.8).
    fn integers_shareable(&self) -> bool {
        !(self.config.maxmemory_bytes != 0 && self.config.maxmemory_policy.uses_lru_or_lfu())
    }

    fn db_mut(&mut self, db: u32) -> &mut Db {
        if !self.dbs[db as usize].is_allocated() {
            self.dbs[db as usize].ensure_allocated(self.keys.len(), self.hash_seed);
            if self.dbs[db as usize].is_allocated() {
                self.allocated_dbs.push(db);
            }
        }
        &mut self.dbs[db as usize]
    }

    fn stat_index_admin(command: AdminCommand) -> usize {
        CommandKind::ALL.len()
            + ADMIN_COMMANDS
                .iter()
                .position(|(c, _)| *c == command)
                .unwrap_or(0)
    }

    /// Commandstats rows: (Redis's lower-case name, counters), for commands ever called.
    pub fn commandstats_rows(&self) -> Vec<(String, CommandStat)> {
        let mut rows = Vec::new();
        for (index, stat) in self.commandstats.iter().enumerate() {
            if stat.calls == 0 && stat.rejected_calls == 0 && stat.failed_calls == 0 {
                continue;
            }
            let name = match CommandKind::ALL.get(index) {
                Some(kind) => kind.name().to_ascii_lowercase(),
                None => ADMIN_COMMANDS[index - CommandKind::ALL.len()].1.to_string(),
            };
            rows.push((name, *stat));
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    }

    fn count_call(&mut self, index: usize) {
        self.stats.total_commands_processed += 1;
        let stat = &mut self.commandstats[index];
        if stat.calls == 0 && self.config.latency_tracking {
            self.latency_histograms += 1;
        }
        stat.calls += 1;
        stat.usec += COMMAND_COST_US;
    }

    pub fn count_admin(&mut self, command: AdminCommand) {
        self.count_call(Self::stat_index_admin(command));
    }

    /// A command refused before execution: `rejected_calls`, not `calls`.
    pub(crate) fn count_rejected(&mut self, index: usize, error: ErrorReply) {
        self.count_error(index, error, true);
    }

    fn count_error(&mut self, index: usize, error: ErrorReply, rejected: bool) {
        let stat = &mut self.commandstats[index];
        if rejected {
            stat.rejected_calls += 1;
        } else {
            stat.failed_calls += 1;
        }
        self.stats.total_error_replies += 1;
        let prefix = error.prefix();
        match self.errorstats.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, count)) => *count += 1,
            None => {
                self.errorstats.push((prefix, 1));
                self.errorstats.sort_unstable();
            }
        }
    }

    fn entry(
        &self,
        db: u32,
        key: KeyId,
        kind: EntryKind,
        cause: Cause,
        actor: Actor,
        detail: Detail,
    ) -> LedgerEntry {
        LedgerEntry {
            time_us: self.now_us,
            node: self.id,
            db,
            key,
            kind,
            cause,
            actor,
            detail,
        }
    }

    /// Removes a present key, reporting the removal; a replica learns it as `DEL key`.
    pub(crate) fn remove_key(
        &mut self,
        db: u32,
        key: KeyId,
        cause: Cause,
        by: Actor,
        detail: Detail,
        ledger: &mut Ledger,
    ) -> Slot {
        self.remove_key_propagated_as(db, key, cause, by, detail, None, ledger)
    }

    /// Removes a present key; `propagated_bytes` is the command the replicas receive for it
    /// (`HDEL` that emptied a hash, `UNLINK`...), or None for `DEL key`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn remove_key_propagated_as(
        &mut self,
        db: u32,
        key: KeyId,
        cause: Cause,
        by: Actor,
        detail: Detail,
        propagated_bytes: Option<u64>,
        ledger: &mut Ledger,
    ) -> Slot {
        self.before_change(db, key);
        if let Some(durability) = self.durability.as_mut() {
            durability.dirty += 1;
        }
        let key_len = self.key_len_for_memory(key);
        let at_ms = self.now_ms_since_start();
        let slot = self.dbs[db as usize].remove(key, key_len, cause, by, at_ms);
        if let Some(reference) = self.reference.as_mut() {
            reference.on_remove(db, key);
        }
        if let Some(stream) = self.stream.as_mut() {
            let bytes =
                propagated_bytes.unwrap_or_else(|| write_bytes("DEL", self.keys.key_len(key), &[]));
            let op = ReplOp::Del {
                db,
                key,
                cause,
                actor: by,
                detail,
            };
            stream.push(op, bytes);
        }
        let entry = self.entry(db, key, EntryKind::Removal, cause, by, detail);
        ledger.record(entry, self.keys.family_of(key));
        slot
    }

    fn expiry_detail(&self, slot: &Slot, lazy: bool) -> Detail {
        let set_at_unix_ms = EPOCH_UNIX_MS + u64::from(slot.at_ms);
        Detail::Expiry {
            ttl_ms: slot.expire_ms.saturating_sub(set_at_unix_ms),
            set_by: slot.ttl_by(),
            lazy,
        }
    }

    /// Deletes a key whose deadline has passed, as expiry (`deleteExpiredKeyAndPropagate`).
    pub(crate) fn expire_key(&mut self, db: u32, key: KeyId, lazy: bool, ledger: &mut Ledger) {
        let slot = *self.dbs[db as usize].slot(key);
        let detail = self.expiry_detail(&slot, lazy);
        self.remove_key(db, key, Cause::Expired, Actor::SERVER, detail, ledger);
        self.stats.expired_keys += 1;
    }

    /// `expireIfNeeded`: true if the key is logically expired. A master deletes it; a replica
    /// only hides it and waits for the master's DEL.
    #[inline]
    fn expire_if_needed(&mut self, db: u32, key: KeyId, ledger: &mut Ledger) -> bool {
        let slot = self.dbs[db as usize].slot(key);
        if slot.is_present() && slot.is_volatile() && self.unix_ms() > slot.expire_ms {
            if self.replica.is_none() {
                self.expire_key(db, key, true, ledger);
            }
            return true;
        }
        false
    }

    /// `lookupKey`: lazy expiry, rehash step, and the LRU/LFU touch unless `no_touch`.
    /// Returns whether the key exists afterwards.
    fn lookup(
        &mut self,
        db: u32,
        key: KeyId,
        no_touch: bool,
        next_use: u64,
        ledger: &mut Ledger,
    ) -> bool {
        self.db_mut(db).main.on_lookup();
        let expired = self.expire_if_needed(db, key, ledger);
        let present = !expired && self.dbs[db as usize].contains(key);
        if present && !no_touch {
            self.touch(db, key);
            if let Some(reference) = self.reference.as_mut() {
                reference.on_access(db, key, next_use);
            }
        }
        present
    }

    /// Keeps the key's durable state before it changes (the undo log of persistence).
    fn before_change(&mut self, db: u32, key: KeyId) {
        let capacity = self.keys.len();
        if let Some(durability) = self.durability.as_mut() {
            let database = &self.dbs[db as usize];
            durability.before_change(
                db,
                key,
                database.slot(key),
                database.aggregate(key),
                capacity,
            );
        }
    }

    /// An acknowledged write to `key` that this node (a promoted replica) never received: a
    /// ledger row, and a later miss on a key it would have created names `cause`.
    pub fn note_lost_write(&mut self, db: u32, key: KeyId, cause: Cause, ledger: &mut Ledger) {
        self.db_mut(db);
        let at_ms = self.now_ms_since_start();
        if !self.dbs[db as usize].contains(key) {
            self.dbs[db as usize].mark_absent_cause(key, cause, Actor::SERVER, at_ms);
        }
        let entry = self.entry(
            db,
            key,
            EntryKind::LostWrite,
            cause,
            Actor::SERVER,
            Detail::None,
        );
        ledger.record(entry, self.keys.family_of(key));
    }

    /// A later miss here on `key` (which this node does not hold) names `cause`: the write was
    /// refused or lost on another node.
    pub fn remember_absence(&mut self, db: u32, key: KeyId, cause: Cause, by: Actor) {
        self.db_mut(db);
        let at_ms = self.now_ms_since_start();
        if !self.dbs[db as usize].contains(key) {
            self.dbs[db as usize].mark_absent_cause(key, cause, by, at_ms);
        }
    }

    /// The machine fails: the process is gone until `restart`.
    pub fn crash(&mut self) {
        self.down = true;
        self.machine_down = true;
    }

    /// The process is killed; the machine stays up.
    pub fn kill(&mut self) {
        self.down = true;
        if let Some(durability) = self.durability.as_mut() {
            durability.process_died(self.now_us);
        }
    }

    /// READONLY on a replica, MASTERDOWN on a replica without its master, NOREPLICAS on a
    /// primary without enough good replicas (`processCommand`'s replication checks).
    fn replication_refusal(&mut self, request: &Request, ledger: &mut Ledger) -> Option<Reply> {
        let index = request.command as usize;
        let write = !request.command.is_read();
        if let Some(replica) = &self.replica {
            let error = if write && self.config.replica_read_only {
                ErrorReply::ReadOnly
            } else if !self.config.replica_serve_stale_data && !replica.link_up {
                ErrorReply::MasterDown
            } else {
                return None;
            };
            self.count_rejected(index, error);
            return Some(Reply::Error(error));
        }
        let required = self.config.min_replicas_to_write;
        let good = self.stream.as_ref().map_or(0, |s| s.good_replicas);
        if !write || required == 0 || self.stream.is_none() || good >= required {
            return None;
        }
        self.count_rejected(index, ErrorReply::NoReplicas);
        let at_ms = (self.now_us / 1000).min(u64::from(u32::MAX)) as u32;
        let database = &mut self.dbs[request.db as usize];
        if database.is_allocated() && !database.contains(request.key) {
            database.mark_absent_cause(
                request.key,
                Cause::NoreplicasRejected,
                request.client,
                at_ms,
            );
        }
        let entry = self.entry(
            request.db,
            request.key,
            EntryKind::Rejected,
            Cause::NoreplicasRejected,
            request.client,
            Detail::Command {
                command: request.command,
                by: request.client,
            },
        );
        ledger.record(entry, self.keys.family_of(request.key));
        Some(Reply::Error(ErrorReply::NoReplicas))
    }

    /// The process starts again from its persistence: keys changed since the last durable
    /// point go back to their durable state; without persistence the dataset is empty.
    pub fn restart(&mut self, ledger: &mut Ledger) {
        self.down = false;
        self.machine_down = false;
        self.paused = false;
        // A new process: INFO counters start again.
        self.stats = NodeStats::default();
        self.commandstats = [CommandStat::default(); STAT_SLOTS];
        self.errorstats.clear();
        let Some(durability) = self.durability.as_mut() else {
            return;
        };
        let empty = durability.config.is_none();
        let (undo, lost) = durability.crash();
        self.acknowledged_writes_lost += lost;
        let restored = Detail::Restored;
        if empty {
            for db in 0..self.dbs.len() as u32 {
                self.drop_all(db, Cause::Restart, Actor::SERVER, restored, ledger);
            }
            return;
        }
        for image in undo.into_iter().rev() {
            let (db, key) = (image.db, image.key);
            if self.dbs[db as usize].contains(key) {
                let key_len = self.key_len_for_memory(key);
                let at_ms = self.now_ms_since_start();
                self.dbs[db as usize].remove(key, key_len, Cause::Restart, Actor::SERVER, at_ms);
                if !image.slot.is_present() {
                    let entry = self.entry(
                        db,
                        key,
                        EntryKind::Removal,
                        Cause::Restart,
                        Actor::SERVER,
                        restored,
                    );
                    ledger.record(entry, self.keys.family_of(key));
                }
            }
            if image.slot.is_present() {
                let key_len = self.key_len_for_memory(key);
                let guard = ExpandGuard::UNLIMITED;
                let database = &mut self.dbs[db as usize];
                database.add(key, key_len, image.slot.kind(), image.slot.value, &guard);
                if let Some(aggregate) = image.aggregate {
                    database.insert_aggregate(key, *aggregate);
                }
                if image.slot.is_volatile() {
                    database.set_expire(
                        key,
                        image.slot.expire_ms,
                        image.slot.ttl_by(),
                        image.slot.at_ms,
                        &guard,
                    );
                }
                let slot = database.slot_mut(key);
                slot.actor = image.slot.actor;
                slot.set_lru(image.slot.lru());
            }
        }
    }

    /// Removes every key of a database, recording each with `cause` (no replication, no dirty).
    /// Returns how many keys went.
    fn drop_all(
        &mut self,
        db: u32,
        cause: Cause,
        by: Actor,
        detail: Detail,
        ledger: &mut Ledger,
    ) -> u64 {
        if !self.dbs[db as usize].is_allocated() {
            return 0;
        }
        let at_ms = self.now_ms_since_start();
        let removed = self.dbs[db as usize].flush(cause, by, at_ms);
        if let Some(reference) = self.reference.as_mut() {
            for &key in &removed {
                reference.on_remove(db, key);
            }
        }
        for &key in &removed {
            let entry = self.entry(db, key, EntryKind::Removal, cause, by, detail);
            ledger.record(entry, self.keys.family_of(key));
        }
        removed.len() as u64
    }

    /// A full resynchronisation of this replica with `primary` (`SYNC`): its dataset is
    /// replaced by the primary's; keys the primary does not have are wiped as `resync-flush`.
    /// Keys in `lost` (sorted; writes already declared lost, such as those this node accepted as
    /// a deposed primary) are wiped with the cause given there.
    pub fn full_sync_from(
        &mut self,
        primary: &Node,
        offset: u64,
        lost: &[((u32, KeyId), Cause)],
        ledger: &mut Ledger,
    ) {
        let mut wiped = Vec::new();
        for db in 0..self.dbs.len() as u32 {
            if !self.dbs[db as usize].is_allocated() {
                continue;
            }
            for key in self.dbs[db as usize].keys_in_bucket_order() {
                if !primary.contains(db, key) {
                    let cause = match lost.binary_search_by_key(&(db, key), |(k, _)| *k) {
                        Ok(found) => lost[found].1,
                        Err(_) => Cause::ResyncFlush,
                    };
                    let entry = self.entry(
                        db,
                        key,
                        EntryKind::Removal,
                        cause,
                        Actor::SERVER,
                        Detail::None,
                    );
                    ledger.record(entry, self.keys.family_of(key));
                    wiped.push((db, key, cause));
                }
            }
        }
        self.dbs = primary.dbs.clone();
        self.allocated_dbs = primary.allocated_dbs.clone();
        // A later miss here names this node's own reason: the resync wiped the key.
        let at_ms = self.now_ms_since_start();
        for (db, key, cause) in wiped {
            self.dbs[db as usize].mark_absent_cause(key, cause, Actor::SERVER, at_ms);
        }
        if let Some(replica) = self.replica.as_mut() {
            replica.processed_offset = offset;
            replica.last_io_us = self.now_us;
            replica.link_up = true;
            replica.syncing = false;
        }
        self.note_memory_peak();
    }

    /// Sends a write's resulting key state down the replication stream (removals were sent by
    /// `remove_key`).
    fn propagate_write(&mut self, request: &Request, reply: Reply) {
        // An aggregate write knows whether it changed anything (HSET of an existing field does,
        // with reply 0); otherwise the reply says.
        let changed = self.write_modified.take().unwrap_or(match reply {
            Reply::Ok => true,
            Reply::Integer(n) => n != 0 || request.command == CommandKind::Incr,
            _ => false,
        });
        let database = &self.dbs[request.db as usize];
        if !changed || !database.contains(request.key) {
            return;
        }
        let slot = database.slot(request.key);
        let op = snapshot(
            request.db,
            request.key,
            slot,
            database.aggregate(request.key),
        );
        let bytes = propagated_bytes(request, self.keys.key_len(request.key), slot.is_volatile());
        if let Some(stream) = self.stream.as_mut() {
            stream.push(op, bytes);
        }
    }

    /// Applies one entry of the master's stream, as the master client does: no expiry, no
    /// eviction, the key's state as the master had it.
    pub fn apply_replicated(&mut self, op: &ReplOp, offset: u64, ledger: &mut Ledger) {
        match op {
            ReplOp::Write {
                db,
                key,
                kind,
                value,
                expire_ms,
                writer,
                aggregate,
            } => {
                let (db, key) = (*db, *key);
                self.db_mut(db);
                let guard = ExpandGuard::UNLIMITED;
                let at_ms = self.now_ms_since_start();
                let fresh_lru = self.fresh_lru();
                let key_len = self.key_len_for_memory(key);
                let present = self.dbs[db as usize].contains(key);
                let database = &mut self.dbs[db as usize];
                if present {
                    database.remove_aggregate(key);
                    database.replace_value(key, *kind, *value);
                } else {
                    database.add(key, key_len, *kind, *value, &guard);
                    database.slot_mut(key).set_lru(fresh_lru);
                }
                if let Some(aggregate) = aggregate {
                    database.insert_aggregate(key, (**aggregate).clone());
                }
                if *expire_ms == NO_EXPIRE {
                    database.persist(key);
                } else {
                    database.set_expire(key, *expire_ms, *writer, at_ms, &guard);
                }
                database.slot_mut(key).actor = *writer;
                if !present {
                    self.track_new_key(db, key, 0);
                }
            }
            ReplOp::Del {
                db,
                key,
                cause,
                actor,
                detail,
            } => {
                if self.dbs[*db as usize].contains(*key) {
                    self.remove_key(*db, *key, *cause, *actor, *detail, ledger);
                }
            }
            ReplOp::FlushDb { db, by } => {
                self.flush_db(*db, false, *by, ledger);
            }
            ReplOp::FlushAll { by } => {
                self.flush_all(*by, ledger);
            }
            ReplOp::Ping => {}
        }
        if let Some(replica) = self.replica.as_mut() {
            replica.processed_offset = offset;
            replica.last_io_us = self.now_us;
        }
        self.note_memory_peak();
    }

    /// Whether the key is present and not logically expired (what a client reading here now
    /// would find).
    pub fn is_alive(&self, db: u32, key: KeyId) -> bool {
        let slot = self.dbs[db as usize].slot(key);
        slot.is_present() && !(slot.is_volatile() && self.unix_ms() > slot.expire_ms)
    }

    /// A key was added: reference policies start tracking it.
    fn track_new_key(&mut self, db: u32, key: KeyId, next_use: u64) {
        if let Some(reference) = self.reference.as_mut() {
            reference.on_insert(db, key, next_use);
        }
    }

    fn touch(&mut self, db: u32, key: KeyId) {
        let unix_ms = self.unix_ms();
        let policy = self.config.maxmemory_policy;
        let clock = self.lru_clock;
        let (decay, factor) = (self.config.lfu_decay_time, self.config.lfu_log_factor);
        let field = self.dbs[db as usize].slot(key).lru();
        let updated = if policy.uses_lfu() {
            lru::lfu_touch(unix_ms, field, decay, factor, &mut self.lfu_stream)
        } else {
            clock
        };
        self.dbs[db as usize].slot_mut(key).set_lru(updated);
    }

    /// The access metadata of a newly created object.
    fn fresh_lru(&self) -> u32 {
        if self.config.maxmemory_policy.uses_lfu() {
            lru::lfu_initial(self.unix_ms())
        } else {
            self.lru_clock
        }
    }

    /// Why a read found nothing (the ledger's miss classification).
    fn classify_miss(&self, request: &Request) -> (Cause, Detail) {
        let (db, key) = (request.db, request.key);
        if request.primary_has_key {
            return (Cause::ReplicaLag, Detail::None);
        }
        let slot = self.dbs[db as usize].slot(key);
        if let Some(cause) = slot.gone_cause() {
            let detail = Detail::RemovedEarlier {
                at_us: u64::from(slot.at_ms) * 1000,
                by: slot.actor,
            };
            return (cause, detail);
        }
        let now = self.unix_ms();
        for other in &self.dbs {
            if other.index != db && other.is_allocated() {
                let found = other.slot(key);
                if found.is_present() && !(found.is_volatile() && now > found.expire_ms) {
                    return (Cause::WrongDb, Detail::FoundInDb { db: other.index });
                }
            }
        }
        (Cause::NeverWritten, Detail::None)
    }

    /// Executes one client command (`processCommand` + `call`). The engine has already set the
    /// time.
    pub fn execute(&mut self, request: &Request, ledger: &mut Ledger) -> Reply {
        let index = request.command as usize;
        if let Some(refused) = self.replication_refusal(request, ledger) {
            return refused;
        }
        // replica-ignore-maxmemory yes (the default): replicas never evict.
        let evicts = self.replica.is_none() || !self.config.replica_ignore_maxmemory;
        if self.config.maxmemory_bytes != 0 && evicts {
            let out_of_memory = if self.config.maxmemory_policy.is_reference() {
                request.command.is_denyoom() && !self.make_room(request, ledger)
            } else {
                self.perform_evictions(ledger) == EvictResult::Fail
            };
            if out_of_memory && request.command.is_denyoom() {
                return self.reject_oom(request, ledger);
            }
        }
        self.count_call(index);
        let reply = if request.command.is_read() {
            self.execute_read(request, ledger)
        } else {
            self.execute_write(request, ledger)
        };
        if let Reply::Error(error) = reply {
            self.count_error(index, error, false);
        }
        if !request.command.is_read() && matches!(reply, Reply::Ok | Reply::Integer(_)) {
            if let Some(durability) = self.durability.as_mut() {
                durability.dirty += 1;
                durability.acknowledged_write();
            }
        }
        if self.stream.is_some() && !request.command.is_read() {
            self.propagate_write(request, reply);
        }
        if self.config.maxmemory_policy == crate::sim::config::MaxmemoryPolicy::Opt
            && self.config.maxmemory_bytes != 0
        {
            self.shed_reference_victims(ledger);
        }
        reply
    }

    fn execute_read(&mut self, request: &Request, ledger: &mut Ledger) -> Reply {
        let Request {
            db, key, command, ..
        } = *request;
        // TTL and EXISTS look keys up with LOOKUP_NOTOUCH.
        let no_touch = matches!(command, CommandKind::Exists | CommandKind::Ttl);
        let expired_now = {
            let slot = self.dbs[db as usize].slot(key);
            slot.is_present() && slot.is_volatile() && self.unix_ms() > slot.expire_ms
        };
        let lazy_detail =
            expired_now.then(|| self.expiry_detail(self.dbs[db as usize].slot(key), true));
        let next_use = Self::next_use_of(request);
        if !self.lookup(db, key, no_touch, next_use, ledger) {
            self.stats.keyspace_misses += 1;
            let (cause, detail) = match lazy_detail {
                Some(detail) => (Cause::Expired, detail),
                None => self.classify_miss(request),
            };
            let entry = self.entry(db, key, EntryKind::Miss, cause, request.client, detail);
            ledger.record(entry, self.keys.family_of(key));
            return Reply::Miss;
        }
        self.stats.keyspace_hits += 1;
        let slot = *self.dbs[db as usize].slot(key);
        if request.client_wrote_key
            && slot.actor != request.client
            && slot.actor.client_index().is_some()
        {
            let detail = Detail::WrittenBy { writer: slot.actor };
            let entry = self.entry(
                db,
                key,
                EntryKind::OverwrittenHit,
                Cause::Overwritten,
                request.client,
                detail,
            );
            ledger.record(entry, self.keys.family_of(key));
        }
        let type_ok = match command {
            CommandKind::Get => slot.kind().is_string(),
            CommandKind::Hget => slot.kind() == ValueKind::Hash,
            CommandKind::Lrange => slot.kind() == ValueKind::List,
            CommandKind::Smembers => slot.kind() == ValueKind::Set,
            CommandKind::Zrange => slot.kind() == ValueKind::Zset,
            _ => true,
        };
        if type_ok {
            Reply::Hit
        } else {
            Reply::Error(ErrorReply::WrongType)
        }
    }

    fn execute_write(&mut self, request: &Request, ledger: &mut Ledger) -> Reply {
        let Request {
            db,
            key,
            command,
            client,
            ..
        } = *request;
        self.db_mut(db);
        self.before_change(db, key);
        let next_use = Self::next_use_of(request);
        let present = self.lookup(db, key, false, next_use, ledger);
        match command {
            CommandKind::Set => {
                let (value, ttl_ms) = match request.argument {
                    Argument::Value { len, ttl_ms } => (self.string_value(len), ttl_ms),
                    Argument::Integer { value, ttl_ms } => {
                        ((self.integer_kind(i64::from(value)), value), ttl_ms)
                    }
                    _ => (self.string_value(0), None),
                };
                self.set_string(db, key, client, value, ttl_ms, present, ledger);
                if !present {
                    self.track_new_key(db, key, next_use);
                }
                Reply::Ok
            }
            CommandKind::Incr => {
                let reply = self.incr(db, key, client, present);
                if !present {
                    self.track_new_key(db, key, next_use);
                }
                reply
            }
            CommandKind::Del | CommandKind::Unlink => {
                if present {
                    let detail = Detail::Command {
                        command,
                        by: client,
                    };
                    let propagated = (command == CommandKind::Unlink)
                        .then(|| write_bytes("UNLINK", self.keys.key_len(key), &[]));
                    self.remove_key_propagated_as(
                        db,
                        key,
                        Cause::Deleted,
                        client,
                        detail,
                        propagated,
                        ledger,
                    );
                }
                Reply::Integer(i64::from(present))
            }
            CommandKind::Expire => {
                let ttl_ms = match request.argument {
                    Argument::Ttl { ms } => ms,
                    _ => 0,
                };
                if !present {
                    return Reply::Integer(0);
                }
                if ttl_ms == 0 {
                    // A non-positive TTL deletes as a DEL: not counted in expired_keys.
                    let detail = Detail::Command {
                        command,
                        by: client,
                    };
                    self.remove_key(db, key, Cause::Deleted, client, detail, ledger);
                } else {
                    self.apply_ttl(db, key, client, ttl_ms);
                }
                Reply::Integer(1)
            }
            CommandKind::Persist => {
                let removed = present && self.dbs[db as usize].persist(key);
                Reply::Integer(i64::from(removed))
            }
            _ => self.aggregate_write(request, present, ledger),
        }
    }

    fn apply_ttl(&mut self, db: u32, key: KeyId, by: Actor, ttl_ms: u64) {
        let deadline = self.unix_ms() + ttl_ms;
        let guard = self.expand_guard();
        let at_ms = self.now_ms_since_start();
        self.dbs[db as usize].set_expire(key, deadline, by, at_ms, &guard);
    }

    /// The encoding an integer value gets when stored now.
    fn integer_kind(&self, value: i64) -> ValueKind {
        match int_value_bytes(value, self.integers_shareable()).0 {
            StringEncoding::SharedInt => ValueKind::SharedInt,
            _ => ValueKind::Int,
        }
    }

    /// SET key value [PX ttl]: `setKey` replaces the value and clears any TTL. `value` is the
    /// slot's kind and value word.
    #[allow(clippy::too_many_arguments)]
    fn set_string(
        &mut self,
        db: u32,
        key: KeyId,
        client: Actor,
        value: (ValueKind, u32),
        ttl_ms: Option<u64>,
        present: bool,
        ledger: &mut Ledger,
    ) {
        let (kind, word) = value;
        let fresh_lru = self.fresh_lru();
        if present {
            let old = *self.dbs[db as usize].slot(key);
            let type_changed = !old.kind().is_string();
            if type_changed || old.actor != client {
                let detail = Detail::Overwrite {
                    by: client,
                    previous_writer: old.actor,
                    type_changed,
                };
                let entry = self.entry(
                    db,
                    key,
                    EntryKind::Removal,
                    Cause::Overwritten,
                    client,
                    detail,
                );
                ledger.record(entry, self.keys.family_of(key));
            }
            let database = &mut self.dbs[db as usize];
            if type_changed {
                // The aggregate's element model goes with its value.
                database.remove_aggregate(key);
            }
            database.replace_value(key, kind, word);
            database.persist(key);
            let slot = database.slot_mut(key);
            slot.actor = client;
            // dbOverwrite keeps the old LFU data; in LRU mode the new object carries "now".
            if !self.config.maxmemory_policy.uses_lfu() {
                slot.set_lru(fresh_lru);
            }
        } else {
            let guard = self.expand_guard();
            let key_len = self.key_len_for_memory(key);
            let database = &mut self.dbs[db as usize];
            database.add(key, key_len, kind, word, &guard);
            let slot = database.slot_mut(key);
            slot.actor = client;
            slot.set_lru(fresh_lru);
        }
        if let Some(ttl) = ttl_ms {
            self.apply_ttl(db, key, client, ttl);
        }
    }

    fn incr(&mut self, db: u32, key: KeyId, client: Actor, present: bool) -> Reply {
        if !present {
            let guard = self.expand_guard();
            let key_len = self.key_len_for_memory(key);
            let fresh_lru = self.fresh_lru();
            let kind = self.integer_kind(1);
            let database = &mut self.dbs[db as usize];
            database.add(key, key_len, kind, 1, &guard);
            let slot = database.slot_mut(key);
            slot.actor = client;
            slot.set_lru(fresh_lru);
            return Reply::Integer(1);
        }
        let slot = *self.dbs[db as usize].slot(key);
        if !slot.kind().is_string() {
            return Reply::Error(ErrorReply::WrongType);
        }
        if !slot.kind().is_integer() || slot.value == u32::MAX {
            return Reply::Error(ErrorReply::NotAnInteger);
        }
        let value = i64::from(slot.value) + 1;
        let kind = self.integer_kind(value);
        self.dbs[db as usize].replace_value(key, kind, value as u32);
        Reply::Integer(value)
    }

    /// HSET/HDEL/LPUSH/LPOP/SADD/SREM/ZADD/ZREM.
    fn aggregate_write(&mut self, request: &Request, present: bool, ledger: &mut Ledger) -> Reply {
        let Request {
            db,
            key,
            command,
            client,
            argument,
            ..
        } = *request;
        let wanted = match command {
            CommandKind::Hset | CommandKind::Hdel => ValueKind::Hash,
            CommandKind::Lpush | CommandKind::Lpop => ValueKind::List,
            CommandKind::Sadd | CommandKind::Srem => ValueKind::Set,
            _ => ValueKind::Zset,
        };
        let creates = matches!(
            command,
            CommandKind::Hset | CommandKind::Lpush | CommandKind::Sadd | CommandKind::Zadd
        );
        if present && self.dbs[db as usize].slot(key).kind() != wanted {
            return Reply::Error(ErrorReply::WrongType);
        }
        if !present {
            if !creates {
                return Reply::Integer(0);
            }
            let aggregate = match wanted {
                ValueKind::Hash => Aggregate::Hash(HashValue::new()),
                ValueKind::List => Aggregate::List(ListValue::new()),
                ValueKind::Set => Aggregate::Set(SetValue::new()),
                _ => Aggregate::Zset(ZsetValue::with_seed(u64::from(key.0))),
            };
            let guard = self.expand_guard();
            let key_len = self.key_len_for_memory(key);
            let fresh_lru = self.fresh_lru();
            let database = &mut self.dbs[db as usize];
            database.add(key, key_len, wanted, 0, &guard);
            database.insert_aggregate(key, aggregate);
            let slot = database.slot_mut(key);
            slot.actor = client;
            slot.set_lru(fresh_lru);
            self.track_new_key(db, key, Self::next_use_of(request));
        }
        let limits = self.limits;
        let database = &mut self.dbs[db as usize];
        let Some(aggregate) = database.aggregate_mut(key) else {
            return Reply::Integer(0);
        };
        // (the reply's count, whether the value changed: HSET of an existing field and ZADD of
        // a new score change it with a reply of 0).
        let (changed, modified) = match (aggregate, argument) {
            (Aggregate::Hash(hash), Argument::Field { id, len }) => match command {
                CommandKind::Hset => (hash.hset(id, len, &limits), true),
                _ => {
                    let removed = hash.hdel(id);
                    (removed, removed)
                }
            },
            (Aggregate::List(list), Argument::Value { len, .. }) => {
                list.lpush(len, &limits);
                (true, true)
            }
            (Aggregate::List(list), _) => {
                let popped = list.lpop().is_some();
                (popped, popped)
            }
            (Aggregate::Set(set), Argument::Member { id, .. }) => {
                let changed = match command {
                    CommandKind::Sadd => set.sadd(id, &limits),
                    _ => set.srem(id),
                };
                (changed, changed)
            }
            (Aggregate::Zset(zset), Argument::Member { id, score }) => match command {
                CommandKind::Zadd => {
                    let same_score = zset.has_score(id, score) == Some(true);
                    (zset.zadd(id, score, &limits), !same_score)
                }
                _ => {
                    let removed = zset.zrem(id);
                    (removed, removed)
                }
            },
            _ => (false, false),
        };
        self.write_modified = Some(modified);
        let (bytes, empty) = match database.aggregate(key) {
            Some(aggregate) => (aggregate.bytes(), aggregate.is_empty()),
            None => (0, true),
        };
        if empty {
            // Removing the last element deletes the key.
            let detail = Detail::Command {
                command,
                by: client,
            };
            // Replicas receive the command itself (HDEL, LPOP...), which deletes the key there.
            let propagated = propagated_bytes(request, self.keys.key_len(key), false);
            self.remove_key_propagated_as(
                db,
                key,
                Cause::Deleted,
                client,
                detail,
                Some(propagated),
                ledger,
            );
            self.write_modified = Some(false);
        } else {
            database.replace_value(key, wanted, bytes.min(u64::from(u32::MAX)) as u32);
        }
        Reply::Integer(i64::from(changed))
    }

    /// FLUSHDB (or one database of FLUSHALL): every key removed as `flushed`.
    pub fn flush_db(&mut self, db: u32, all: bool, by: Actor, ledger: &mut Ledger) -> u64 {
        if !all {
            if let Some(stream) = self.stream.as_mut() {
                stream.push(
                    ReplOp::FlushDb { db, by },
                    crate::sim::cluster::replication::resp_bytes(&[7]),
                );
            }
        }
        if !self.dbs[db as usize].is_allocated() {
            return 0;
        }
        if self.durability.is_some() {
            for key in self.dbs[db as usize].keys_in_bucket_order() {
                self.before_change(db, key);
            }
        }
        self.drop_all(db, Cause::Flushed, by, Detail::Flush { all, by }, ledger)
    }

    pub fn flush_all(&mut self, by: Actor, ledger: &mut Ledger) -> u64 {
        if let Some(stream) = self.stream.as_mut() {
            stream.push(
                ReplOp::FlushAll { by },
                crate::sim::cluster::replication::resp_bytes(&[8]),
            );
        }
        (0..self.dbs.len() as u32)
            .map(|db| self.flush_db(db, true, by, ledger))
            .sum()
    }

    /// DEL from a scheduled event: lazy expiry first, as DEL does.
    pub fn operator_del(&mut self, db: u32, keys: &[KeyId], ledger: &mut Ledger) -> u64 {
        self.count_call(CommandKind::Del as usize);
        if !self.dbs[db as usize].is_allocated() {
            return 0;
        }
        let mut removed = 0;
        for &key in keys {
            if self.lookup(db, key, true, 0, ledger) {
                self.remove_key(
                    db,
                    key,
                    Cause::Deleted,
                    Actor::OPERATOR,
                    Detail::OperatorDel,
                    ledger,
                );
                removed += 1;
            }
        }
        removed
    }

    /// Keys of `db` in bucket order (for pattern deletes).
    pub fn keys_of(&self, db: u32) -> Vec<KeyId> {
        self.dbs[db as usize].keys_in_bucket_order()
    }

    /// CONFIG SET. Lowering maxmemory starts evicting at once (`updateMaxmemory`).
    pub fn config_set(&mut self, change: ConfigChange, ledger: &mut Ledger) {
        self.count_admin(AdminCommand::ConfigSet);
        match change {
            ConfigChange::Maxmemory(bytes) => {
                self.config.maxmemory_bytes = bytes;
                if bytes != 0 && self.used_memory() > bytes {
                    self.eviction_running = true;
                    self.continue_evictions(ledger);
                }
            }
            ConfigChange::MaxmemoryPolicy(policy) => self.config.maxmemory_policy = policy,
            ConfigChange::MaxmemorySamples(samples) => self.config.maxmemory_samples = samples,
            ConfigChange::MaxmemoryEvictionTenacity(t) => {
                self.config.maxmemory_eviction_tenacity = t
            }
            ConfigChange::LfuLogFactor(f) => self.config.lfu_log_factor = f,
            ConfigChange::LfuDecayTime(t) => self.config.lfu_decay_time = t,
            ConfigChange::Hz(hz) => self.config.hz = hz,
            ConfigChange::ActiveExpireEffort(e) => self.config.active_expire_effort = e,
        }
    }

    /// Whether a key is present (not necessarily logically alive) in a database.
    pub fn contains(&self, db: u32, key: KeyId) -> bool {
        self.dbs[db as usize].contains(key)
    }

    pub fn total_keys(&self) -> u64 {
        self.dbs.iter().map(Db::key_count).sum()
    }

    pub fn total_volatile(&self) -> u64 {
        self.dbs.iter().map(Db::volatile_count).sum()
    }

    /// A key's absolute deadline, if it has one.
    pub fn expire_at_ms(&self, db: u32, key: KeyId) -> Option<u64> {
        let slot = self.dbs[db as usize].slot(key);
        (slot.is_present() && slot.expire_ms != NO_EXPIRE).then_some(slot.expire_ms)
    }
}

/// The bytes of the command a write propagates (SET becomes SET ... PXAT, EXPIRE becomes
/// PEXPIREAT), for the replication offset. Field and member names are generated as `f<id>` and
/// `m<id>`; deadlines are 13-digit Unix ms.
fn propagated_bytes(request: &Request, key_len: u64, volatile: bool) -> u64 {
    use crate::sim::keyspace::memory::decimal_len;
    let deadline = [4, 13];
    match (request.command, request.argument) {
        (CommandKind::Set, Argument::Value { len, ttl_ms }) => {
            let mut extra = vec![u64::from(len)];
            if ttl_ms.is_some() {
                extra.extend(deadline);
            }
            write_bytes("SET", key_len, &extra)
        }
        (CommandKind::Set, Argument::Integer { value, ttl_ms }) => {
            let mut extra = vec![decimal_len(u64::from(value))];
            if ttl_ms.is_some() {
                extra.extend(deadline);
            }
            write_bytes("SET", key_len, &extra)
        }
        (CommandKind::Expire, _) if volatile => write_bytes("PEXPIREAT", key_len, &[13]),
        (CommandKind::Hset, Argument::Field { id, len }) => write_bytes(
            "HSET",
            key_len,
            &[1 + decimal_len(u64::from(id)), u64::from(len)],
        ),
        (CommandKind::Hdel, Argument::Field { id, .. }) => {
            write_bytes("HDEL", key_len, &[1 + decimal_len(u64::from(id))])
        }
        (CommandKind::Lpush, Argument::Value { len, .. }) => {
            write_bytes("LPUSH", key_len, &[u64::from(len)])
        }
        (CommandKind::Zadd, Argument::Member { id, score }) => write_bytes(
            "ZADD",
            key_len,
            &[
                decimal_len(score.unsigned_abs()) + u64::from(score < 0),
                1 + decimal_len(u64::from(id)),
            ],
        ),
        // Sorted-set members are `m<id>`; set members are the decimal id.
        (CommandKind::Zrem, Argument::Member { id, .. }) => {
            write_bytes("ZREM", key_len, &[1 + decimal_len(u64::from(id))])
        }
        (command, Argument::Member { id, .. }) => {
            write_bytes(command.name(), key_len, &[decimal_len(u64::from(id))])
        }
        (command, _) => write_bytes(command.name(), key_len, &[]),
    }
}
