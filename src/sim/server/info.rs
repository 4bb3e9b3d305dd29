//! The plain-data snapshot of one simulated node that Redis's `INFO` command would describe.
//!
//! This module owns the *figures* only: the core fills a [`NodeInfo`] from its state and
//! `crate::report::info` turns it into Redis 7.0.15's text (or a JSON object). Nothing here formats,
//! derives or performs I/O. Fields carry Redis's own INFO field names wherever Redis has one, so a
//! reader can grep the Redis documentation for them; byte counts, counters and microseconds are
//! integers, and the only float is the one Redis itself keeps as a float (`expired_stale_perc`).
//! Figures Redis derives from others (`*_human`, `used_memory_dataset`, `uptime_in_days`,
//! `usec_per_call`, the fragmentation ratios…) are deliberately absent: the report layer computes
//! them exactly as Redis does, so they cannot disagree with their inputs.

/// What the node replicates from, which decides the shape of INFO's Replication section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Role {
    /// `role:master`.
    #[default]
    Master,
    /// `role:slave` (Redis 7.0 still prints "slave"), with the replica-only lines.
    Replica(MasterLink),
}

/// A replica's view of its master: the lines Redis prints between `role:slave` and
/// `connected_slaves`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterLink {
    pub master_host: String,
    pub master_port: u16,
    /// `master_link_status:up` when true. Redis also prints `master_link_down_since_seconds`
    /// whenever the link is not up.
    pub link_up: bool,
    /// Seconds since the last interaction with the master; −1 when there is no master client.
    pub master_last_io_seconds_ago: i64,
    /// `Some` while an RDB transfer is in progress (`master_sync_in_progress:1`).
    pub sync: Option<SyncTransfer>,
    pub slave_read_repl_offset: u64,
    pub slave_repl_offset: u64,
    /// Printed only while `link_up` is false; −1 when the link was never up.
    pub master_link_down_since_seconds: i64,
    pub slave_priority: u32,
    pub slave_read_only: bool,
    pub replica_announced: bool,
}

impl Default for MasterLink {
    /// A freshly configured replica that has not reached its master yet, with Redis's defaults
    /// (`replica-priority 100`, `replica-read-only yes`, `replica-announced yes`).
    fn default() -> Self {
        MasterLink {
            master_host: String::new(),
            master_port: 0,
            link_up: false,
            master_last_io_seconds_ago: -1,
            sync: None,
            slave_read_repl_offset: 0,
            slave_repl_offset: 0,
            master_link_down_since_seconds: -1,
            slave_priority: 100,
            slave_read_only: true,
            replica_announced: true,
        }
    }
}

/// An RDB transfer from the master in progress (replica side).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncTransfer {
    /// `master_sync_total_bytes`: −1 until the payload's length is known, 0 when the master
    /// streams a diskless payload of unknown size.
    pub master_sync_total_bytes: i64,
    pub master_sync_read_bytes: u64,
    pub master_sync_last_io_seconds_ago: i64,
}

/// The state Redis shows for an attached replica (`slave<N>:…,state=`). Replicas in states
/// Redis does not print (handshake) must simply be left out of [`NodeInfo::replicas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplicaState {
    /// Waiting for, or during, the BGSAVE that feeds it.
    #[default]
    WaitBgsave,
    SendBulk,
    Online,
}

impl ReplicaState {
    /// Redis's spelling in INFO.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsave => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

/// One `slave<N>:ip=…,port=…,state=…,offset=…,lag=…` line on a master. N is the position in
/// [`NodeInfo::replicas`] (Redis numbers them in attach order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicaLine {
    pub ip: String,
    /// The replica's announced listening port.
    pub port: u16,
    pub state: ReplicaState,
    /// The last offset the replica acknowledged.
    pub offset: u64,
    /// Seconds since the last ACK; Redis prints 0 unless the replica is online.
    pub lag: i64,
}

/// The replication ID a promoted node still accepts for partial resynchronisation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreviousReplication {
    /// 40 hex characters.
    pub master_replid2: String,
    pub second_repl_offset: i64,
}

/// Per-command counters (`cmdstat_<name>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandStat {
    /// Lower case, subcommands as `parent|sub`, as Redis prints them: `"get"`, `"config|set"`.
    pub name: String,
    /// Executions, including those inside MULTI/EXEC and scripts.
    pub calls: u64,
    /// Total execution time in microseconds.
    pub usec: u64,
    /// Refused before execution (OOM, NOREPLICAS, READONLY, arity…).
    pub rejected_calls: u64,
    /// Executed but replied with an error (WRONGTYPE…).
    pub failed_calls: u64,
}

/// One `db<N>:keys=…,expires=…,avg_ttl=…` line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbInfo {
    pub db: u32,
    /// Keys in the main dictionary, logically expired ones included.
    pub keys: u64,
    /// Keys with a TTL, logically expired ones included.
    pub expires: u64,
    /// Milliseconds, Redis's running estimate from active-expiry sampling (0 until sampled).
    pub avg_ttl: u64,
}

/// Everything the modelled INFO sections need about one node at one instant.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeInfo {
    // --- identity ---
    /// vanish's name for the node; Redis has no such field and INFO does not print it.
    pub node: String,
    /// "running", "down" (crashed, not restarted) or "paused" at the snapshot; a node that is
    /// not running would not answer INFO, so its figures are those it last had.
    pub process: &'static str,
    pub role: Role,
    /// 40 hex characters, fixed for the life of the process.
    pub run_id: String,
    pub tcp_port: u16,

    // --- time ---
    /// Unix time in microseconds on the virtual clock.
    pub server_time_usec: u64,
    /// Time since the process started; INFO prints whole seconds and days.
    pub uptime_us: u64,
    pub hz: u32,
    pub configured_hz: u32,
    /// `server.lruclock`: seconds on a 24-bit wrapping clock.
    pub lru_clock: u32,

    // --- clients ---
    pub connected_clients: u64,
    /// The largest query buffer and output buffer clientsCron saw in the last 8 seconds.
    pub client_recent_max_input_buffer: u64,
    pub client_recent_max_output_buffer: u64,

    // --- memory (bytes) ---
    pub used_memory: u64,
    /// The report prints `max(used_memory_peak, used_memory)`, as Redis refreshes the peak
    /// while building INFO.
    pub used_memory_peak: u64,
    pub used_memory_startup: u64,
    pub used_memory_overhead: u64,
    /// 0 = no limit.
    pub maxmemory: u64,
    /// Redis's spelling, e.g. `allkeys-lru`.
    pub maxmemory_policy: String,
    pub mem_not_counted_for_evict: u64,
    pub mem_clients_normal: u64,
    pub mem_replication_backlog: u64,
    /// The part of 7.0's shared replication buffer beyond the backlog (held for replicas).
    /// The report prints `mem_total_replication_buffers` as backlog + this.
    pub mem_clients_slaves: u64,

    // --- persistence ---
    /// `server.dirty`.
    pub rdb_changes_since_last_save: u64,
    /// Unix seconds of the last successful save (process start when none).
    pub rdb_last_save_time: i64,
    pub aof_enabled: bool,

    // --- stats ---
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub total_net_input_bytes: u64,
    pub total_net_output_bytes: u64,
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    pub expired_keys: u64,
    /// A **fraction in 0..=1**, as Redis stores `stat_expired_stale_perc`; INFO prints it ×100
    /// with two decimals.
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub expire_cycle_cpu_milliseconds: u64,
    pub evicted_keys: u64,
    /// Connections closed by `maxmemory-clients`.
    pub evicted_clients: u64,
    /// Connections refused at `maxclients`.
    pub rejected_connections: u64,
    /// Milliseconds spent over maxmemory, summed over episodes.
    pub total_eviction_exceeded_time: u64,
    /// Milliseconds of the current over-maxmemory episode (0 when under the limit).
    pub current_eviction_exceeded_time: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_error_replies: u64,

    // --- replication ---
    /// `listLength(server.slaves)`: every attached replica, including ones not in `replicas`.
    pub connected_slaves: u64,
    /// `Some` only when `min-replicas-to-write` and `min-replicas-max-lag` are both set.
    pub min_slaves_good_slaves: Option<u64>,
    /// The `slave<N>` lines, in attach order.
    pub replicas: Vec<ReplicaLine>,
    /// 40 hex characters.
    pub master_replid: String,
    /// `None` prints Redis's "none": 40 zeros and −1.
    pub previous_replication: Option<PreviousReplication>,
    pub master_repl_offset: u64,
    pub repl_backlog_active: bool,
    pub repl_backlog_size: u64,
    pub repl_backlog_first_byte_offset: u64,
    pub repl_backlog_histlen: u64,

    // --- commandstats, errorstats, keyspace (any order; the report sorts) ---
    pub commandstats: Vec<CommandStat>,
    /// Error prefix (first word of the reply, e.g. `OOM`, `WRONGTYPE`) → replies.
    pub errorstats: Vec<(String, u64)>,
    pub keyspace: Vec<DbInfo>,
}
